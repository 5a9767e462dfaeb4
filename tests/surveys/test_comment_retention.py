"""Issue #23, the rest: comment retention as a trust setting (checked, saved and logged like the
analysis settings), the daily purge honouring each trust's months, `screen_comments` for comments
saved before the review existed, and the reviewers' link in the navigation."""

import io
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_scopes import scopes_disabled

from partnership.models import Trust, TrustSettingChange
from surveys.models import CommentDecision, CommentReview, CommentReviewer, Rating
from surveys.schedules import PERIODIC_TASKS
from surveys.services.comment_review import comments_purge
from surveys.services.rounds import round_get_or_create
from surveys.services.trust_settings import trust_settings_update
from surveys.tasks import comments_purge_due
from tests.factories import MembershipFactory
from tests.surveys.helpers import stored_rating
from tests.surveys.test_comment_quarantine import BENIGN, FLAGGED, rate

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def admin_client(admin_membership, login):
    return login(admin_membership)


def settings_url(trust):
    return reverse("analysis_settings", kwargs={"trust_code": trust.code})


def form_of(trust, **changes):
    trust = Trust.objects.get(pk=trust.pk)
    fields = (
        "min_group_size",
        "min_comment_group_size",
        "watch_gap",
        "divergent_gap",
        "q_threshold",
        "round_opens_day",
        "round_closes_day",
        "comment_retention_months",
    )
    return {**{field: str(getattr(trust, field)) for field in fields}, **changes}


# --- the setting ----------------------------------------------------------------------------------


def test_the_default_is_24_months(trust):
    assert trust.comment_retention_months == 24


@pytest.mark.parametrize("value", [0, 121, -3])
def test_out_of_range_months_are_refused_and_nothing_is_saved(admin_membership, trust, value):
    with pytest.raises(ValidationError) as refused:
        trust_settings_update(trust=trust, by=admin_membership, comment_retention_months=value, watch_gap="0.60")
    assert set(refused.value.message_dict) == {"comment_retention_months"}
    assert "1 to 120 months" in refused.value.message_dict["comment_retention_months"][0]
    stored = Trust.objects.get(pk=trust.pk)
    assert (stored.comment_retention_months, str(stored.watch_gap)) == (24, "0.50")


@pytest.mark.parametrize("value", [1, 120])
def test_the_bounds_are_allowed(admin_membership, trust, value):
    trust_settings_update(trust=trust, by=admin_membership, comment_retention_months=value)
    assert Trust.objects.get(pk=trust.pk).comment_retention_months == value


def test_the_page_saves_and_logs_the_change(admin_client, admin_membership, trust, caplog):
    with caplog.at_level(logging.INFO, logger="surveys.services.trust_settings"):
        response = admin_client.post(settings_url(trust), form_of(trust, comment_retention_months="36"), follow=True)
    assert Trust.objects.get(pk=trust.pk).comment_retention_months == 36
    [message] = [str(m) for m in response.context["messages"]]
    assert message == "Settings saved. Changed: months comments are kept from 24 to 36."
    change = TrustSettingChange.objects.get(trust=trust)
    assert (change.field, change.old_value, change.new_value, change.changed_by) == (
        "comment_retention_months",
        "24",
        "36",
        admin_membership,
    )
    [record] = [r for r in caplog.records if r.getMessage() == "trust settings changed"]
    assert record.changes == {"comment_retention_months": ["24", "36"]}
    page = admin_client.get(settings_url(trust)).content.decode()
    assert "Keep comments for (months)" in page and "months comments are kept" in page


def test_the_page_refuses_out_of_range_months(admin_client, trust):
    response = admin_client.post(settings_url(trust), form_of(trust, comment_retention_months="200"))
    assert response.status_code == 200
    assert response.context["form"].errors["comment_retention_months"]
    assert Trust.objects.get(pk=trust.pk).comment_retention_months == 24


def test_a_form_without_the_field_keeps_it(admin_client, trust):
    data = form_of(trust, watch_gap="0.70")
    del data["comment_retention_months"]
    assert admin_client.post(settings_url(trust), data).status_code == 302
    stored = Trust.objects.get(pk=trust.pk)
    assert (stored.comment_retention_months, str(stored.watch_gap)) == (24, "0.70")


# --- the purge ------------------------------------------------------------------------------------


@pytest.fixture
def two_trusts_rated(trust, other_trust, agreed_objective):
    """Comments in January 2025 and January 2026 in both trusts; Ashby keeps 12 months, Brook 24.
    Seen from 10 March 2026: Ashby erases rounds before March 2025, Brook before March 2024."""
    Trust.objects.filter(pk=trust.pk).update(comment_retention_months=12)
    MembershipFactory(trust=trust, user__full_name="Priya Raman")
    ratings = {}
    for one in (trust, other_trust):
        objective = agreed_objective(trust=one, ref="OBJ-01")
        for period in (date(2025, 1, 1), date(2026, 1, 1)):
            round_ = round_get_or_create(trust=one, period=period)
            ratings[one.code, period.year, "flagged"] = rate(
                round_, objective, MembershipFactory(trust=one), 4, FLAGGED
            )
            ratings[one.code, period.year, "plain"] = rate(round_, objective, MembershipFactory(trust=one), 2, BENIGN)
    return ratings


def comments(ratings):
    with scopes_disabled():
        return {key: Rating.objects.get(pk=r.pk).comment for key, r in ratings.items()}


def test_the_daily_task_honours_each_trusts_months_and_keeps_the_scores(two_trusts_rated, mid_march):
    with scopes_disabled():
        reviews_before = CommentReview.objects.count()
    assert comments_purge_due.apply().get() == 2
    seen = comments(two_trusts_rated)
    assert seen[("RAA", 2025, "flagged")] == seen[("RAA", 2025, "plain")] == ""
    assert seen[("RAA", 2026, "flagged")] == FLAGGED and seen[("RAA", 2026, "plain")] == BENIGN
    assert seen[("RBB", 2025, "plain")] == BENIGN and seen[("RBB", 2026, "plain")] == BENIGN
    with scopes_disabled():
        assert CommentReview.objects.filter(rating_id=two_trusts_rated["RAA", 2025, "flagged"].pk).count() == 0
        assert CommentReview.objects.count() == reviews_before - 1
        assert sorted(Rating.objects.values_list("score", flat=True)) == [2] * 4 + [4] * 4
    assert comments_purge_due.apply().get() == 0  # idempotent


def test_the_service_reports_per_cutoff_and_months_override(two_trusts_rated, mid_march):
    now = datetime(2026, 3, 10, 12, tzinfo=LONDON)
    assert comments_purge(now=now) == [
        {"cutoff": date(2024, 3, 1), "trusts": ["RBB"], "erased": 0, "reviews": 0},
        {"cutoff": date(2025, 3, 1), "trusts": ["RAA"], "erased": 2, "reviews": 1},
    ]
    brook = Trust.objects.get(code="RBB")
    assert comments_purge(now=now, trust=brook, months=1) == [
        {"cutoff": date(2026, 2, 1), "trusts": ["RBB"], "erased": 4, "reviews": 2}
    ]
    assert set(comments(two_trusts_rated).values()) == {"", FLAGGED, BENIGN}
    assert comments(two_trusts_rated)[("RAA", 2026, "flagged")] == FLAGGED


def test_the_command_without_months_uses_each_trusts_setting(two_trusts_rated, mid_march):
    out = io.StringIO()
    call_command("purge_comments", stdout=out)
    assert out.getvalue().splitlines() == [
        "Erased 0 comments of rounds before March 2024 in RBB (0 reviews deleted).",
        "Erased 2 comments of rounds before March 2025 in RAA (1 review deleted).",
    ]
    with pytest.raises(CommandError):
        call_command("purge_comments", "--trust", "ZZZ", stdout=io.StringIO())


def test_the_task_is_on_the_daily_schedule():
    [(task, fields)] = [entry for entry in PERIODIC_TASKS.values() if entry[0] == "surveys.tasks.comments_purge_due"]
    assert fields["day_of_month"] == "*" and fields["hour"].isdigit()


# --- screen_comments --------------------------------------------------------------------------------


def unreviewed(round_, objective, member, score, comment):
    """A rating stored as before the review existed: not screened."""
    return stored_rating(round_, objective, member, score, comment)


def test_screen_comments_holds_old_flagged_comments_once(trust, other_trust, agreed_objective, february_round):
    MembershipFactory(trust=trust, user__full_name="Priya Raman")
    objective = agreed_objective(ref="OBJ-01")
    flagged = [unreviewed(february_round, objective, MembershipFactory(trust=trust), 3, FLAGGED) for _ in range(3)]
    for _ in range(2):
        unreviewed(february_round, objective, MembershipFactory(trust=trust), 4, BENIGN)
    unreviewed(february_round, objective, MembershipFactory(trust=trust), 4, "")
    decided = rate(february_round, objective, MembershipFactory(trust=trust), 2, FLAGGED)
    with scopes_disabled():
        CommentReview.objects.filter(rating=decided).update(decision=CommentDecision.PUBLISH)
        other_objective = agreed_objective(trust=other_trust, ref="OBJ-01")
        brook_round = round_get_or_create(trust=other_trust, period=date(2026, 2, 1))
    unreviewed(brook_round, other_objective, MembershipFactory(trust=other_trust), 3, "Patient 943 476 5919 again")

    out = io.StringIO()
    call_command("screen_comments", "--trust", "RAA", "--batch", "2", stdout=out)
    assert out.getvalue().splitlines() == [
        "RAA: 2/5 screened",
        "RAA: 4/5 screened",
        "RAA: 5/5 screened",
        "Screened 5 comments in 1 trust: 3 held for review.",
    ]
    with scopes_disabled():
        held = CommentReview.objects.filter(trust=trust, decision=CommentDecision.PENDING)
        assert sorted(held.values_list("rating_id", flat=True)) == sorted(r.pk for r in flagged)
        assert CommentReview.objects.get(rating=decided).decision == CommentDecision.PUBLISH
        assert not CommentReview.objects.filter(trust=other_trust).exists()

    out = io.StringIO()
    call_command("screen_comments", stdout=out)  # again, every trust: only what is left
    assert out.getvalue().splitlines()[-1] == "Screened 3 comments in 2 trusts: 1 held for review."
    with scopes_disabled():
        assert CommentReview.objects.filter(trust=trust).count() == 4
        assert CommentReview.objects.filter(trust=other_trust).count() == 1

    with pytest.raises(CommandError):
        call_command("screen_comments", "--trust", "ZZZ", stdout=io.StringIO())


# --- the navigation -----------------------------------------------------------------------------


def nav(client, trust):
    page = client.get(reverse("trust_home", args=[trust.code])).content.decode()
    return page.split('<nav class="navbar')[1].split("</nav>")[0]


@pytest.fixture
def waiting(trust, agreed_objective, february_round):
    MembershipFactory(trust=trust, user__full_name="Priya Raman")
    objective = agreed_objective(ref="OBJ-01")
    for _ in range(2):
        rate(february_round, objective, MembershipFactory(trust=trust), 3, FLAGGED)


def test_an_administrator_sees_the_link_with_the_pending_count(waiting, admin_client, trust):
    menu = nav(admin_client, trust)
    assert reverse("comment_review", args=[trust.code]) in menu
    assert 'data-testid="nav-comment-pending">2<' in menu


def test_a_consultant_does_not_see_it_until_named(waiting, consultant_membership, admin_membership, login, trust):
    client = login(consultant_membership)
    assert reverse("comment_review", args=[trust.code]) not in nav(client, trust)
    with scopes_disabled():
        CommentReviewer.objects.create(trust=trust, membership=consultant_membership)
    menu = nav(client, trust)
    assert reverse("comment_review", args=[trust.code]) in menu and ">2<" in menu


def test_no_badge_when_nothing_waits(admin_client, trust):
    menu = nav(admin_client, trust)
    assert reverse("comment_review", args=[trust.code]) in menu and "nav-comment-pending" not in menu


def test_the_link_costs_one_query(waiting, consultant_membership, login, trust, django_assert_num_queries):
    from partnership.context_processors import CommentReviewNav

    for membership in (consultant_membership, MembershipFactory(trust=trust, administrator=True)):
        with django_assert_num_queries(1):
            assert CommentReviewNav(membership).pending == (None if membership == consultant_membership else 2)
