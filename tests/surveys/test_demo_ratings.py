"""The demo ratings (issue #4): six closed monthly rounds with about 80% of people answering
and the patterns the report must surface, plus this month's open round left for people to
rate; seeding again changes nothing."""

import io
from collections import defaultdict
from statistics import mean

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from partnership.demo.people import TRUST_CODE
from partnership.models import Membership
from surveys.models import PulseResponse, Rating, RatingRound
from surveys.services.ratings import is_rater

pytestmark = pytest.mark.django_db


def seed():
    call_command("seed_demo", allow_production=True, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def seeded(db):
    seed()


@pytest.fixture
def rounds(seeded):
    """The demo trust's rounds, oldest first."""
    with scopes_disabled():
        return list(RatingRound.objects.filter(trust__code=TRUST_CODE).order_by("period"))


@pytest.fixture
def closed_rounds(rounds):
    return [round_ for round_ in rounds if round_.status == "closed"]


def ratings_of(round_, ref):
    with scopes_disabled():
        return Rating.objects.filter(round=round_, objective__ref=ref, score__isnull=False)


def group_mean(round_, ref, group):
    return mean(ratings_of(round_, ref).filter(professional_group=group).values_list("score", flat=True))


def gap(round_, ref):
    """Managerial mean minus clinical mean (positive: managers see more progress)."""
    return group_mean(round_, ref, "managerial") - group_mean(round_, ref, "clinical")


def counts():
    with scopes_disabled():
        return RatingRound.objects.count(), Rating.objects.count(), PulseResponse.objects.count()


def contents():
    with scopes_disabled():
        return (
            sorted(RatingRound.objects.values_list("period", "opens_on", "closes_on")),
            sorted(Rating.objects.values_list("round_id", "objective_id", "rater_id", "score", "updated_at")),
            sorted(PulseResponse.objects.values_list("round_id", "rater_id", "quality", "outlook", "category")),
        )


def test_seven_rounds_six_closed_and_the_current_one_open(rounds):
    assert len(rounds) == 7
    assert [round_.status for round_ in rounds] == ["closed"] * 6 + ["open"]
    assert rounds[-1].period == timezone.localdate().replace(day=1)


def test_the_current_round_has_no_ratings_and_no_pulse(rounds):
    with scopes_disabled():
        assert not Rating.objects.filter(round=rounds[-1]).exists()
        assert not PulseResponse.objects.filter(round=rounds[-1]).exists()


def test_each_closed_round_has_ratings_from_about_eighty_percent_of_raters(closed_rounds):
    with scopes_disabled():
        raters = [m for m in Membership.objects.filter(trust__code=TRUST_CODE, is_active=True) if is_rater(m)]
        for round_ in closed_rounds:
            responded = Rating.objects.filter(round=round_).values("rater").distinct().count()
            assert 0.65 <= responded / len(raters) <= 0.95, round_.label


def test_obj_01_doctors_score_at_least_one_point_below_managers_every_month(closed_rounds):
    for round_ in closed_rounds:
        assert gap(round_, "OBJ-01") >= 1.0, round_.label


def test_obj_03_gap_shrinks_from_the_first_month_to_the_last(closed_rounds):
    assert abs(gap(closed_rounds[-1], "OBJ-03")) < abs(gap(closed_rounds[0], "OBJ-03"))


def test_operational_clinicians_have_the_lowest_mean_pulse_quality(closed_rounds):
    qualities = defaultdict(list)
    with scopes_disabled():
        for group, level, quality in PulseResponse.objects.filter(round__in=closed_rounds).values_list(
            "professional_group", "level", "quality"
        ):
            qualities[(group, level)].append(quality)
    means = {key: mean(values) for key, values in qualities.items()}

    assert len(means) == 4
    assert min(means, key=means.get) == ("clinical", "operational")


def test_seeding_again_adds_nothing(seeded):
    before = counts()

    seed()

    assert counts() == before


def test_seeding_again_changes_no_answer(seeded):
    before = contents()

    seed()

    assert contents() == before
