from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from partnership.demo import demo_trust, people


def demo_seeders():
    """(app label, demo_seed) of every installed app with a `demo` module, in INSTALLED_APPS order."""
    seeders = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        if hasattr(module, "demo_seed"):
            seeders.append((config.label, module.demo_seed))
    return seeders


class Command(BaseCommand):
    help = "Seed the demo trust (Northgate, RNG): people, objectives and more; safe to run again. Prints the logins."

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
        parts = []
        with transaction.atomic():
            trust = demo_trust()
            for label, seed in demo_seeders():
                self.stderr.write(f"Seeding {label}...")
                parts.append(seed(trust))
        self.stdout.write(f"Demo trust {trust.code} {trust.name}: {'; '.join(parts)}.")
        self.stdout.write(f"Sign in at {settings.SITE_URL}/accounts/login/ with password {people.DEMO_PASSWORD!r} as:")
        for label, email in people.DEMO_LOGINS:
            self.stdout.write(f"  {label:<32} {email}")
