"""Issue #23, retention: `manage.py purge_comments [--months 24]` erases the comment text (and
its review) of rounds older than N months; scores and ratings stay."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from surveys.management.commands.purge_comments import retention_cutoff
from surveys.models import CommentReview, Rating
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory
from tests.surveys.test_comment_quarantine import FLAGGED, rate

pytestmark = pytest.mark.django_db


def test_retention_cutoff():
    assert retention_cutoff(date(2026, 3, 10), 24) == date(2024, 3, 1)
    assert retention_cutoff(date(2026, 3, 10), 3) == date(2025, 12, 1)
    assert retention_cutoff(date(2026, 1, 31), 1) == date(2025, 12, 1)


def test_old_comments_are_erased_and_the_scores_stay(trust, other_trust, agreed_objective, mid_march):
    member = MembershipFactory(trust=trust)
    MembershipFactory(trust=trust, user__full_name="Priya Raman")
    objective = agreed_objective(ref="OBJ-01")
    old = round_get_or_create(trust=trust, period=date(2024, 2, 1))
    kept = round_get_or_create(trust=trust, period=date(2024, 3, 1))
    old_flagged = rate(old, objective, member, 4, FLAGGED)
    old_plain = rate(old, objective, MembershipFactory(trust=trust), 2, "Better rotas")
    recent = rate(kept, objective, member, 3, FLAGGED)
    out = io.StringIO()
    call_command("purge_comments", stdout=out)
    assert out.getvalue().strip() == "Erased 2 comments of rounds before March 2024 (1 review deleted)."
    with scopes_disabled():
        assert Rating.objects.get(pk=old_flagged.pk).comment == ""
        assert Rating.objects.get(pk=old_flagged.pk).score == 4
        assert Rating.objects.get(pk=old_plain.pk).comment == ""
        assert Rating.objects.get(pk=recent.pk).comment == FLAGGED
        assert list(CommentReview.objects.values_list("rating_id", flat=True)) == [recent.pk]
    out = io.StringIO()
    call_command("purge_comments", "--months", "1", "--trust", "RAA", stdout=out)
    assert out.getvalue().strip() == "Erased 1 comment of rounds before February 2026 in RAA (1 review deleted)."
    with scopes_disabled():
        assert Rating.objects.count() == 3 and not Rating.objects.exclude(comment="").exists()


def test_months_must_be_positive(db):
    with pytest.raises(CommandError):
        call_command("purge_comments", "--months", "0", stdout=io.StringIO())
