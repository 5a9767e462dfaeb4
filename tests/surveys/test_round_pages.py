"""The round pages of a trust administrator: the list (statuses, how many responded, newest
first), creating a month's round, changing a round's dates (extend, re-open) with the
service's validation, who may open them, and query counts that do not grow with rounds."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from objectives.models import Objective
from surveys.models import PulseResponse, Rating, RatingRound
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def tenth_of_march():
    """Today is Tuesday 10 March 2026 in London: March's round (1st to 14th) is open."""
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=LONDON), tick=False) as traveller:
        yield traveller


def list_url(trust):
    return reverse("round_list", kwargs={"trust_code": trust.code})


def edit_url(round_or_trust, period=None):
    if period is None:
        round_or_trust, period = round_or_trust.trust, round_or_trust.slug
    # Built by hand: malformed periods cannot be reversed (the URL only matches YYYY-MM).
    return f"{list_url(round_or_trust)}{period}/edit/"


def reloaded(round_):
    with scopes_disabled():
        return RatingRound.objects.get(pk=round_.pk)


def periods(trust):
    with scopes_disabled():
        return list(RatingRound.objects.filter(trust=trust).order_by("period").values_list("period", flat=True))


def respond(round_, rater, objective=None):
    """A rating by `rater` in `round_` (snapshot copied from the membership)."""
    with scopes_disabled():
        objective = objective or Objective.objects.filter(trust=round_.trust).first()
        Rating.objects.create(
            trust=round_.trust,
            round=round_,
            objective=objective or ObjectiveFactory(trust=round_.trust, status="agreed"),
            rater=rater,
            professional_group=rater.professional_group,
            level=rater.level,
            score=3,
        )


def pulse(round_, rater):
    with scopes_disabled():
        PulseResponse.objects.create(
            trust=round_.trust, round=round_, rater=rater, quality=4, professional_group="clinical", level="board"
        )


# --- who may open the pages -----------------------------------------------------------------------


def test_an_administrator_sees_the_list_and_the_edit_page(admin_membership, login):
    round_ = round_get_or_create(trust=admin_membership.trust, period=date(2026, 3, 1))
    client = login(admin_membership)

    assert client.get(list_url(admin_membership.trust)).status_code == 200
    assert client.get(edit_url(round_)).status_code == 200


@pytest.mark.parametrize("traits", [{}, {"medical_director": True}, {"directorate_manager": True}])
def test_everyone_else_is_refused(trust, login, traits):
    round_ = round_get_or_create(trust=trust, period=date(2026, 3, 1))
    client = login(MembershipFactory(trust=trust, **traits))

    assert client.get(list_url(trust)).status_code == 403
    assert client.post(list_url(trust), {"period": "2026-04"}).status_code == 403
    assert client.get(edit_url(round_)).status_code == 403
    assert client.post(edit_url(round_), {"opens_on": "2026-03-01", "closes_on": "2026-03-30"}).status_code == 403
    assert periods(trust) == [date(2026, 3, 1)]
    assert reloaded(round_).closes_on == date(2026, 3, 14)


@pytest.mark.parametrize("period", ["2026-13", "2026-3", "2026-00", "march", "2026-03-01", "2026-04"])
def test_a_malformed_or_unknown_period_is_404(admin_membership, login, period):
    round_get_or_create(trust=admin_membership.trust, period=date(2026, 3, 1))

    assert login(admin_membership).get(edit_url(admin_membership.trust, period)).status_code == 404


# --- the list -------------------------------------------------------------------------------------


def test_the_list_shows_rounds_newest_first_with_dates_and_status(admin_membership, login):
    trust = admin_membership.trust
    for month in (1, 4, 3):
        round_get_or_create(trust=trust, period=date(2026, month, 1))

    response = login(admin_membership).get(list_url(trust))

    page = response.content.decode()
    assert [r.slug for r in response.context["rounds"]] == ["2026-04", "2026-03", "2026-01"]
    assert page.index("April 2026") < page.index("March 2026") < page.index("January 2026")
    assert [r.status for r in response.context["rounds"]] == ["scheduled", "open", "closed"]
    for status in ("Scheduled", "Open", "Closed"):
        assert f">{status}</span>" in page
    assert "Tue 14 Apr 2026" in page


def test_the_list_counts_people_who_responded_out_of_the_raters(admin_membership, consultant_membership, login):
    trust = admin_membership.trust
    others = [MembershipFactory(trust=trust) for _ in range(3)]  # 4 raters with the consultant
    MembershipFactory(trust=trust, is_active=False)  # a former member: not a rater
    january, march = (round_get_or_create(trust=trust, period=date(2026, month, 1)) for month in (1, 3))
    respond(march, consultant_membership)
    respond(march, consultant_membership, ObjectiveFactory(trust=trust))  # two ratings: one person
    pulse(march, consultant_membership)  # and the pulse: still one person
    pulse(march, others[0])  # the pulse alone counts
    pulse(march, admin_membership)  # an administrator is not a rater
    respond(january, others[1])

    response = login(admin_membership).get(list_url(trust))

    assert {r.slug: r.responded for r in response.context["rounds"]} == {"2026-03": 2, "2026-01": 1}
    assert response.context["raters"] == 4
    page = response.content.decode()
    assert "2 of 4" in page and "1 of 4" in page


def test_the_list_says_when_there_are_no_rounds(admin_membership, login):
    assert "No rounds yet" in login(admin_membership).get(list_url(admin_membership.trust)).content.decode()


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_runs_the_same_queries_however_many_rounds_and_responses(admin_membership, login):
    trust = admin_membership.trust
    client = login(admin_membership)
    round_get_or_create(trust=trust, period=date(2026, 3, 1))
    one_round = queries_for(client, list_url(trust))

    raters = [MembershipFactory(trust=trust) for _ in range(5)]
    for month in range(1, 13):
        round_ = round_get_or_create(trust=trust, period=date(2025, month, 1))
        for rater in raters[: month % 6]:
            pulse(round_, rater)

    assert queries_for(client, list_url(trust)) == one_round


def test_the_list_query_budget(admin_membership, login, django_assert_max_num_queries):
    # Session, user, trust, membership, savepoints, the rounds with their responded counts
    # (one query, a subquery per row inside the database), the number of raters.
    trust = admin_membership.trust
    for month in range(1, 13):
        round_get_or_create(trust=trust, period=date(2025, month, 1))
    client = login(admin_membership)

    with django_assert_max_num_queries(9):
        client.get(list_url(trust))


# --- creating a round -----------------------------------------------------------------------------


def create(client, trust, period):
    return client.post(list_url(trust), {"period": period}, follow=True)


def test_an_administrator_creates_a_round_with_the_trusts_days(admin_membership, login):
    trust = admin_membership.trust
    trust.round_opens_day, trust.round_closes_day = 3, 17
    trust.save()

    response = create(login(admin_membership), trust, "2026-05")

    assert response.redirect_chain[-1][0] == list_url(trust)
    with scopes_disabled():
        round_ = RatingRound.objects.get(trust=trust)
    assert (round_.period, round_.opens_on, round_.closes_on) == (date(2026, 5, 1), date(2026, 5, 3), date(2026, 5, 17))
    assert "The May 2026 round is set up: open 3 May to 17 May 2026." in response.content.decode()


def test_creating_an_existing_round_says_so_and_changes_nothing(admin_membership, login):
    trust = admin_membership.trust
    existing = round_get_or_create(trust=trust, period=date(2026, 3, 1))

    response = create(login(admin_membership), trust, "2026-03")

    assert response.status_code == 200
    assert response.context["form"].errors["period"] == [
        "There is already a round for March 2026 (1 Mar to 14 Mar 2026). Change its dates instead."
    ]
    assert "There is already a round for March 2026" in response.content.decode()
    assert periods(trust) == [date(2026, 3, 1)]
    assert reloaded(existing).closes_on == existing.closes_on


@pytest.mark.parametrize("period", ["2026-13", "2026-5", "May 2026", "2026-05-01", ""])
def test_a_malformed_month_is_refused(admin_membership, login, period):
    trust = admin_membership.trust

    response = create(login(admin_membership), trust, period)

    assert response.status_code == 200
    assert response.context["form"].errors["period"]
    assert periods(trust) == []


def test_a_malformed_month_gets_a_clear_message(admin_membership, login):
    response = create(login(admin_membership), admin_membership.trust, "2026-13")

    assert "Enter a month as YYYY-MM, for example 2026-03." in response.content.decode()


def test_a_round_up_to_three_months_ahead_can_be_created(admin_membership, login):
    trust = admin_membership.trust

    create(login(admin_membership), trust, "2026-06")

    assert periods(trust) == [date(2026, 6, 1)]


def test_a_round_more_than_three_months_ahead_is_refused(admin_membership, login):
    trust = admin_membership.trust

    response = create(login(admin_membership), trust, "2026-07")

    assert response.context["form"].errors["period"] == [
        "A round can be created at most 3 months ahead (the latest is June 2026)."
    ]
    assert periods(trust) == []


def test_three_months_ahead_counts_across_the_new_year(admin_membership, login, tenth_of_march):
    trust = admin_membership.trust
    tenth_of_march.move_to(datetime(2026, 11, 30, 23, 30, tzinfo=LONDON))
    client = login(admin_membership)

    assert create(client, trust, "2027-03").context["form"].errors["period"]
    create(client, trust, "2027-02")

    assert periods(trust) == [date(2027, 2, 1)]


def test_a_past_month_can_be_created(admin_membership, login):
    trust = admin_membership.trust

    create(login(admin_membership), trust, "2025-12")

    assert periods(trust) == [date(2025, 12, 1)]


# --- changing the dates ---------------------------------------------------------------------------


def schedule(client, round_, opens_on, closes_on, follow=True):
    return client.post(edit_url(round_), {"opens_on": opens_on, "closes_on": closes_on}, follow=follow)


def test_the_edit_form_starts_with_the_rounds_dates(admin_membership, login):
    round_ = round_get_or_create(trust=admin_membership.trust, period=date(2026, 3, 1))

    response = login(admin_membership).get(edit_url(round_))

    page = response.content.decode()
    assert 'value="2026-03-01"' in page and 'value="2026-03-14"' in page
    assert 'for="id_closes_on"' in page  # labelled
    assert "Dates of the March 2026 round" in page


def test_extending_an_open_round_moves_its_closing_day(admin_membership, login):
    round_ = round_get_or_create(trust=admin_membership.trust, period=date(2026, 3, 1))

    response = schedule(login(admin_membership), round_, "2026-03-01", "2026-03-21")

    assert response.redirect_chain[-1][0] == list_url(admin_membership.trust)
    assert (reloaded(round_).opens_on, reloaded(round_).closes_on) == (date(2026, 3, 1), date(2026, 3, 21))
    assert "The March 2026 round is now open: open 1 Mar to 21 Mar 2026." in response.content.decode()


def test_reopening_a_closed_round(admin_membership, login):
    february = round_get_or_create(trust=admin_membership.trust, period=date(2026, 2, 1))
    assert february.status == "closed"

    response = schedule(login(admin_membership), february, "2026-02-01", "2026-03-17")

    assert reloaded(february).closes_on == date(2026, 3, 17)
    assert reloaded(february).status == "open"
    assert "The February 2026 round is now open" in response.content.decode()


def test_moving_a_scheduled_round(admin_membership, login):
    april = round_get_or_create(trust=admin_membership.trust, period=date(2026, 4, 1))

    schedule(login(admin_membership), april, "2026-04-06", "2026-04-24")

    assert (reloaded(april).opens_on, reloaded(april).closes_on) == (date(2026, 4, 6), date(2026, 4, 24))
    assert reloaded(april).status == "scheduled"


@pytest.mark.parametrize(
    "opens_on, closes_on, message",
    [
        ("2026-03-10", "2026-03-09", "The round must close on or after the day it opens."),
        ("2026-02-27", "2026-03-14", "A round cannot open before the month it rates."),
        ("2026-03-01", "2026-06-29", "A round must close by 28 June 2026."),
    ],
)
def test_bad_dates_are_refused_with_the_services_message(admin_membership, login, opens_on, closes_on, message):
    round_ = round_get_or_create(trust=admin_membership.trust, period=date(2026, 3, 1))

    response = schedule(login(admin_membership), round_, opens_on, closes_on, follow=False)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [message]
    assert message in response.content.decode()
    assert (reloaded(round_).opens_on, reloaded(round_).closes_on) == (date(2026, 3, 1), date(2026, 3, 14))


def test_a_date_that_is_not_a_date_is_refused(admin_membership, login):
    round_ = round_get_or_create(trust=admin_membership.trust, period=date(2026, 3, 1))

    response = schedule(login(admin_membership), round_, "2026-03-01", "soon", follow=False)

    assert response.context["form"].errors["closes_on"] == ["Enter a valid date."]
    assert reloaded(round_).closes_on == date(2026, 3, 14)


def test_another_trusts_round_of_the_same_month_is_not_found(admin_membership, other_trust, login):
    round_get_or_create(trust=other_trust, period=date(2026, 5, 1))

    assert login(admin_membership).get(edit_url(admin_membership.trust, "2026-05")).status_code == 404
