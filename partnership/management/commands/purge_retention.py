from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from partnership.services.privacy import retention_purge


class Command(BaseCommand):
    help = (
        "Purge identifiable data older than RETENTION_YEARS: old answers lose their rater and comment, old "
        "invitations, reminder logs and report deliveries are deleted, long-gone people are erased."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be purged; write nothing")

    def handle(self, *args, dry_run=False, **options):
        try:
            result = retention_purge(dry_run=dry_run)
        except ValueError as exc:  # a retention period below one year
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{result.summary()} (RETENTION_YEARS={settings.RETENTION_YEARS}).")
