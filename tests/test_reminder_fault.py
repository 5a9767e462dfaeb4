"""Fault tests: a worker process is killed (SIGKILL) in the middle of a reminder fan-out, and in
the middle of sending a board report.

A real Celery worker process (prefork), the configured broker (Redis in CI, the embedded file
broker locally), the test database, and an SMTP sink on 127.0.0.1 that holds the 11th
message until the worker has been killed and then refuses it (the client never saw a 250).
After the sweep and a restarted worker, every person has exactly one email.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from partnership.celery import app
from surveys.models import DivergenceReport, OutboxStatus, ReminderKind, ReminderLog, ReportDelivery
from surveys.outbox import outbox_sweep
from surveys.services.reports import report_build
from surveys.services.rounds import round_get_or_create
from surveys.tasks import reminders_send_batch_task, report_build_task, report_deliveries_send_batch_task
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 30
HOLD_AT = 10  # the sink accepts 10 messages, then holds the 11th
ROOT = Path(__file__).resolve().parents[1]


class HoldingSink:
    """An SMTP server that records recipients and can hold one message mid-DATA."""

    def __init__(self, hold_at):
        self.hold_at = hold_at
        self.accepted = []
        self.attempts = 0
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts == self.hold_at + 1:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return "451 4.3.0 Try again later"  # never accepted: its sender was killed meanwhile
        self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url():
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(queue, smtp_port):
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    command = [sys.executable, "-m", "celery", "-A", "partnership", "worker", "-Q", queue]
    command += ["--pool=prefork", "--concurrency=1", "--loglevel=WARNING", "--without-heartbeat", "--without-gossip"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop(process, sig):
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=30)


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def statuses(model=ReminderLog):
    with scopes_disabled():
        return sorted(model.objects.values_list("status", flat=True))


@pytest.fixture
def fan_out(trust):
    """An open round and a pending round-open reminder for each of PEOPLE raters."""
    today = timezone.localdate()
    round_ = round_get_or_create(trust=trust, period=today.replace(day=1))
    round_.opens_on, round_.closes_on = today - timedelta(days=1), today + timedelta(days=20)
    ObjectiveFactory(trust=trust, status="agreed")
    with scopes_disabled():
        round_.save()
        people = [MembershipFactory(trust=trust, user__email=f"rater{i:02d}@ashby.nhs.uk") for i in range(PEOPLE)]
        ReminderLog.objects.bulk_create(
            ReminderLog(trust=trust, round=round_, membership=m, kind=ReminderKind.ROUND_OPEN) for m in people
        )
    return sorted(m.user.email for m in people)


def test_a_worker_killed_mid_fan_out_leaves_everyone_with_exactly_one_email(fan_out, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    queue = f"fault-{uuid.uuid4().hex[:8]}"  # this test's own queue: no other run's messages
    sink = HoldingSink(HOLD_AT)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    first = second = None
    try:
        first = start_worker(queue, port)
        reminders_send_batch_task.apply_async(queue=queue)
        assert sink.holding.wait(90), f"the worker never reached message {HOLD_AT + 1}: {statuses()}"

        stop(first, signal.SIGKILL)  # mid-send: no chance to mark anything
        sink.release.set()
        assert len(sink.accepted) == HOLD_AT
        assert statuses().count(OutboxStatus.SENT) == HOLD_AT
        assert statuses().count(OutboxStatus.SENDING) == PEOPLE - HOLD_AT  # claimed, then orphaned

        assert outbox_sweep(ReminderLog, stuck_after=timedelta(0)) == PEOPLE - HOLD_AT
        second = start_worker(queue, port)
        reminders_send_batch_task.apply_async(queue=queue)
        assert wait_for(lambda: statuses().count(OutboxStatus.SENT) == PEOPLE), statuses()
    finally:
        sink.release.set()
        for worker in (first, second):
            if worker is not None:
                stop(worker, signal.SIGTERM)
        controller.stop()
        app.conf.task_always_eager = True

    assert sorted(sink.accepted) == fan_out  # everyone, once


@pytest.fixture
def board_report(trust):
    """A closed round with ratings, and PEOPLE board-report recipients."""
    round_ = round_get_or_create(trust=trust, period=timezone.localdate().replace(day=1, year=2025))
    ObjectiveFactory(trust=trust, status="agreed")
    with scopes_disabled():
        people = [
            MembershipFactory(trust=trust, receives_board_report=True, user__email=f"board{i:02d}@ashby.nhs.uk")
            for i in range(PEOPLE)
        ]
    return round_, sorted(m.user.email for m in people)


def test_a_worker_killed_mid_report_sends_no_duplicate_and_no_second_report(board_report, settings):
    round_, recipients = board_report
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    queue = f"fault-{uuid.uuid4().hex[:8]}"
    sink = HoldingSink(HOLD_AT)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    first = second = None
    try:
        first = start_worker(queue, port)
        report_build_task.apply_async(args=(round_.pk,), queue=queue)
        assert wait_for(lambda: statuses(ReportDelivery).count(OutboxStatus.PENDING) == PEOPLE, 120), statuses(
            ReportDelivery
        )
        report_deliveries_send_batch_task.apply_async(queue=queue)
        assert sink.holding.wait(90), f"the worker never reached message {HOLD_AT + 1}"

        stop(first, signal.SIGKILL)
        sink.release.set()
        assert statuses(ReportDelivery).count(OutboxStatus.SENT) == HOLD_AT

        # A second build (a retried or doubled task) returns the same report and adds no delivery.
        with scopes_disabled():
            assert report_build(round=round_).pk == DivergenceReport.objects.get().pk
        assert len(statuses(ReportDelivery)) == PEOPLE

        outbox_sweep(ReportDelivery, stuck_after=timedelta(0))
        second = start_worker(queue, port)
        report_deliveries_send_batch_task.apply_async(queue=queue)
        assert wait_for(lambda: statuses(ReportDelivery).count(OutboxStatus.SENT) == PEOPLE), statuses(ReportDelivery)
    finally:
        sink.release.set()
        for worker in (first, second):
            if worker is not None:
                stop(worker, signal.SIGTERM)
        controller.stop()
        app.conf.task_always_eager = True

    assert sorted(sink.accepted) == recipients  # every board member, once
    with scopes_disabled():
        assert DivergenceReport.objects.count() == 1
