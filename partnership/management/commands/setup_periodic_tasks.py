from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask


def schedule_collect():
    """name -> (task, crontab fields) from every installed app's `schedules.PERIODIC_TASKS`."""
    schedule = {}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.schedules":
                raise
            continue
        schedule.update(getattr(module, "PERIODIC_TASKS", {}))
    return schedule


class Command(BaseCommand):
    help = "Create or update the periodic tasks in the database scheduler (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        schedule = schedule_collect()
        created = updated = 0
        for name, (task, fields) in schedule.items():
            crontab, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **fields)
            _, was_created = PeriodicTask.objects.update_or_create(
                name=name, defaults={"task": task, "crontab": crontab, "interval": None}
            )
            created += was_created
            updated += not was_created
        self.stdout.write(f"Periodic tasks: {created} created, {updated} updated ({len(schedule)} in the schedule)")
