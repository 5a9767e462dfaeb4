from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from surveys.models import ReminderLog
from surveys.outbox import outbox_claim, outbox_deliver, outbox_sweep
from surveys.services.reminders import SEND_HOURS, reminder_message, reminders_plan


class Command(BaseCommand):
    help = (
        "Plan and send the reminders that are due, as the 15-minute beat tick does, without Celery. "
        "Reminders are only planned between 08:00 and 20:00 London time; --now plans as at another "
        "moment (e.g. --now '2026-11-23 09:00'), for demos and catching up by hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="local date and time to plan at, 'YYYY-MM-DD HH:MM' (default: now)")

    def handle(self, *args, now=None, **options):
        moment = timezone.now()
        if now:
            try:
                moment = timezone.make_aware(datetime.strptime(now, "%Y-%m-%d %H:%M"))
            except ValueError as exc:
                raise CommandError(f"--now {now!r} is not a local date and time like 2026-11-23 09:00") from exc
        if timezone.localtime(moment).hour not in SEND_HOURS:
            self.stderr.write("Outside 08:00-20:00 London time: no new reminders are planned (use --now).")
        outbox_sweep(ReminderLog)
        planned = reminders_plan(now=moment)
        sent = failed = 0
        claim_at = max(moment, timezone.now())  # rows planned "at" --now are due from then
        while rows := outbox_claim(ReminderLog, now=claim_at):
            batch_sent, batch_failed = outbox_deliver(ReminderLog, rows, reminder_message)
            sent, failed = sent + batch_sent, failed + batch_failed
            self.stderr.write(f"Sent {sent} reminder(s) so far")
        self.stdout.write(f"Reminders: {planned} planned, {sent} sent, {failed} failed (will be retried)")
