"""manage.py purge_comments [--months 24] [--trust CODE]

Retention of comment text (issue #23): blanks the comments of ratings in rounds whose month is
more than N months before this month, and deletes their comment reviews. Scores, ratings and
every aggregate stay; so do board reports (their snapshots hold no comments).
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.models import CommentReview, Rating

DEFAULT_MONTHS = 24


def retention_cutoff(today, months):
    """The first month kept: rounds of earlier months lose their comments."""
    index = today.year * 12 + (today.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


class Command(BaseCommand):
    help = "Erase comment text of rounds older than N months (default 24); scores and aggregates stay."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=DEFAULT_MONTHS, help="months of comments kept (default 24)")
        parser.add_argument("--trust", help="one trust's ODS code (default: every trust)")

    def handle(self, *args, months, trust=None, **options):
        if months < 1:
            raise CommandError("--months must be at least 1.")
        cutoff = retention_cutoff(timezone.localdate(), months)
        with scopes_disabled(), transaction.atomic():
            ratings = Rating.objects.filter(round__period__lt=cutoff)
            if trust:
                ratings = ratings.filter(trust__code=trust)
            reviews, _ = CommentReview.objects.filter(rating__in=ratings.values("pk")).delete()
            blanked = ratings.exclude(comment="").update(comment="")
        self.stdout.write(
            f"Erased {blanked} comment{'' if blanked == 1 else 's'} of rounds before {cutoff:%B %Y}"
            f"{f' in {trust}' if trust else ''} ({reviews} review{'' if reviews == 1 else 's'} deleted)."
        )
