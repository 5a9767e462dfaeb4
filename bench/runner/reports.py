"""Building every trust's report for one period (analysis snapshot, CSVs and the PDF) on a real
Celery worker: prefork, two processes, the Redis broker (db 14) and a queue of its own.

The period's reports (their deliveries and PDF files with them) are deleted first, so every
run builds them all. Total wall time runs from the first enqueue until every report exists;
the per-trust time is each task's own run time from the worker's log.
"""

import re
import sys
import time
import uuid

from . import REDIS_URL, WORK_DIR, Row, ratio, say, service_env, start, stop, times, wait_for
from .memory import peak_of_children_mb

CONCURRENCY = 2
MAX_WAIT = 1800  # seconds for all builds
SUCCEEDED = re.compile(r"Task surveys\.tasks\.report_build_task\[([0-9a-f-]+)\] succeeded in ([0-9.]+)s")


def rounds_of(period, limit=None, first_code=None):
    """The closed rounds of `period` (one per trust), the bench trust's first, then by code."""
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from surveys.models import RatingRound

    with scopes_disabled():
        rounds = list(
            RatingRound.objects.filter(period=period)
            .closed_on(timezone.localdate())
            .select_related("trust")
            .order_by("trust__code")
        )
    rounds.sort(key=lambda r: r.trust.code != first_code)
    return rounds[:limit] if limit else rounds


def reports_delete(rounds):
    """Delete the rounds' reports, their deliveries and PDF files. Returns how many."""
    from django_scopes import scopes_disabled

    from surveys.models import DivergenceReport

    with scopes_disabled():
        reports = list(DivergenceReport.objects.filter(round__in=rounds))
        for report in reports:
            if report.pdf:
                report.pdf.delete(save=False)
        DivergenceReport.objects.filter(pk__in=[r.pk for r in reports]).delete()  # deliveries cascade
    return len(reports)


def reports_built(rounds):
    from django_scopes import scopes_disabled

    from surveys.models import DivergenceReport

    with scopes_disabled():
        return DivergenceReport.objects.filter(round__in=rounds).count()


class Worker:
    """`celery -A partnership worker` on its own queue, logging to a file."""

    def __init__(self, database_url, queue, concurrency=CONCURRENCY):
        self.database_url, self.queue, self.concurrency = database_url, queue, concurrency
        self.log = WORK_DIR / f"celery-{queue}.log"
        self.process = None
        self.node = f"bench-{queue}@localhost"

    def __enter__(self):
        from partnership.celery import app

        command = [sys.executable, "-m", "celery", "-A", "partnership", "worker", "-Q", self.queue]
        command += [f"--concurrency={self.concurrency}", "--pool=prefork", "--loglevel=INFO", "-n", self.node]
        command += ["--without-gossip", "--without-mingle"]
        say(f"Starting a Celery worker (prefork, {self.concurrency} processes) on queue {self.queue}; log {self.log}")
        self.process = start(command, env=service_env(self.database_url), log=self.log)
        if not wait_for(lambda: self._ready(app), 90, interval=0.5):
            stop(self.process)
            raise RuntimeError(f"the Celery worker did not answer a ping within 90 s; see {self.log}")
        return self

    def _ready(self, app):
        if self.process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {self.process.returncode}; see {self.log}")
        return bool(app.control.ping(destination=[self.node], timeout=0.5))

    def __exit__(self, *exc):
        stop(self.process, timeout=60)

    def children_peak_mb(self):
        return peak_of_children_mb(self.process.pid)

    def task_seconds(self, task_ids):
        """{task id: run time in seconds} of the tasks the worker has logged as succeeded."""
        wanted = set(task_ids)
        found = {}
        for match in SUCCEEDED.finditer(self.log.read_text(errors="replace")):
            if match.group(1) in wanted:
                found[match.group(1)] = float(match.group(2))
        return found


def run(*, database_url, period, limit=None, first_code=None):
    from surveys.tasks import report_build_task

    rounds = rounds_of(period, limit, first_code)
    if not rounds:
        return [Row(f"reports: {period:%Y-%m}", "build all", "no closed round of that period")], None
    deleted = reports_delete(rounds)
    say(f"Reports: deleted {deleted} earlier {period:%Y-%m} report(s); building {len(rounds)}")
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    with Worker(database_url, queue) as worker:
        idle_mb, _ = worker.children_peak_mb()
        started = time.perf_counter()
        task_ids = [report_build_task.apply_async(args=[r.pk], queue=queue).id for r in rounds]
        done = wait_for(lambda: reports_built(rounds) == len(rounds), MAX_WAIT, interval=0.1)
        total = time.perf_counter() - started
        wait_for(lambda: len(worker.task_seconds(task_ids)) == len(task_ids), 10, interval=0.2)
        task_seconds = worker.task_seconds(task_ids)
        peak_mb, processes = worker.children_peak_mb()
    built = reports_built(rounds)
    label = f"reports: {period:%Y-%m}, {len(rounds)} trusts"
    broker = REDIS_URL.rsplit("/", 1)[-1]
    if not done:
        note = f"only {built} of {len(rounds)} built within {MAX_WAIT} s; see {worker.log}"
        return [Row(label, "build all (data + PDF)", "incomplete", note=note)], None
    per_task = sum(task_seconds.values()) / len(task_seconds) if task_seconds else None
    # The floor for the total: the tasks' own run times split perfectly over the processes.
    ideal = sum(task_seconds.values()) / CONCURRENCY if len(task_seconds) == len(task_ids) else None
    rows = [
        Row(
            label,
            "build all (data + PDF), total wall time",
            f"{total:,.2f} s",
            f"{ideal:,.2f} s" if ideal is not None else "",
            times(ratio(total, ideal)),
            f"Celery prefork, workers={CONCURRENCY}, Redis db {broker}; from the first enqueue to the last report; "
            f"baseline: the tasks' own run times split evenly over {CONCURRENCY} processes",
        ),
        Row(
            label,
            "per trust: mean task time",
            f"{per_task:,.2f} s" if per_task is not None else "not logged",
            note=f"{len(task_seconds)} tasks' own run times (worker log); wall time per trust "
            f"{total / len(rounds):,.2f} s",
        ),
    ]
    memory = {"peak_mb": peak_mb, "idle_mb": idle_mb, "processes": processes}
    return rows, memory
