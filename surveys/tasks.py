"""Celery tasks for rounds, reminders and board reports: thin wrappers over services.

Beat fires the two ticks every 15 minutes. A tick only creates rows that are due (unique
keys make a doubled tick a no-op), returns stuck rows to pending, and fans the sending out
in batches; each batch claims its rows in the database, so any number of workers, retries
or redeliveries send each email once. Every task is idempotent (hence acks_late) and has
time limits; none uses a countdown/ETA.
"""

import logging
import math

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from .models import RatingRound, ReminderLog, ReportDelivery
from .outbox import BATCH_SIZE, outbox_claim, outbox_deliver, outbox_pending, outbox_sweep
from .services.comment_review import comments_purge
from .services.reminders import reminder_message, reminders_plan
from .services.reports import REPORT_SEND_HOURS, report_build, report_message, reports_due
from .services.rounds import rounds_create_due

logger = logging.getLogger(__name__)

SHORT = {"acks_late": True, "soft_time_limit": 120, "time_limit": 180}
LONG = {"acks_late": True, "soft_time_limit": 600, "time_limit": 660}  # a report build renders a PDF


@shared_task(**SHORT)
def rounds_create_due_task():
    created = rounds_create_due()
    logger.info("Created %d rating round(s) for this month", created)
    return created


def _fan_out(model, task):
    batches = math.ceil(outbox_pending(model) / BATCH_SIZE)
    for _ in range(batches):
        task.delay()
    return batches


@shared_task(**SHORT)
def reminders_tick_task():
    outbox_sweep(ReminderLog)
    created = reminders_plan()
    batches = _fan_out(ReminderLog, reminders_send_batch_task)
    logger.info("Reminders: %d new, %d batch(es) queued", created, batches)
    return created


@shared_task(**SHORT)
def reminders_send_batch_task():
    sent, failed = outbox_deliver(ReminderLog, outbox_claim(ReminderLog), reminder_message)
    return {"sent": sent, "failed": failed}


@shared_task(**SHORT)
def reports_tick_task():
    """Build the reports of rounds that have closed (one task per trust, in parallel), and
    send due deliveries from 07:00 London time on."""
    outbox_sweep(ReportDelivery)
    due = reports_due()
    for _trust_id, round_id in due:
        report_build_task.delay(round_id)
    batches = 0
    if timezone.localtime().hour in REPORT_SEND_HOURS:
        batches = _fan_out(ReportDelivery, report_deliveries_send_batch_task)
    logger.info("Reports: %d to build, %d delivery batch(es) queued", len(due), batches)
    return len(due)


@shared_task(**LONG)
def report_build_task(round_id):
    with scopes_disabled():
        round_ = RatingRound.objects.select_related("trust").get(pk=round_id)
    report = report_build(round=round_)
    return report.pk


@shared_task(**SHORT)
def report_deliveries_send_batch_task():
    sent, failed = outbox_deliver(ReportDelivery, outbox_claim(ReportDelivery), report_message)
    return {"sent": sent, "failed": failed}


@shared_task(**SHORT)
def comments_purge_due():
    """Retention of comment text (issue #23): each trust's comments past its setting are erased."""
    results = comments_purge()
    erased = sum(result["erased"] for result in results)
    logger.info("Comments past retention: %d erased", erased)
    return erased
