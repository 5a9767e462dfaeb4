from django.core.management.base import BaseCommand, CommandError

from partnership.services.privacy import person_export_json, user_by_email


class Command(BaseCommand):
    help = "Print, as JSON, everything Common Ground holds about one person (a subject access request)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the person's email address")

    def handle(self, *args, email, **options):
        user = user_by_email(email)
        if user is None:
            raise CommandError(f"Nobody has the email address {email.strip()!r}.")
        self.stdout.write(person_export_json(user=user))
