from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from partnership.schedules import PERIODIC_TASKS


class Command(BaseCommand):
    help = "Create or update the periodic tasks in the database scheduler (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = updated = 0
        for name, (task, fields) in PERIODIC_TASKS.items():
            crontab, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **fields)
            _, was_created = PeriodicTask.objects.update_or_create(
                name=name, defaults={"task": task, "crontab": crontab, "interval": None}
            )
            created += was_created
            updated += not was_created
        self.stdout.write(
            f"Periodic tasks: {created} created, {updated} updated ({len(PERIODIC_TASKS)} in the schedule)"
        )
