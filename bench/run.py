"""Run the benchmarks against the generated national dataset and print one table of figures,
each beside a baseline measured in the same run and the ratio between them.

    make bench                       # generates the dataset first if the database has none
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench \\
        .venv/bin/python bench/run.py [--only pages,divergence] [--requests 200 --concurrency 8]

- pages: dashboard, rating page and its submit, objective detail, report page: median and
  p95 server time and throughput of 8 signed-in clients against a real gunicorn (2 workers),
  and each page's query count; baseline: /bench/trivial, one indexed SELECT (bench/runner/wsgi.py).
- divergence: `round_analysis` of one trust's round against its grouped COUNT run bare.
- reports: every trust's report of last month built by a real Celery worker (prefork, 2).
- reminders: N reminders through the outbox against a bare smtplib loop, to a local sink.
- import: `manage.py import_ratings` of bench/data/ratings-1m.csv against COPY.
- memory: peak RSS of the gunicorn workers and of the Celery worker processes (sampled
  during the pages and reports runs, so `--only memory` runs those too).

The table is also written to bench/results/<YYYY-MM-DD>.md with the machine's CPU count, the
PostgreSQL version, the dataset's counts and the git commit. Servers run with production
settings on plain HTTP, Redis db 14, and files under var/bench/.
"""

import argparse
import os
import platform
import subprocess
import sys
import traceback
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.import_ratings import bench_database_url, setup_django  # noqa: E402
from bench.runner import (  # noqa: E402
    PATHS_ENV,
    REDIS_URL,
    Row,
    markdown_report,
    say,
    service_env,
    text_table,
    times,
)

SECTIONS = ("pages", "divergence", "reports", "reminders", "import", "memory")
RESULTS = ROOT / "bench" / "results"


def sections(text):
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {','.join(SECTIONS)} (got {text!r})")
    return chosen


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="cg_bench", help="database on DATABASE_URL's server; - for its own")
    parser.add_argument("--only", type=sections, default=list(SECTIONS), help=",".join(SECTIONS))
    parser.add_argument("--requests", type=int, default=200, help="requests per page load (at most 2,000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads, one signed-in person each")
    parser.add_argument("--trust", help="the trust the pages, divergence and import use (default B001, else the first)")
    parser.add_argument("--password", default="bench-password", help="the bench people's password")
    parser.add_argument("--report-trusts", type=int, help="build at most N trusts' reports (default all)")
    parser.add_argument("--reminders", type=int, default=2000, help="reminder emails to send")
    parser.add_argument("--csv", type=Path, default=ROOT / "bench" / "data" / "ratings-1m.csv")
    parser.add_argument("--import-trust", help="trust the CSV is imported into (default --trust)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the Markdown results")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 2000:
        parser.error("--requests must be between 1 and 2,000")
    if not 1 <= args.concurrency <= 64:
        parser.error("--concurrency must be between 1 and 64")
    if "memory" in args.only:
        args.only = list(dict.fromkeys([*args.only, "pages", "reports"]))
    return args


def bench_trust(code):
    from partnership.models import Trust

    trust = Trust.objects.filter(code=code.upper()).first() if code else None
    if code and trust is None:
        sys.exit(f"No trust {code} in the bench database.")
    trust = trust or Trust.objects.filter(code="B001").first() or Trust.objects.order_by("code").first()
    if trust is None:
        sys.exit("The bench database has no trust: run bench/generate.py first.")
    return trust


def run_facts(url, args, trust):
    """What the results depend on: machine, PostgreSQL, dataset, code."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from objectives.models import Objective
    from partnership.models import Membership, Trust
    from surveys.models import PulseResponse, Rating, RatingRound

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    with scopes_disabled():
        counts = {
            "trusts": Trust.objects.count(),
            "memberships": Membership.objects.count(),
            "objectives": Objective.objects.count(),
            "rounds": RatingRound.objects.count(),
            "ratings": Rating.objects.count(),
            "pulse responses": PulseResponse.objects.count(),
        }
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain"):
        commit += " (with uncommitted changes)"
    return {
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"nproc {nproc()}, {platform.platform()}, Python {platform.python_version()}",
        "load average at the start (1, 5, 15 min)": ", ".join(f"{load:.2f}" for load in os.getloadavg()),
        "PostgreSQL": f"{postgres}, database {url.rsplit('/', 1)[-1]}",
        "dataset": ", ".join(f"{n:,} {name}" for name, n in counts.items()),
        "bench trust": f"{trust.code} ({trust.name})",
        "git commit": commit,
        "command": "bench/run.py " + " ".join(sys.argv[1:]),
    }


def git(*args):
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def nproc():
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def memory_rows(pages=None, reports=None):
    rows = []
    if pages is not None and pages.web_peak_mb is not None:
        rows.append(
            Row(
                "memory: web (gunicorn worker)",
                "peak RSS (VmHWM)",
                f"{pages.web_peak_mb:,.0f} MB",
                f"{pages.web_idle_mb:,.0f} MB",
                times(pages.web_peak_mb / pages.web_idle_mb if pages.web_idle_mb else None),
                f"largest of {pages.workers} workers after the page loads; baseline: the same just after start",
            )
        )
    if reports is not None and reports.get("peak_mb") is not None:
        rows.append(
            Row(
                "memory: Celery worker process",
                "peak RSS (VmHWM)",
                f"{reports['peak_mb']:,.0f} MB",
                f"{reports['idle_mb']:,.0f} MB" if reports.get("idle_mb") else "",
                times(reports["peak_mb"] / reports["idle_mb"] if reports.get("idle_mb") else None),
                f"largest of {reports['processes']} prefork children after the report builds; baseline: idle",
            )
        )
    return rows


def main(argv=None):
    args = parse_args(argv)
    url = bench_database_url(args.database)
    os.environ.update(PATHS_ENV, REDIS_URL=REDIS_URL, CELERY_TASK_ALWAYS_EAGER="false")
    Path(PATHS_ENV["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
    setup_django(url)
    from django.core.management import call_command
    from django.utils import timezone
    from django_scopes import scope

    from bench.runner import divergence, imports, pages, reminders, reports
    from surveys.analysis import latest_closed_round

    call_command("migrate", verbosity=0)
    trust = bench_trust(args.trust)
    today = timezone.localdate()
    facts = run_facts(url, args, trust)
    say(f"Bench trust {trust.code}; {facts['dataset']}")

    rows, notes, failed = [], [], []
    pages_result = reports_memory = None

    def section(name, function):
        if name not in args.only:
            return None
        try:
            return function()
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            failed.append(name)
            rows.append(Row(name, "failed", type(exc).__name__, note=str(exc)[:300]))
            return None

    pages_result = section(
        "pages",
        lambda: pages.run(
            database_url=url,
            trust=trust,
            password=args.password,
            requests=args.requests,
            concurrency=args.concurrency,
            today=today,
        ),
    )
    if pages_result is not None:
        rows.extend(pages_result.rows)
        notes.extend(pages_result.notes)

    def divergence_rows():
        with scope(trust=trust):
            round_ = latest_closed_round(trust, today)
        if round_ is None:
            return [Row(f"divergence: {trust.code}", "round_analysis", "no closed round")]
        return divergence.run(database_url=url, trust=trust, round_=round_)

    rows.extend(section("divergence", divergence_rows) or [])

    built = section(
        "reports",
        lambda: reports.run(
            database_url=url, period=pages.last_month(today), limit=args.report_trusts, first_code=trust.code
        ),
    )
    if built is not None:
        report_rows, reports_memory = built
        rows.extend(report_rows)

    reminder_result = section("reminders", lambda: reminders.run(trust=trust, count=args.reminders, today=today))
    if reminder_result is not None:
        rows.extend(reminder_result[0])
        notes.extend(reminder_result[1])

    import_code = (args.import_trust or trust.code).upper()
    rows.extend(
        section(
            "import",
            lambda: imports.run(code=import_code, database_url=url, csv_path=args.csv.resolve(), env=service_env(url)),
        )
        or []
    )

    if "memory" in args.only:
        rows.extend(memory_rows(pages_result, reports_memory))

    facts["load average at the end (1, 5, 15 min)"] = ", ".join(f"{load:.2f}" for load in os.getloadavg())
    print()
    print(text_table(rows))
    for note in notes:
        print(f"- {note}")
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{date.today():%Y-%m-%d}.md"
    path.write_text(markdown_report(f"Benchmarks {date.today():%Y-%m-%d}", facts, rows, notes))
    say(f"\nWritten to {path}")
    if failed:
        sys.exit(f"Failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
