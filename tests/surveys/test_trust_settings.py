"""The trust's analysis settings page (issue #5 item 6): who may open it, saving, and the
service's rules: the minimum group size is never below 3 and, once anyone has rated, never
lowered (DESIGN.md §5); the gap and q thresholds within range; the rating calendar in order.
Nothing is saved when anything is refused."""

import logging
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scopes_disabled

from partnership.models import Trust
from surveys.models import PulseResponse, Rating
from surveys.services.rounds import round_get_or_create
from surveys.services.trust_settings import FIELDS, trust_settings_update
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)

VALID = {
    "min_group_size": "6",
    "min_comment_group_size": "10",
    "watch_gap": "0.60",
    "divergent_gap": "1.20",
    "q_threshold": "0.010",
    "round_opens_day": "3",
    "round_closes_day": "17",
}


def url(trust):
    return reverse("analysis_settings", kwargs={"trust_code": trust.code})


def reloaded(trust):
    return Trust.objects.get(pk=trust.pk)


def settings_of(trust):
    trust = reloaded(trust)
    return {field: getattr(trust, field) for field in FIELDS}


def current_form(trust):
    """The trust's current settings as the page's form would post them."""
    return {field: str(value) for field, value in settings_of(trust).items()}


def rate(trust):
    """One rating in the trust's March round, by a consultant."""
    round_ = round_get_or_create(trust=trust, period=MARCH)
    rater = MembershipFactory(trust=trust)
    with scopes_disabled():
        Rating.objects.create(
            trust=trust,
            round=round_,
            objective=ObjectiveFactory(trust=trust, status="agreed"),
            rater=rater,
            professional_group=rater.professional_group,
            level=rater.level,
            score=4,
        )


def answer_pulse(trust):
    round_ = round_get_or_create(trust=trust, period=MARCH)
    rater = MembershipFactory(trust=trust)
    with scopes_disabled():
        PulseResponse.objects.create(
            trust=trust, round=round_, rater=rater, quality=4, professional_group="clinical", level="operational"
        )


@pytest.fixture
def medical_director(trust):
    return MembershipFactory(trust=trust, medical_director=True, user__email="md@ashby.nhs.uk")


@pytest.fixture
def chief_executive(trust):
    return MembershipFactory(trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk")


@pytest.fixture
def directorate_manager(trust):
    return MembershipFactory(trust=trust, directorate_manager=True, user__email="dm@ashby.nhs.uk")


@pytest.fixture
def admin_client(admin_membership, login):
    return login(admin_membership)


def post(client, trust, follow=False, **overrides):
    """Post the current settings with `overrides` changed."""
    return client.post(url(trust), {**current_form(trust), **overrides}, follow=follow)


def field_errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


# --- who may open the page -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin_membership", "medical_director", "chief_executive"])
def test_the_page_renders_for_administrators_and_board_leaders(who, request, login, trust):
    client = login(request.getfixturevalue(who))
    response = client.get(url(trust))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for field in FIELDS:
        assert f'for="id_{field}"' in html  # a labelled control, its help text tied to it
        assert f'aria-describedby="id_{field}_helptext"' in html
    # The current values, shown and pre-filled.
    assert 'name="min_group_size" value="5"' in html
    assert 'name="watch_gap" value="0.50"' in html
    assert 'name="divergent_gap" value="1.00"' in html
    assert 'name="q_threshold" value="0.050"' in html
    assert 'data-testid="current-settings"' in html
    # Plain-English help on each threshold, and the calendar's scope.
    assert "0.05 is the conventional choice" in html
    assert "marked \u201cwatch\u201d" in html
    assert "marked \u201cdivergent\u201d" in html
    assert "never be lowered" in html
    assert "Rating calendar" in html
    assert "rounds created from now on" in html


@pytest.mark.parametrize("who", ["consultant_membership", "directorate_manager"])
def test_others_in_the_trust_are_refused(who, request, login, trust):
    client = login(request.getfixturevalue(who))
    assert client.get(url(trust)).status_code == 403


def test_a_consultants_post_changes_nothing(consultant_membership, login, trust):
    before = settings_of(trust)
    response = login(consultant_membership).post(url(trust), VALID)
    assert response.status_code == 403
    assert settings_of(trust) == before


def test_a_member_of_another_trust_gets_404(other_admin_membership, login, trust):
    client = login(other_admin_membership)
    assert client.get(url(trust)).status_code == 404
    before = settings_of(trust)
    assert client.post(url(trust), VALID).status_code == 404
    assert settings_of(trust) == before


def test_signed_out_visitors_are_sent_to_sign_in(client, trust):
    response = client.get(url(trust))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_page_runs_a_fixed_number_of_queries(admin_client, trust, django_assert_max_num_queries):
    rate(trust)
    with django_assert_max_num_queries(12):
        assert admin_client.get(url(trust)).status_code == 200


# --- saving -------------------------------------------------------------------------------------


def test_saving_valid_values_updates_the_trust_and_says_what_changed(admin_client, admin_membership, trust, caplog):
    with caplog.at_level(logging.INFO, logger="surveys.services.trust_settings"):
        response = admin_client.post(url(trust), VALID, follow=True)
    assert response.redirect_chain == [(url(trust), 302)]
    assert settings_of(trust) == {
        "min_group_size": 6,
        "min_comment_group_size": 10,
        "watch_gap": Decimal("0.60"),
        "divergent_gap": Decimal("1.20"),
        "q_threshold": Decimal("0.010"),
        "round_opens_day": 3,
        "round_closes_day": 17,
    }
    [message] = [str(m) for m in response.context["messages"]]
    assert "minimum group size from 5 to 6" in message
    assert "watch gap from 0.50 to 0.60" in message
    assert "divergent gap from 1.00 to 1.20" in message
    assert "q threshold from 0.050 to 0.010" in message
    assert "day rounds open from 1 to 3" in message
    assert "day rounds close from 14 to 17" in message
    [record] = [r for r in caplog.records if r.getMessage() == "trust settings changed"]
    assert record.trust_code == trust.code
    assert record.changed_by_user == admin_membership.user_id
    assert record.changes["min_group_size"] == ["5", "6"]


def test_the_medical_director_can_save(medical_director, login, trust):
    response = login(medical_director).post(url(trust), {**current_form(trust), "min_group_size": "7"})
    assert response.status_code == 302
    assert reloaded(trust).min_group_size == 7


def test_saving_unchanged_values_says_so_and_logs_nothing(admin_client, trust, caplog):
    with caplog.at_level(logging.INFO, logger="surveys.services.trust_settings"):
        response = admin_client.post(url(trust), current_form(trust), follow=True)
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("Nothing changed")
    assert not [r for r in caplog.records if r.getMessage() == "trust settings changed"]


def test_only_changed_settings_are_listed(admin_client, trust):
    response = post(admin_client, trust, watch_gap="0.70", follow=True)
    [message] = [str(m) for m in response.context["messages"]]
    assert message == "Settings saved. Changed: watch gap from 0.50 to 0.70."


# --- the minimum group size -----------------------------------------------------------------------


def test_a_minimum_group_size_below_3_is_refused(admin_client, trust):
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, "min_group_size": "2"})
    assert response.status_code == 200
    assert "cannot be below 3" in field_errors(response, "min_group_size")[0]
    assert "Nothing was saved" in response.content.decode()
    assert settings_of(trust) == before  # the other, valid, values were not saved either


def test_lowering_is_allowed_before_anyone_rates(admin_client, trust):
    assert post(admin_client, trust, min_group_size="3").status_code == 302
    assert reloaded(trust).min_group_size == 3


@pytest.mark.parametrize("respond", [rate, answer_pulse], ids=["rating", "pulse"])
def test_lowering_is_refused_once_anyone_has_responded(respond, admin_client, trust):
    respond(trust)
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, "min_group_size": "4"})
    assert response.status_code == 200
    [error] = field_errors(response, "min_group_size")
    assert "cannot be lowered from 5 to 4" in error
    assert "reveal" in error and "already seen" in error
    assert settings_of(trust) == before
    assert "can be raised but no longer lowered" in response.content.decode()


def test_raising_is_allowed_once_ratings_exist(admin_client, trust):
    rate(trust)
    assert post(admin_client, trust, min_group_size="8").status_code == 302
    assert reloaded(trust).min_group_size == 8


def test_only_this_trusts_ratings_lock_it(admin_client, trust, other_trust):
    rate(other_trust)
    assert post(admin_client, trust, min_group_size="4").status_code == 302
    assert reloaded(trust).min_group_size == 4


# --- the thresholds -------------------------------------------------------------------------------


def test_a_divergent_gap_below_the_watch_gap_is_refused(admin_client, trust):
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, "watch_gap": "0.80", "divergent_gap": "0.70"})
    assert response.status_code == 200
    assert "must be at least the watch gap" in field_errors(response, "divergent_gap")[0]
    assert settings_of(trust) == before


def test_equal_gaps_are_allowed(admin_client, trust):
    assert post(admin_client, trust, watch_gap="1.00", divergent_gap="1.00").status_code == 302
    assert reloaded(trust).watch_gap == reloaded(trust).divergent_gap == Decimal("1.00")


@pytest.mark.parametrize(
    "field, value",
    [
        ("watch_gap", "0.09"),
        ("watch_gap", "4.01"),
        ("watch_gap", "0"),
        ("divergent_gap", "4.01"),
    ],
)
def test_gaps_out_of_range_are_refused(admin_client, trust, field, value):
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, field: value})
    assert response.status_code == 200
    assert field_errors(response, field)
    assert settings_of(trust) == before


@pytest.mark.parametrize("value", ["0", "0.000", "0.201", "0.5", "1", "-0.05"])
def test_an_out_of_range_q_threshold_is_refused(admin_client, trust, value):
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, "q_threshold": value})
    assert response.status_code == 200
    assert "between 0.001 and 0.200" in field_errors(response, "q_threshold")[0]
    assert settings_of(trust) == before


@pytest.mark.parametrize("value", ["0.001", "0.200"])
def test_the_q_threshold_bounds_are_allowed(admin_client, trust, value):
    assert post(admin_client, trust, q_threshold=value).status_code == 302
    assert reloaded(trust).q_threshold == Decimal(value)


def test_too_many_decimal_places_are_refused(admin_client, trust):
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, "watch_gap": "0.555", "q_threshold": "0.0505"})
    assert response.status_code == 200
    assert field_errors(response, "watch_gap") and field_errors(response, "q_threshold")
    assert settings_of(trust) == before


# --- the rating calendar --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opens, closes, field",
    [
        ("0", "14", "round_opens_day"),
        ("1", "29", "round_closes_day"),
        ("29", "29", "round_opens_day"),
        ("15", "14", "round_closes_day"),
    ],
)
def test_an_invalid_calendar_is_refused(admin_client, trust, opens, closes, field):
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, "round_opens_day": opens, "round_closes_day": closes})
    assert response.status_code == 200
    assert field_errors(response, field)
    assert settings_of(trust) == before


def test_a_one_day_round_and_the_28th_are_allowed(admin_client, trust):
    assert post(admin_client, trust, round_opens_day="28", round_closes_day="28").status_code == 302
    trust = reloaded(trust)
    assert (trust.round_opens_day, trust.round_closes_day) == (28, 28)


def test_the_calendar_shapes_future_rounds_only(admin_client, trust):
    existing = round_get_or_create(trust=trust, period=MARCH)
    post(admin_client, trust, round_opens_day="5", round_closes_day="20")
    with scopes_disabled():
        existing.refresh_from_db()
    assert (existing.opens_on, existing.closes_on) == (date(2026, 3, 1), date(2026, 3, 14))
    april = round_get_or_create(trust=reloaded(trust), period=date(2026, 4, 1))
    assert (april.opens_on, april.closes_on) == (date(2026, 4, 5), date(2026, 4, 20))


def test_a_missing_or_non_numeric_value_is_refused(admin_client, trust):
    before = settings_of(trust)
    response = admin_client.post(url(trust), {**VALID, "min_group_size": "", "watch_gap": "half"})
    assert response.status_code == 200
    assert field_errors(response, "min_group_size") and field_errors(response, "watch_gap")
    assert settings_of(trust) == before


def test_every_error_is_reported_at_once(admin_client, trust):
    response = admin_client.post(
        url(trust),
        {**VALID, "min_group_size": "2", "divergent_gap": "0.50", "q_threshold": "0.3", "round_closes_day": "1"},
    )
    errors = response.context["form"].errors
    assert set(errors) == {"min_group_size", "divergent_gap", "q_threshold", "round_closes_day"}


# --- the service on its own -----------------------------------------------------------------------


def test_the_service_changes_only_what_it_is_given(admin_membership, trust):
    changes = trust_settings_update(trust=trust, by=admin_membership, watch_gap="0.75")
    assert changes == {"watch_gap": (Decimal("0.50"), Decimal("0.75"))}
    assert trust.watch_gap == Decimal("0.75")  # updated in place
    assert settings_of(trust)["watch_gap"] == Decimal("0.75")
    assert settings_of(trust)["min_group_size"] == 5


def test_the_service_refuses_without_the_permission(consultant_membership, other_admin_membership, trust):
    for by in (consultant_membership, other_admin_membership, None):
        with pytest.raises(PermissionDenied):
            trust_settings_update(trust=trust, by=by, min_group_size=7)
    assert reloaded(trust).min_group_size == 5


def test_the_service_errors_are_by_field_and_leave_the_instance_alone(admin_membership, trust):
    rate(trust)
    with pytest.raises(ValidationError) as caught:
        trust_settings_update(trust=trust, by=admin_membership, min_group_size=4, watch_gap=Decimal("0.60"))
    assert set(caught.value.error_dict) == {"min_group_size"}
    assert caught.value.error_dict["min_group_size"][0].code == "min_group_size_lowered"
    assert (trust.min_group_size, trust.watch_gap) == (5, Decimal("0.50"))
    assert settings_of(trust)["watch_gap"] == Decimal("0.50")


def test_the_service_checks_a_raised_watch_gap_against_the_stored_divergent_gap(admin_membership, trust):
    with pytest.raises(ValidationError) as caught:
        trust_settings_update(trust=trust, by=admin_membership, watch_gap="1.50")
    assert caught.value.error_dict["watch_gap"][0].code == "divergent_below_watch"


def test_the_service_rejects_unknown_settings(admin_membership, trust):
    with pytest.raises(TypeError):
        trust_settings_update(trust=trust, by=admin_membership, timezone="UTC")
