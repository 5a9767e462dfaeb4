"""manage.py purge_comments [--months N] [--trust CODE]

Retention of comment text (issue #23): blanks the comments of ratings in rounds whose month is
more than N months before this month, and deletes their comment reviews; without --months each
trust keeps its own setting (`comment_retention_months`, default 24). Scores, ratings and every
aggregate stay; so do board reports (their snapshots hold no comments). The beat runs the same
service daily (`surveys.tasks.comments_purge_due`).
"""

from django.core.management.base import BaseCommand, CommandError

from partnership.models import Trust
from surveys.services.comment_review import comments_purge, retention_cutoff  # noqa: F401 (re-exported)


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = "Erase comment text of rounds older than each trust's retention (or N months); scores and aggregates stay."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, help="months of comments kept (default: each trust's setting)")
        parser.add_argument("--trust", help="one trust's ODS code (default: every trust)")

    def handle(self, *args, months=None, trust=None, **options):
        if months is not None and months < 1:
            raise CommandError("--months must be at least 1.")
        one = None
        if trust:
            one = Trust.objects.filter(code=trust).first()
            if one is None:
                raise CommandError(f"No trust with the code {trust}.")
        results = comments_purge(trust=one, months=months)
        if not results:
            self.stdout.write("No trusts: nothing to erase.")
        for result in results:
            where = f" in {', '.join(result['trusts'])}" if trust or len(results) > 1 else ""
            self.stdout.write(
                f"Erased {_plural(result['erased'], 'comment')} of rounds before {result['cutoff']:%B %Y}{where} "
                f"({_plural(result['reviews'], 'review')} deleted)."
            )
