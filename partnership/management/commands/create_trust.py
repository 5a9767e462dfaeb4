from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from partnership.services.invitations import invitation_url
from partnership.services.trusts import trust_admin_invite, trust_create


class Command(BaseCommand):
    help = "Create a trust (idempotent on CODE) and invite its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("code", help='ODS code, e.g. "RXX"')
        parser.add_argument("name", help="the trust's full name")
        parser.add_argument("--admin-email", help="invite this person as the trust's administrator")

    def handle(self, *args, code, name, admin_email=None, **options):
        try:
            if admin_email:
                validate_email(admin_email.strip())
            trust, created = trust_create(code=code, name=name)
            invitation = trust_admin_invite(trust=trust, email=admin_email) if admin_email else None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        summary = f"{'Created' if created else 'Already exists:'} trust {trust.code} {trust.name!r}"
        if invitation:
            summary += f"; invited {admin_email} as administrator ({invitation_url(invitation)})"
        elif admin_email:
            summary += f"; {admin_email} is already an administrator with a password or a pending invitation"
        self.stdout.write(summary)
