"""The trust home page tells raters whether a round is open and how far they have got."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.models import Rating
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_round(trust):
    today = timezone.localdate()
    round_ = round_get_or_create(trust=trust, period=today.replace(day=1))
    round_.opens_on, round_.closes_on = today - timedelta(days=1), today + timedelta(days=3)
    with scopes_disabled():
        round_.save()
    return round_


def home(login, membership):
    return login(membership).get(reverse("trust_home", args=[membership.trust.code])).content.decode()


def test_a_rater_sees_how_many_objectives_are_left(trust, open_round, consultant_membership, login):
    first, _ = ObjectiveFactory(trust=trust, status="agreed"), ObjectiveFactory(trust=trust, status="agreed")
    with scopes_disabled():
        Rating.objects.create(
            trust=trust, round=open_round, objective=first, rater=consultant_membership, score=3,
            professional_group="clinical", level="operational",
        )  # fmt: skip
    page = home(login, consultant_membership)
    assert f"The {open_round.label} round is open" in page
    assert "You have rated 1 of 2 objectives" in page
    assert reverse("rate", args=[trust.code]) in page


def test_the_medical_director_gets_a_link_to_response_rates(trust, open_round, login):
    md = MembershipFactory(trust=trust, medical_director=True)
    assert reverse("round_responses", args=[trust.code, open_round.slug]) in home(login, md)


def test_a_consultant_gets_no_response_rate_link(trust, open_round, consultant_membership, login):
    assert "Response rates" not in home(login, consultant_membership)


def test_without_an_open_round_raters_are_told_when_the_next_opens(trust, consultant_membership, login):
    assert "No rating round is open" in home(login, consultant_membership)
