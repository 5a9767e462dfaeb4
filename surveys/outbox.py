"""Claim, send, mark: the delivery loop for every row-backed email (reminders, report
deliveries). What is due lives in the database; workers only pick it up.

- `outbox_claim` moves up to `limit` due rows from pending to sending under a fresh claim
  token, in one short transaction (`select_for_update(skip_locked=True)` where the database
  has it, and a conditional UPDATE that only pending rows match), then returns exactly the
  rows that carry its token. Two workers, a retried task or a doubled beat can never hold
  the same row.
- `outbox_deliver` sends the claimed rows over one SMTP connection and marks each sent, or
  puts it back to pending with a backoff (failed after MAX_ATTEMPTS), recording the error.
- `outbox_sweep` returns rows stuck in "sending" (their worker died) to pending after
  STUCK_AFTER, so a killed worker's rows go out once the next tick claims them.

The remaining window is the classic one: a worker killed after the SMTP server accepted a
message but before the row was marked sent. That row is re-sent after the sweep; it is a
few milliseconds wide per message, against hours of "never sent" without a sweeper.
"""

import logging
import uuid
from datetime import timedelta

from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from .models import OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=15)
BATCH_SIZE = 50


def backoff(attempts):
    """Wait before the next attempt: 2, 4, 8, 16 ... minutes, at most an hour."""
    return timedelta(minutes=min(60, 2**attempts))


def outbox_claim(model, *, limit=BATCH_SIZE, now=None, filters=None):
    """Claim up to `limit` due rows of `model`; returns them (with a fresh claim token)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with scopes_disabled(), transaction.atomic():
        due = model.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now, **(filters or {}))
        ids = list(
            due.order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        model.objects.filter(pk__in=ids, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, claim_token=token, claimed_at=now
        )
    with scopes_disabled():
        return list(model.objects.filter(claim_token=token, status=OutboxStatus.SENDING))


def outbox_deliver(model, rows, build_message, *, now=None):
    """Send each claimed row's message (one SMTP connection for the batch); mark each row.

    `build_message(row)` returns an EmailMessage, or None to cancel the row (no longer due,
    e.g. the person finished rating). Returns (sent, failed) counts.
    """
    sent = failed = 0
    if not rows:
        return sent, failed
    connection = get_connection()
    try:
        connection.open()
        for row in rows:
            try:
                message = build_message(row)
                if message is None:
                    _mark(model, row, status=OutboxStatus.CANCELLED)
                    continue
                message.connection = connection
                message.send()
            except Exception as exc:  # recorded on the row; the loop goes on with the others
                failed += 1
                attempts = row.attempts + 1
                logger.warning("Sending %s %s failed (attempt %d): %s", model.__name__, row.pk, attempts, exc)
                _mark(
                    model,
                    row,
                    status=OutboxStatus.FAILED if attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING,
                    attempts=attempts,
                    next_attempt_at=(now or timezone.now()) + backoff(attempts),
                    last_error=f"{type(exc).__name__}: {exc}"[:500],
                )
            else:
                sent += 1
                _mark(model, row, status=OutboxStatus.SENT, sent_at=timezone.now(), attempts=row.attempts + 1)
    finally:
        connection.close()
    return sent, failed


def _mark(model, row, **fields):
    """Update one claimed row, only while it still carries this claim (never a swept one)."""
    with scopes_disabled():
        model.objects.filter(pk=row.pk, claim_token=row.claim_token).update(claim_token="", **fields)


def outbox_sweep(model, *, now=None, stuck_after=STUCK_AFTER):
    """Return rows stuck in "sending" for longer than `stuck_after` to pending. Returns count."""
    now = now or timezone.now()
    with scopes_disabled():
        count = model.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=now - stuck_after).update(
            status=OutboxStatus.PENDING, claim_token="", next_attempt_at=now
        )
    if count:
        logger.warning("Re-queued %d %s row(s) stuck in sending", count, model.__name__)
    return count


def outbox_pending(model, *, now=None, filters=None):
    now = now or timezone.now()
    with scopes_disabled():
        return model.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now, **(filters or {})).count()
