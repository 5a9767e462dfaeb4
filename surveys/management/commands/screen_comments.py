"""manage.py screen_comments [--trust CODE]

Screens the comments saved before the comment safety review existed (issue #23): every rating
with a comment and no CommentReview goes through the detector, trust by trust, in batches, and a
flagged one gets a pending review (it is then shown nowhere until a reviewer decides). Idempotent:
a comment already under review keeps its review and decision, and a clean one stays clean (it is
screened again on a later run, which changes nothing).
"""

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from partnership.models import Trust
from surveys.models import Rating
from surveys.services.comment_review import SCREEN_BATCH, comment_screen, detector_for


def unscreened(trust):
    """The trust's ratings with a comment and no review, in id order."""
    return Rating.objects.filter(trust=trust, comment_review__isnull=True).exclude(comment="").order_by("pk")


class Command(BaseCommand):
    help = "Screen comments that have no review yet (saved before the review existed); flagged ones are held."

    def add_arguments(self, parser):
        parser.add_argument("--trust", help="one trust's ODS code (default: every trust)")
        parser.add_argument(
            "--batch", type=int, default=SCREEN_BATCH, help=f"ratings per batch (default {SCREEN_BATCH})"
        )

    def handle(self, *args, trust=None, batch=SCREEN_BATCH, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        trusts = Trust.objects.order_by("code")
        if trust:
            trusts = trusts.filter(code=trust)
            if not trusts.exists():
                raise CommandError(f"No trust with the code {trust}.")
        screened = flagged = 0
        trusts = list(trusts)
        for one in trusts:
            with scope(trust=one):
                total = unscreened(one).count()
                if not total:
                    continue
                detector = detector_for(one)
                done, last = 0, 0
                while True:
                    ratings = list(unscreened(one).filter(pk__gt=last)[:batch])
                    if not ratings:
                        break
                    for rating in ratings:
                        rating.comment_review = None  # known: none yet (saves a query each)
                        if comment_screen(rating=rating, detector=detector) is not None:
                            flagged += 1
                    done += len(ratings)
                    last = ratings[-1].pk
                    self.stdout.write(f"{one.code}: {done}/{total} screened")
            screened += done
        self.stdout.write(
            f"Screened {screened} comment{'' if screened == 1 else 's'} in {len(trusts)} "
            f"trust{'' if len(trusts) == 1 else 's'}: {flagged} held for review."
        )
