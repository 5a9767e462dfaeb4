"""Reminder fan-out: the outbox (claim a batch of 50, build each email, send over one SMTP
connection, mark each row) against a bare smtplib loop sending the same pre-built messages
over one connection, both to a local SMTP sink that accepts and counts.

The runner makes N round-open ReminderLog rows for raters of the open rounds (the bench
trust's first, then other trusts' as needed), and deletes those rounds' reminder rows before
and after, so a run leaves the reminder state as it found it (none).
"""

import logging
import smtplib
import threading
import time
from dataclasses import dataclass

from . import Row, free_port, ratio, say, times

BATCH_SIZE = 50


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 (in a thread) that accepts every message and counts."""

    def __init__(self):
        self.count = 0
        self.port = None
        self._lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.count += 1
        return "250 OK"

    def __enter__(self):
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()


@dataclass
class FanoutResult:
    n: int
    outbox_seconds: float
    outbox_sent: int
    smtplib_seconds: float
    smtplib_sent: int
    sink_count: int

    @property
    def outbox_rate(self):
        return self.outbox_sent / self.outbox_seconds if self.outbox_seconds else None

    @property
    def smtplib_rate(self):
        return self.smtplib_sent / self.smtplib_seconds if self.smtplib_seconds else None


def smtplib_send(messages, port):
    """Send pre-built (from, [to], bytes) messages over one connection; returns how many."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for sender, recipients, data in messages:
            smtp.sendmail(sender, recipients, data)
    return len(messages)


def outbox_send(round_ids, batch_size=BATCH_SIZE):
    """Claim and deliver the rounds' pending reminders, batch by batch, as the send task does.
    Returns (sent, failed)."""
    from surveys.models import ReminderLog
    from surveys.outbox import outbox_claim, outbox_deliver
    from surveys.services.reminders import reminder_message

    sent = failed = 0
    while rows := outbox_claim(ReminderLog, limit=batch_size, filters={"round_id__in": round_ids}):
        batch_sent, batch_failed = outbox_deliver(ReminderLog, rows, reminder_message)
        sent, failed = sent + batch_sent, failed + batch_failed
    return sent, failed


def fanout_compare(rows, batch_size=BATCH_SIZE):
    """Time the smtplib floor and then the outbox over the pending ReminderLog `rows` (their
    rounds must be open and hold no other pending reminders)."""
    from django.test.utils import override_settings

    from surveys.services.reminders import reminder_message

    round_ids = sorted({row.round_id for row in rows})
    built = [reminder_message(row) for row in rows]
    if any(message is None for message in built):
        raise RuntimeError("some reminders are not due (finished, opted out, or the round is closed)")
    # As Django's SMTP backend serialises them: CRLF line ends (SMTP's own).
    messages = [(m.from_email, m.recipients(), m.message().as_bytes(linesep="\r\n")) for m in built]
    with SmtpSink() as sink:
        start = time.perf_counter()
        smtplib_sent = smtplib_send(messages, sink.port)
        smtplib_seconds = time.perf_counter() - start
        smtp = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": sink.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 30,
        }
        with override_settings(**smtp):
            start = time.perf_counter()
            outbox_sent, failed = outbox_send(round_ids, batch_size)
            outbox_seconds = time.perf_counter() - start
        if failed:
            raise RuntimeError(f"{failed} reminder(s) failed to send to the sink")
    return FanoutResult(len(rows), outbox_seconds, outbox_sent, smtplib_seconds, smtplib_sent, sink.count)


def reminder_rows(trusts, count, today):
    """Create `count` pending round-open reminders for raters who have not finished rating,
    in each trust's open round (made open if need be), trust after trust. Every earlier
    reminder of those rounds is deleted first. Returns (rows, rounds, notes)."""
    from django_scopes import scopes_disabled

    from partnership.models import Membership, Role
    from surveys.models import ReminderKind, ReminderLog
    from surveys.services.reminders import rating_progress

    from .pages import open_round

    rows, rounds, notes = [], [], []
    with scopes_disabled():
        for trust in trusts:
            if len(rows) >= count:
                break
            round_, note = open_round(trust, today)
            notes += [note] if note else []
            ReminderLog.objects.filter(round=round_).delete()
            members = list(
                Membership.objects.filter(trust=trust, is_active=True, receives_reminders=True, user__is_active=True)
                .exclude(role=Role.ADMINISTRATOR)
                .order_by("pk")
            )
            progress = rating_progress(round_, members)
            due = [m for m in members if progress[m.pk][0] < progress[m.pk][1]][: count - len(rows)]
            if not due:
                continue
            rounds.append(round_)
            rows += ReminderLog.objects.bulk_create(
                ReminderLog(trust_id=trust.pk, round=round_, membership=m, kind=ReminderKind.ROUND_OPEN) for m in due
            )
    return rows, rounds, notes


def reminders_delete(rounds):
    from django_scopes import scopes_disabled

    from surveys.models import ReminderLog

    with scopes_disabled():
        ReminderLog.objects.filter(round__in=rounds).delete()


def run(*, trust, count, today):
    from partnership.models import Trust

    trusts = [trust, *Trust.objects.exclude(pk=trust.pk).order_by("code")]
    rows, rounds, notes = reminder_rows(trusts, count, today)
    say(f"Reminders: {len(rows)} pending in {len(rounds)} open round(s); sending to the SMTP sink")
    try:
        result = fanout_compare(rows)
    finally:
        reminders_delete(rounds)
    label = f"reminders: {result.n:,} emails"
    if result.n < count:
        notes.append(f"only {result.n:,} raters had reminders due (asked for {count:,})")
    note = (
        f"baseline: bare smtplib over one connection, same {result.smtplib_sent:,} pre-built messages; "
        f"outbox: batches of {BATCH_SIZE}, one connection each; {len(rounds)} round(s); "
        f"sink received {result.sink_count:,}"
    )
    return [
        Row(
            label,
            "outbox_claim/outbox_deliver, emails/s",
            f"{result.outbox_rate:,.0f}/s ({result.outbox_seconds:,.2f} s)",
            f"{result.smtplib_rate:,.0f}/s ({result.smtplib_seconds:,.2f} s)",
            times(ratio(result.outbox_rate, result.smtplib_rate)),
            note,
        )
    ], notes
