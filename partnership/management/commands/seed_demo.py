import csv
import io

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from partnership.demo import people as demo
from partnership.models import User
from partnership.services.people_import import COLUMNS, people_import_apply, people_import_plan
from partnership.services.trusts import trust_create


def _as_csv(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Seed the demo trust (Northgate, RNG) with its people; safe to run again. Prints the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production", action="store_true", help="seed even when DEBUG is off (demo passwords are public)"
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "seed_demo creates accounts with a published password; "
                "run it with DEBUG on, or pass --allow-production."
            )
        rows = demo.demo_people()
        with transaction.atomic():
            trust, _ = trust_create(code=demo.TRUST_CODE, name=demo.TRUST_NAME)
            plan = people_import_plan(trust=trust, text=_as_csv(rows))
            if not plan.is_valid:  # the demo data is ours: this is a bug, not bad input
                raise CommandError("Demo data is invalid: " + "; ".join(map(str, plan.errors)))
            result = people_import_apply(trust=trust, plan=plan)
            password = make_password(demo.DEMO_PASSWORD)
            without_password = User.objects.filter(email__in=[row["email"] for row in rows], password__startswith="!")
            without_password.update(password=password)
        self.stdout.write(f"Demo trust {trust.code} {trust.name}: {len(rows)} people ({result.summary()}).")
        self.stdout.write(f"Sign in at {settings.SITE_URL}/accounts/login/ with password {demo.DEMO_PASSWORD!r} as:")
        for label, email in demo.DEMO_LOGINS:
            self.stdout.write(f"  {label:<32} {email}")
