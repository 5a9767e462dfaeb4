"""ratings_save, the one way ratings and the pulse are written (issue #4): only into an open
round, only by a rater, only for the objectives that person rates, validated, upserted (a
second save updates the same rows), and with the rater's group, level and directorate copied
onto each row."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from surveys.models import PulseResponse, Rating
from surveys.services.ratings import Answer, objectives_rateable, ratings_save
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def objectives(agreed_objective):
    return [agreed_objective(title="Clinicians co-lead redesigns"), agreed_objective(title="Shared budget reviews")]


def save(round_, membership, answers, pulse=None):
    return ratings_save(round=round_, membership=membership, answers=answers, pulse=pulse)


def rows():
    """(objective id, score, comment) of every stored rating."""
    return list(Rating.objects.order_by("objective_id").values_list("objective_id", "score", "comment"))


@pytest.fixture(autouse=True)
def _unscoped(unscoped):
    """The assertions read stored rows directly; ratings_save scopes itself."""


# --- what gets written ---------------------------------------------------------------------------


def test_saves_one_row_per_answer_and_returns_the_count(march_round, rater, objectives):
    first, second = objectives

    written = save(march_round, rater, {first.pk: Answer(4, "Going well"), second.pk: Answer(None)})

    assert written == 2
    assert rows() == [(first.pk, 4, "Going well"), (second.pk, None, "")]


def test_each_row_belongs_to_the_round_the_trust_and_the_rater(march_round, rater, objectives, trust):
    save(march_round, rater, {objectives[0].pk: Answer(3)})

    rating = Rating.objects.get()
    assert (rating.round, rating.trust, rating.rater) == (march_round, trust, rater)


def test_comment_is_stored_without_surrounding_whitespace(march_round, rater, objectives):
    save(march_round, rater, {objectives[0].pk: Answer(3, "  Slow start \n")})

    assert Rating.objects.get().comment == "Slow start"


def test_saving_again_updates_the_same_rows(march_round, rater, objectives):
    first, second = objectives
    save(march_round, rater, {first.pk: Answer(2, "Early days"), second.pk: Answer(3)})

    save(march_round, rater, {first.pk: Answer(5, "Done"), second.pk: Answer(None)})

    assert rows() == [(first.pk, 5, "Done"), (second.pk, None, "")]


def test_saving_again_keeps_created_at_and_moves_updated_at(march_round, rater, objectives):
    # bulk_create(update_conflicts=True) updates only the listed fields: created_at is not one.
    objective = objectives[0]
    save(march_round, rater, {objective.pk: Answer(2)})
    first = Rating.objects.get()

    with time_machine.travel(timedelta(hours=2), tick=False):
        save(march_round, rater, {objective.pk: Answer(4)})

    second = Rating.objects.get()
    assert second.pk == first.pk
    assert second.created_at == first.created_at
    assert second.updated_at == first.updated_at + timedelta(hours=2)


def test_saving_a_subset_leaves_the_other_answers_alone(march_round, rater, objectives):
    first, second = objectives
    save(march_round, rater, {first.pk: Answer(2), second.pk: Answer(3)})

    save(march_round, rater, {first.pk: Answer(5)})

    assert rows() == [(first.pk, 5, ""), (second.pk, 3, "")]


def test_a_comment_of_exactly_two_thousand_characters_is_accepted(march_round, rater, objectives):
    save(march_round, rater, {objectives[0].pk: Answer(3, "x" * 2000)})

    assert len(Rating.objects.get().comment) == 2000


# --- the snapshot of who rated ---------------------------------------------------------------------


def test_each_rating_records_the_raters_group_level_and_directorate(march_round, rater, objectives, medicine):
    save(march_round, rater, {objectives[0].pk: Answer(3)})

    rating = Rating.objects.get()
    assert (rating.professional_group, rating.level, rating.directorate) == ("clinical", "operational", medicine)


def test_changing_the_membership_later_does_not_rewrite_stored_ratings(
    march_round, february_round, rater, objectives, surgery
):
    with time_machine.travel(date(2026, 2, 10), tick=False):
        save(february_round, rater, {objectives[0].pk: Answer(3)})

    rater.professional_group, rater.level, rater.role, rater.directorate = (
        "managerial",
        "operational",
        "directorate_manager",
        surgery,
    )
    rater.save()

    rating = Rating.objects.get()
    assert (rating.professional_group, rating.level, rating.directorate.name) == ("clinical", "operational", "Medicine")


def test_a_save_after_a_membership_change_records_the_new_group(march_round, rater, objectives, surgery):
    save(march_round, rater, {objectives[0].pk: Answer(3)})
    rater.professional_group, rater.level, rater.role, rater.directorate = (
        "managerial",
        "board",
        "chief_executive",
        surgery,
    )
    rater.save()

    save(march_round, rater, {objectives[0].pk: Answer(4)})

    rating = Rating.objects.get()
    assert (rating.score, rating.professional_group, rating.level, rating.directorate) == (
        4,
        "managerial",
        "board",
        surgery,
    )


# --- the pulse ------------------------------------------------------------------------------------------


def test_saves_the_pulse_with_the_raters_snapshot(march_round, rater, medicine):
    pulse = {"quality": 2, "outlook": "improve", "category": "tension", "statements": {"involvement": 4}}

    save(march_round, rater, {}, pulse)

    response = PulseResponse.objects.get()
    assert (response.quality, response.outlook, response.category, response.statements) == (
        2,
        "improve",
        "tension",
        {"involvement": 4},
    )
    assert (response.rater, response.professional_group, response.level, response.directorate) == (
        rater,
        "clinical",
        "operational",
        medicine,
    )


def test_saving_the_pulse_again_updates_the_same_row(march_round, rater):
    save(march_round, rater, {}, {"quality": 2, "outlook": "same", "category": "tolerance", "statements": {}})

    save(march_round, rater, {}, {"quality": 4, "outlook": "improve", "category": "", "statements": {"balance": 5}})

    assert list(PulseResponse.objects.values_list("quality", "outlook", "category", "statements")) == [
        (4, "improve", "", {"balance": 5})
    ]


def test_an_empty_pulse_stores_no_pulse_row(march_round, rater, objectives):
    save(
        march_round,
        rater,
        {objectives[0].pk: Answer(3)},
        {"quality": None, "outlook": "", "category": "", "statements": {}},
    )

    assert not PulseResponse.objects.exists()


@pytest.mark.parametrize(
    "pulse",
    [
        {"quality": 0},
        {"quality": 6},
        {"outlook": "worse"},
        {"category": "war"},
        {"statements": {"involvement": 7}},
        {"statements": {"not-a-statement": 3}},
    ],
)
def test_a_bad_pulse_answer_is_refused_and_nothing_is_saved(march_round, rater, objectives, pulse):
    with pytest.raises(ValidationError):
        save(march_round, rater, {objectives[0].pk: Answer(3)}, pulse)

    assert not Rating.objects.exists()
    assert not PulseResponse.objects.exists()


# --- refusals -------------------------------------------------------------------------------------------


def test_a_closed_round_is_refused(february_round, rater, objectives):
    with pytest.raises(ValidationError, match="not open"):
        save(february_round, rater, {objectives[0].pk: Answer(3)})

    assert not Rating.objects.exists()


def test_a_round_not_yet_open_is_refused(trust, mid_march, rater, objectives):
    april = round_get_or_create(trust=trust, period=date(2026, 4, 1))

    with pytest.raises(ValidationError, match="not open"):
        save(april, rater, {objectives[0].pk: Answer(3)})

    assert not Rating.objects.exists()


def test_the_round_is_open_to_the_end_of_its_close_date_in_uk_time(trust, rater, agreed_objective):
    objective = agreed_objective()
    with time_machine.travel(datetime(2026, 7, 14, 23, 30, tzinfo=LONDON), tick=False):
        july = round_get_or_create(trust=trust, period=date(2026, 7, 1))

        assert save(july, rater, {objective.pk: Answer(3)}) == 1


def test_the_round_closes_at_midnight_uk_time_not_utc(trust, rater, agreed_objective):
    objective = agreed_objective()
    # 23:30 UTC on 14 July is already 00:30 on 15 July in London (BST).
    with time_machine.travel(datetime(2026, 7, 14, 23, 30, tzinfo=UTC), tick=False):
        july = round_get_or_create(trust=trust, period=date(2026, 7, 1))

        with pytest.raises(ValidationError, match="not open"):
            save(july, rater, {objective.pk: Answer(3)})

    assert not Rating.objects.exists()


def test_an_administrator_is_refused(march_round, admin_membership, objectives):
    with pytest.raises(ValidationError, match="does not rate"):
        save(march_round, admin_membership, {objectives[0].pk: Answer(3)})

    assert not Rating.objects.exists()


def test_an_inactive_member_is_refused(march_round, rater, objectives):
    rater.is_active = False
    rater.save()

    with pytest.raises(ValidationError):
        save(march_round, rater, {objectives[0].pk: Answer(3)})

    assert not Rating.objects.exists()


def test_a_round_of_another_trust_is_refused(mid_march, other_trust, rater, objectives):
    other_round = round_get_or_create(trust=other_trust, period=date(2026, 3, 1))

    with pytest.raises(ValidationError, match="another trust"):
        save(other_round, rater, {objectives[0].pk: Answer(3)})

    assert not Rating.objects.exists()


@pytest.mark.parametrize("status", ["draft", "proposed", "achieved", "retired"])
def test_an_objective_that_is_not_agreed_is_refused(march_round, rater, objectives, trust, status):
    not_agreed = ObjectiveFactory(trust=trust, status=status)

    with pytest.raises(ValidationError, match="cannot rate"):
        save(march_round, rater, {objectives[0].pk: Answer(3), not_agreed.pk: Answer(3)})

    assert not Rating.objects.exists()


def test_another_directorates_objective_is_refused(march_round, rater, objectives, agreed_objective, surgery):
    theirs = agreed_objective(directorate=surgery)

    with pytest.raises(ValidationError, match="cannot rate"):
        save(march_round, rater, {objectives[0].pk: Answer(3), theirs.pk: Answer(3)})

    assert not Rating.objects.exists()


def test_another_trusts_objective_is_refused(march_round, rater, objectives, other_trust):
    foreign = ObjectiveFactory(trust=other_trust, status="agreed")

    with pytest.raises(ValidationError, match="cannot rate"):
        save(march_round, rater, {objectives[0].pk: Answer(3), foreign.pk: Answer(3)})

    assert not Rating.objects.exists()


def test_own_directorates_agreed_objective_is_accepted(march_round, rater, agreed_objective, medicine):
    ours = agreed_objective(directorate=medicine)

    assert save(march_round, rater, {ours.pk: Answer(5)}) == 1


@pytest.mark.parametrize("score", [0, 6, -1, 10])
def test_a_score_out_of_range_is_refused(march_round, rater, objectives, score):
    with pytest.raises(ValidationError, match="from 1 to 5"):
        save(march_round, rater, {objectives[0].pk: Answer(3), objectives[1].pk: Answer(score)})

    assert not Rating.objects.exists()


def test_a_comment_over_two_thousand_characters_is_refused(march_round, rater, objectives):
    with pytest.raises(ValidationError, match="longer than 2,000"):
        save(march_round, rater, {objectives[0].pk: Answer(3, "x" * 2001)})

    assert not Rating.objects.exists()


def test_a_refused_second_save_leaves_the_first_answers_unchanged(march_round, rater, objectives):
    first, second = objectives
    save(march_round, rater, {first.pk: Answer(2, "Early days")})

    with pytest.raises(ValidationError):
        save(march_round, rater, {first.pk: Answer(5), second.pk: Answer(9)})

    assert rows() == [(first.pk, 2, "Early days")]


# --- who rates what -----------------------------------------------------------------------------------


def test_objectives_rateable_are_agreed_trust_wide_and_own_directorate_ones(
    trust, other_trust, rater, agreed_objective, medicine, surgery, unscoped
):
    trust_wide = agreed_objective()
    ours = agreed_objective(directorate=medicine)
    agreed_objective(directorate=surgery)
    for status in ("draft", "proposed", "achieved", "retired"):
        ObjectiveFactory(trust=trust, status=status)
    ObjectiveFactory(trust=other_trust, status="agreed")

    assert set(objectives_rateable(rater)) == {trust_wide, ours}


def test_a_member_without_a_directorate_rates_only_trust_wide_objectives(trust, agreed_objective, medicine, unscoped):
    trust_wide = agreed_objective()
    agreed_objective(directorate=medicine)
    board_member = MembershipFactory(trust=trust, medical_director=True)

    assert list(objectives_rateable(board_member)) == [trust_wide]
