"""Benchmark `manage.py import_ratings` on PostgreSQL against a bare COPY of the same rows.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/commonground \\
        .venv/bin/python bench/import_ratings.py --rows 100000

The server and credentials come from DATABASE_URL; the database is a throwaway one, `cg_bench`
by default (created with psycopg if missing, then migrated). `--database -` uses DATABASE_URL's
own database instead. In it the script creates, or reuses, a trust BENCH with --members people
in --directorates directorates and --objectives agreed objectives (half trust-wide, half spread
over the directorates); clears the trust's rounds and ratings from earlier runs; writes a CSV
of --rows ratings, every one of them entitled (members rate the trust-wide objectives and their
directorate's), month by month back from last month; then times:

- the first import (every row new, the rounds created),
- a re-import of the same file (nothing written),
- a re-import with 1% of the scores changed (those rows updated),
- the floor: a bare COPY of the same file into a temporary table through psycopg,

and prints rows/s, the peak resident memory of this process after each step (getrusage
ru_maxrss, which only ever grows) and each step's time as a multiple of the COPY.
Django's query log is switched off (settings.DEBUG = False after setup) so that the memory
figures are the import's own.
"""

import argparse
import io
import os
import random
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TRUST_CODE = "BENCH"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="ratings in the CSV (the import's limit is 100,000)")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--directorates", type=int, default=5)
    parser.add_argument("--objectives", type=int, default=20)
    parser.add_argument("--database", default="cg_bench", help="database name on DATABASE_URL's server; - for its own")
    parser.add_argument("--csv", type=Path, default=ROOT / "var" / "bench_ratings.csv", help="where to write the CSV")
    parser.add_argument("--seed", type=int, default=2015)
    return parser.parse_args(argv)


def say(message, end="\n"):
    print(message, end=end, file=sys.stderr, flush=True)


def bench_database_url(database):
    """DATABASE_URL pointed at `database` (created if missing), or as it is for '-'."""
    import psycopg
    from psycopg import sql

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"The benchmark needs PostgreSQL; DATABASE_URL is {parts.scheme}://...")
    if database == "-":
        return url
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone() is None:
            say(f"Creating database {database}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return urlunsplit(parts._replace(path=f"/{database}"))


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnership.settings")
    os.environ.setdefault("DEBUG", "true")  # development settings: no SECRET_KEY needed
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log (it would hold every 5,000-row INSERT in memory)


def bench_trust(args):
    """The BENCH trust with at least the asked-for directorates, members and objectives; its
    earlier rounds (and so ratings) deleted. Returns (trust, [(email, directorate id)], objectives)."""
    from django.core.management import call_command
    from django_scopes import scope

    from objectives.models import Objective
    from partnership.models import Directorate, Membership, Trust, User
    from surveys.models import RatingRound

    say("Migrating the bench database")
    call_command("migrate", verbosity=0)
    trust, created = Trust.objects.get_or_create(code=TRUST_CODE, defaults={"name": "Benchmark NHS Trust"})
    say(f"{'Created' if created else 'Reusing'} trust {TRUST_CODE}")
    with scope(trust=trust):
        deleted, _ = RatingRound.objects.filter(trust=trust).delete()
        if deleted:
            say(f"Deleted {deleted:,} rounds, ratings and responses of an earlier run")
        names = [f"Directorate {n:02d}" for n in range(args.directorates)]
        Directorate.objects.bulk_create([Directorate(trust=trust, name=name) for name in names], ignore_conflicts=True)
        directorates = list(Directorate.objects.filter(name__in=names).order_by("name"))

        emails = [f"bench{n:06d}@bench.nhs.uk" for n in range(args.members)]
        User.objects.bulk_create(
            [User(email=email, full_name=f"Bench person {n}", password="!") for n, email in enumerate(emails)],
            batch_size=5000,
            ignore_conflicts=True,
        )
        users = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
        shapes = [  # (role, professional group, level, in a directorate)
            ("consultant", "clinical", "operational", True),
            ("clinical_director", "clinical", "operational", True),
            ("directorate_manager", "managerial", "operational", True),
            ("board_member", "managerial", "board", False),
        ]
        memberships = []
        for n, email in enumerate(emails):
            role, group, level, in_directorate = shapes[n % len(shapes)]
            directorate = directorates[n % len(directorates)] if in_directorate and directorates else None
            memberships.append(
                Membership(
                    user_id=users[email],
                    trust=trust,
                    role=role,
                    professional_group=group,
                    level=level,
                    directorate=directorate,
                )
            )
        Membership.objects.bulk_create(memberships, batch_size=5000, ignore_conflicts=True)
        raters = list(
            Membership.objects.filter(user__email__in=emails)
            .exclude(role="administrator")
            .order_by("user__email")
            .values_list("user__email", "directorate_id")
        )

        refs = [f"BENCH-{n:03d}" for n in range(args.objectives)]
        Objective.objects.bulk_create(
            [
                Objective(
                    trust=trust,
                    ref=ref,
                    title=f"Benchmark objective {n}",
                    theme="dialogue",
                    status="agreed",
                    directorate=None if n % 2 == 0 or not directorates else directorates[n // 2 % len(directorates)],
                )
                for n, ref in enumerate(refs)
            ],
            ignore_conflicts=True,
        )
        objectives = list(Objective.objects.filter(ref__in=refs).order_by("ref").values_list("ref", "directorate_id"))
    say(f"{len(directorates)} directorates, {len(raters):,} raters, {len(objectives)} objectives")
    return trust, raters, objectives


def months_back(start, count):
    year, month = start.year, start.month
    for _ in range(count):
        yield f"{year:04d}-{month:02d}"
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def write_csv(path, rows, raters, objectives, seed, change_share=0.0):
    """Write `rows` entitled ratings; with `change_share`, that share of scores differ (same seed)."""
    import csv
    from datetime import date

    rng, change = random.Random(seed), random.Random(seed + 1)
    trust_wide = [ref for ref, directorate in objectives if directorate is None]
    by_directorate = {}
    for ref, directorate in objectives:
        if directorate is not None:
            by_directorate.setdefault(directorate, []).append(ref)
    pairs = [(email, ref) for email, directorate in raters for ref in trust_wide + by_directorate.get(directorate, [])]
    if not pairs:
        sys.exit("No rater has an objective to rate.")
    today = date.today()
    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    periods = months_back(last_month, -(-rows // len(pairs)))
    path.parent.mkdir(parents=True, exist_ok=True)
    written = changed = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["period", "objective_ref", "rater_email", "score", "comment"])
        for period in periods:
            for email, ref in pairs:
                if written == rows:
                    break
                score = "" if rng.random() < 0.08 else rng.randint(1, 5)
                comment = f"Comment {written} on {ref}, {period}" if rng.random() < 0.2 else ""
                if change_share and change.random() < change_share:
                    score = 1 if score == 5 else (score or 0) + 1
                    changed += 1
                writer.writerow([period, ref, email, score, comment])
                written += 1
                if written % 10_000 == 0 or written == rows:
                    say(f"Generated {written:,}/{rows:,} rows", end="\r" if written < rows else "\n")
    return changed


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def timed_import(path):
    from django.core.management import call_command

    out = io.StringIO()
    start = time.perf_counter()
    call_command("import_ratings", TRUST_CODE, str(path), stdout=out, stderr=sys.stderr)
    seconds = time.perf_counter() - start
    summary = out.getvalue().strip()
    say(summary)
    counts, _, rounds = summary.split(": ", 1)[-1].partition("; round(s) created: ")
    return seconds, counts + (f"; {len(rounds.split(', '))} round(s) created" if rounds else "")


def timed_copy(url, path):
    """Seconds to COPY the CSV into a temporary table: the floor for getting rows in."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TEMP TABLE bench_copy (period text, objective_ref text, rater_email text, score smallint, "
            "comment text)"
        )
        start = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        seconds = time.perf_counter() - start
        count = conn.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
    return seconds, count


def main(argv=None):
    args = parse_args(argv)
    url = bench_database_url(args.database)
    setup_django(url)
    from django_scopes import scopes_disabled

    from surveys.models import Rating

    trust, raters, objectives = bench_trust(args)
    write_csv(args.csv, args.rows, raters, objectives, args.seed)
    changed_csv = args.csv.with_name(args.csv.stem + "_changed.csv")
    changed = write_csv(changed_csv, args.rows, raters, objectives, args.seed, change_share=0.01)
    say(f"CSV: {args.csv} ({args.csv.stat().st_size / 1e6:.1f} MB); {changed:,} scores differ in {changed_csv.name}")

    results = [("(before importing)", None, None, peak_mb(), "")]
    for label, path in (
        ("import_ratings, first import", args.csv),
        ("import_ratings, re-import (same file)", args.csv),
        ("import_ratings, re-import (1% changed)", changed_csv),
    ):
        say(f"--- {label}")
        seconds, summary = timed_import(path)
        results.append((label, seconds, args.rows, peak_mb(), summary))
    with scopes_disabled():
        stored = Rating.objects.filter(trust=trust).count()
    if stored != args.rows:
        sys.exit(f"Expected {args.rows:,} stored ratings, found {stored:,}")
    copy_seconds, copied = timed_copy(url, args.csv)
    results.append(("COPY into a temp table (floor)", copy_seconds, copied, peak_mb(), ""))

    print()
    print(
        f"PostgreSQL {urlsplit(url).path.lstrip('/')}; {args.rows:,} rows, {len(raters):,} raters, "
        f"{len(objectives)} objectives"
    )
    header = f"{'step':<40} {'seconds':>8} {'rows/s':>10} {'x COPY':>7} {'peak RSS MB':>12}  result"
    print(header)
    print("-" * len(header))
    for label, seconds, rows, rss, summary in results:
        if seconds is None:
            print(f"{label:<40} {'':>8} {'':>10} {'':>7} {rss:>12.0f}")
            continue
        print(
            f"{label:<40} {seconds:>8.2f} {rows / seconds:>10,.0f} {seconds / copy_seconds:>7.1f} {rss:>12.0f}  "
            f"{summary}"
        )


if __name__ == "__main__":
    main()
