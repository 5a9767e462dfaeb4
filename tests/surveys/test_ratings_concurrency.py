"""Two saves of the same person's answers at the same moment (two tabs, a double-click, a
retry) end as one row per objective and one pulse row, never as duplicates or an error: the
unique constraints plus INSERT ... ON CONFLICT DO UPDATE make the second an update.

Meaningful on PostgreSQL (run with DATABASE_URL=postgres://...), where the two threads really
write at once. SQLite's shared in-memory test database locks whole tables against a second
writer ("database table is locked") instead of queueing it, so there the same saves run one
after the other: the test still checks the upsert, just not the race.
"""

import threading

import pytest
from django.db import connection, connections
from django_scopes import scopes_disabled

from surveys.models import PulseResponse, Rating
from surveys.services.ratings import Answer, ratings_save

pytestmark = pytest.mark.django_db(transaction=True)

RACES = 5  # several races, so that at least some of them really overlap


def save_both_at_once(saves):
    """Run each zero-argument callable in `saves` in its own thread, released together by a
    barrier; returns the exceptions raised (none expected)."""
    errors = []
    if connection.vendor == "sqlite":  # see the module docstring: no concurrent writers
        for save in saves:
            try:
                save()
            except Exception as exc:  # noqa: BLE001 -- collected and asserted on by the test
                errors.append(exc)
        return errors

    barrier = threading.Barrier(len(saves))

    def run(save):
        try:
            barrier.wait(timeout=10)
            save()
        except Exception as exc:  # noqa: BLE001 -- collected and asserted on by the test
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connection, so the test database can be dropped

    threads = [threading.Thread(target=run, args=(save,)) for save in saves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a save hung"
    return errors


@pytest.fixture
def objectives(agreed_objective, medicine):
    return [agreed_objective(), agreed_objective(), agreed_objective(directorate=medicine), agreed_objective()]


def submission(round_, membership, objectives, score, quality):
    def save():
        ratings_save(
            round=round_,
            membership=membership,
            answers={objective.pk: Answer(score, f"Said {score}") for objective in objectives},
            pulse={"quality": quality, "outlook": "same", "category": "", "statements": {}},
        )

    return save


def stored(round_):
    with scopes_disabled():
        ratings = list(Rating.objects.filter(round=round_).values_list("objective_id", "rater_id", "score", "comment"))
        pulses = list(PulseResponse.objects.filter(round=round_).values_list("rater_id", "quality"))
    return ratings, pulses


def test_simultaneous_saves_raise_nothing(march_round, rater, objectives):
    for _ in range(RACES):
        errors = save_both_at_once(
            [submission(march_round, rater, objectives, 2, 1), submission(march_round, rater, objectives, 5, 4)]
        )

        assert errors == []


def test_simultaneous_saves_leave_one_rating_per_objective_and_one_pulse(march_round, rater, objectives):
    for _ in range(RACES):
        save_both_at_once(
            [submission(march_round, rater, objectives, 2, 1), submission(march_round, rater, objectives, 5, 4)]
        )

        ratings, pulses = stored(march_round)
        assert sorted(objective_id for objective_id, *_ in ratings) == sorted(o.pk for o in objectives)
        assert {rater_id for _, rater_id, *_ in ratings} == {rater.pk}
        assert len(pulses) == 1


def test_simultaneous_saves_end_with_one_whole_submission_not_a_mix(march_round, rater, objectives):
    for _ in range(RACES):
        save_both_at_once(
            [submission(march_round, rater, objectives, 2, 1), submission(march_round, rater, objectives, 5, 4)]
        )

        ratings, pulses = stored(march_round)
        scores = {(score, comment) for *_, score, comment in ratings}
        assert (scores, pulses[0][1]) in [({(2, "Said 2")}, 1), ({(5, "Said 5")}, 4)]
