from django.core.management.base import BaseCommand, CommandError

from partnership.services.privacy import counts_summary, is_erased, person_erase, user_by_email


class Command(BaseCommand):
    help = (
        "Erase a person: replace their name and email with a placeholder, unlink and blank their ratings' "
        "comments, delete their invitations and reminder logs; their anonymous scores stay in the aggregates."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the person's email address")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, email, yes=False, **options):
        user = user_by_email(email)
        if user is None:
            raise CommandError(f"Nobody has the email address {email.strip()!r}; nothing was erased.")
        if is_erased(user):
            self.stdout.write(f"User {user.pk} is already erased; nothing to do.")
            return
        if not yes:
            answer = input(f"Erase {user.email} (user {user.pk})? This cannot be undone. Type 'yes' to erase: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Not confirmed; nothing was erased.")
        user, counts = person_erase(user=user)
        self.stdout.write(f"Erased user {user.pk} (now {user.email}): {counts_summary(counts) or 'nothing else held'}.")
