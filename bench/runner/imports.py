"""Import of the generated 1M-row ratings CSV: `manage.py import_ratings` as a subprocess under
GNU time -v, for rows per second and the process's peak resident memory.

Baselines from the same run: a bare COPY of the same file into a temporary table (the floor
for getting the rows in; bench/import_ratings.py's helper) and the peak memory of a Django
management process that does nothing but start (`manage.py check`).
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.import_ratings import timed_copy  # the existing import benchmark's COPY floor

from . import ROOT, Row, ratio, say, times
from .memory import parse_time_v

DEFAULT_CSV = ROOT / "bench" / "data" / "ratings-1m.csv"
GNU_TIME = Path("/usr/bin/time")


def count_rows(path):
    """Data rows of a CSV file (lines after the header; the generator writes no embedded newlines)."""
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def timed_command(args, env=None):
    """(exit status, seconds, peak RSS in kB or None, stdout, stderr) of `manage.py <args>`."""
    command = [sys.executable, "manage.py", *args]
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-v", *command]
    with tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        process = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    peak = parse_time_v(stderr).get("max_rss_kb") if GNU_TIME.exists() else None
    return process.returncode, seconds, peak, process.stdout, stderr


def failure_reason(stderr, status):
    """The command's own last error line (GNU time's report lines start with a tab)."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("\t") and not line.startswith("Command exited")
    ]
    return lines[-1] if lines else f"exit status {status}"


def mb(kb):
    return f"{kb / 1024:,.0f} MB" if kb is not None else "not measured (no /usr/bin/time)"


def import_undo(database_url, code, csv_path):
    """Delete the ratings the CSV names from the trust, then the rounds of the file's months
    left empty, so that the next run imports the same new rows again. Returns (ratings, rounds)."""
    import psycopg
    from psycopg import sql

    from objectives.models import Objective
    from partnership.models import Membership, Trust, User
    from surveys.models import DivergenceReport, PulseResponse, Rating, RatingRound

    table = {model: sql.Identifier(model._meta.db_table) for model in (Objective, Membership, Trust, User)}
    table.update({model: sql.Identifier(model._meta.db_table) for model in (Rating, RatingRound)})
    table.update({model: sql.Identifier(model._meta.db_table) for model in (PulseResponse, DivergenceReport)})
    with psycopg.connect(database_url) as conn:
        trust_id = conn.execute(sql.SQL("SELECT id FROM {} WHERE code = %s").format(table[Trust]), [code]).fetchone()
        if trust_id is None:
            return 0, 0
        conn.execute(
            "CREATE TEMP TABLE bench_import (period text, objective_ref text, rater_email text, score text, "
            "comment text) ON COMMIT DROP"
        )
        copy_sql = "COPY bench_import FROM STDIN WITH (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
            with csv_path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        months = "(SELECT DISTINCT to_date(period || '-01', 'YYYY-MM-DD') FROM bench_import)"
        ratings = conn.execute(
            sql.SQL(
                "DELETE FROM {rating} r USING bench_import i, {round} rr, {objective} o, {membership} m, {user} u "
                "WHERE rr.trust_id = %(trust)s AND rr.period = to_date(i.period || '-01', 'YYYY-MM-DD') "
                "AND r.round_id = rr.id AND o.trust_id = %(trust)s AND o.ref = i.objective_ref "
                "AND r.objective_id = o.id AND m.trust_id = %(trust)s AND m.user_id = u.id "
                "AND lower(u.email) = lower(i.rater_email) AND r.rater_id = m.id"
            ).format(
                rating=table[Rating],
                round=table[RatingRound],
                objective=table[Objective],
                membership=table[Membership],
                user=table[User],
            ),
            {"trust": trust_id[0]},
        ).rowcount
        rounds = conn.execute(
            sql.SQL(
                "DELETE FROM {round} rr WHERE rr.trust_id = %(trust)s AND rr.period IN " + months + " "
                "AND NOT EXISTS (SELECT 1 FROM {rating} r WHERE r.round_id = rr.id) "
                "AND NOT EXISTS (SELECT 1 FROM {pulse} p WHERE p.round_id = rr.id) "
                "AND NOT EXISTS (SELECT 1 FROM {report} d WHERE d.round_id = rr.id)"
            ).format(
                round=table[RatingRound],
                rating=table[Rating],
                pulse=table[PulseResponse],
                report=table[DivergenceReport],
            ),
            {"trust": trust_id[0]},
        ).rowcount
    return ratings, rounds


def run(*, code, database_url, csv_path=DEFAULT_CSV, env=None):
    label = f"import: {csv_path.name} into {code}"
    try:
        shown = csv_path.relative_to(ROOT)
    except ValueError:
        shown = csv_path
    if not csv_path.exists():
        note = f"not generated: run bench/generate.py --csv-rows 1000000 --csv-out {shown}"
        return [Row(label, "rows/s, peak RSS", "skipped", note=note)]
    rows = count_rows(csv_path)
    say(f"Import: {rows:,} rows into {code}")
    status, seconds, peak_kb, stdout, stderr = timed_command(["import_ratings", code, str(csv_path)], env)
    _, _, idle_kb, _, _ = timed_command(["check"], env)
    say("Import: COPY of the same file (floor)")
    copy_seconds, copied = timed_copy(database_url, csv_path)
    if status != 0:
        reason = failure_reason(stderr, status)
        note = f"{rows:,} rows, exited after {seconds:,.1f} s, peak {mb(peak_kb)}: {reason}"
        return [Row(label, "rows/s, peak RSS", "failed", f"COPY {copied / copy_seconds:,.0f} rows/s", "", note)]
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    summary, _, created = summary.partition("; round(s) created: ")
    if created:
        summary += f"; {len(created.split(', '))} round(s) created"
    say("Import: deleting the imported ratings again (so the next run imports them anew)")
    undone, emptied = import_undo(database_url, code, csv_path)
    summary += f"; afterwards {undone:,} ratings and {emptied:,} emptied rounds deleted again"
    return [
        Row(
            label,
            "rows/s",
            f"{rows / seconds:,.0f} rows/s",
            f"{copied / copy_seconds:,.0f} rows/s",
            times(ratio(rows / seconds, copied / copy_seconds)),
            f"{rows:,} rows in {seconds:,.1f} s (process start included); baseline: COPY into a temp table; {summary}",
        ),
        Row(
            label,
            "peak RSS of the import process",
            mb(peak_kb),
            mb(idle_kb),
            times(ratio(peak_kb, idle_kb)),
            "GNU time -v maximum resident set size; baseline: manage.py check",
        ),
    ]
