"""The pieces of `bench/run.py`: shared maths, the results table and process helpers here;
one module per benchmark (pages, divergence, reports, reminders, imports) and memory.py.

Nothing in this file imports Django, so the bench WSGI module (bench/runner/wsgi.py) and the
tests can import it cheaply.
"""

import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK_DIR = ROOT / "var" / "bench"  # logs, static files and media of the bench processes
REDIS_URL = "redis://127.0.0.1:6379/14"
# The runner, gunicorn, the worker and build_reports share these (set before Django starts).
PATHS_ENV = {"STATIC_ROOT": str(WORK_DIR / "static"), "MEDIA_ROOT": str(WORK_DIR / "media")}


# --- Statistics ---------------------------------------------------------------------------------


def percentile(values, share):
    """The `share` (0..1) percentile of `values`, linear between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= share <= 1:
        raise ValueError(f"share {share} is not between 0 and 1")
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values):
    return percentile(values, 0.5)


def ratio(value, baseline):
    """value / baseline, or None when either is missing or the baseline is zero."""
    if value is None or baseline in (None, 0):
        return None
    return value / baseline


# --- The results table --------------------------------------------------------------------------


@dataclass
class Row:
    """One figure of the table: what was measured, its value, the same run's baseline and the
    ratio (all already formatted), and a note saying how it was measured."""

    benchmark: str
    figure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    note: str = ""


COLUMNS = ("benchmark", "figure", "value", "baseline", "ratio", "note")


def times(value):
    """A ratio as text: '12.3×', '0.0176×' (three significant figures), '1,110×'; blank for None."""
    if value is None:
        return ""
    return f"{value:,.0f}×" if value >= 100 else f"{value:.3g}×"


def ms(seconds):
    return f"{seconds * 1000:,.1f} ms"


def _cells(row):
    return [str(getattr(row, column)) for column in COLUMNS]


def text_table(rows):
    """The rows as aligned plain-text columns (for the terminal)."""
    lines = [list(COLUMNS)] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def _md_cell(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(rows):
    """The rows as a GitHub-flavoured Markdown table (pipes in cells escaped)."""
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += ["| " + " | ".join(_md_cell(cell) for cell in _cells(row)) + " |" for row in rows]
    return "\n".join(out)


def markdown_report(title, facts, rows, notes=()):
    """The results file: a title, a bullet list of facts about the run, the table, notes."""
    parts = [f"# {title}", "", *[f"- {key}: {value}" for key, value in facts.items()], "", markdown_table(rows)]
    if notes:
        parts += ["", *[f"- {note}" for note in notes]]
    return "\n".join(parts) + "\n"


# --- Processes ----------------------------------------------------------------------------------


def say(message, end="\n"):
    print(message, end=end, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, seconds, interval=0.1):
    """Poll `condition` until it is true (returns True) or `seconds` pass (returns False)."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def service_env(database_url, **extra):
    """Environment for a bench server process (gunicorn, celery): production settings on
    plain HTTP, the bench database, Redis db 14, the bench's own static and media folders."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **PATHS_ENV,
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def start(command, *, env, log):
    """Start a server process in its own session (so that it and its children stop together),
    its output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        handle.close()


def stop(process, timeout=30):
    """TERM the process's session and wait; KILL it if it does not go."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass
