"""Rating rounds as a calendar: one per trust per month, created by a daily periodic task on
the trust's days (Europe/London), idempotently; statuses; parsing a period."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask
from django_scopes import scopes_disabled

from partnership.management.commands.setup_periodic_tasks import schedule_collect
from surveys.models import RatingRound
from surveys.services.rounds import period_parse, round_get_or_create, rounds_create_due
from surveys.tasks import rounds_create_due_task
from tests.factories import TrustFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TASK = "surveys.tasks.rounds_create_due_task"


def london(*args):
    """A moment in UK time, for time_machine (tick=False: the clock stands still)."""
    return time_machine.travel(datetime(*args, tzinfo=LONDON), tick=False)


def rounds():
    with scopes_disabled():
        return list(RatingRound.objects.select_related("trust").order_by("trust__code", "period"))


@pytest.fixture
def trusts(db):
    """Two trusts with the default calendar (1st to 14th) and one with its own (5th to 20th)."""
    return [
        TrustFactory(code="RAA"),
        TrustFactory(code="RBB"),
        TrustFactory(code="RCC", round_opens_day=5, round_closes_day=20),
    ]


# --- rounds_create_due -----------------------------------------------------------------------


def test_creates_this_months_round_for_every_trust_on_its_own_days(trusts):
    with london(2026, 3, 9, 12):
        assert rounds_create_due() == 3

    assert [(r.trust.code, r.period, r.opens_on, r.closes_on) for r in rounds()] == [
        ("RAA", date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 14)),
        ("RBB", date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 14)),
        ("RCC", date(2026, 3, 1), date(2026, 3, 5), date(2026, 3, 20)),
    ]


def test_running_again_creates_nothing_and_leaves_changed_dates_alone(trusts):
    with london(2026, 3, 1, 0, 10):
        rounds_create_due()
    with scopes_disabled():
        RatingRound.objects.filter(trust__code="RAA").update(closes_on=date(2026, 3, 21))  # extended by an admin

    with london(2026, 3, 15, 0, 10):
        assert rounds_create_due() == 0
        assert rounds_create_due() == 0

    assert len(rounds()) == 3
    assert [r.closes_on for r in rounds()] == [date(2026, 3, 21), date(2026, 3, 14), date(2026, 3, 20)]


def test_only_trusts_without_a_round_get_one(trusts):
    existing = round_get_or_create(trust=trusts[0], period=date(2026, 3, 1))

    with london(2026, 3, 2, 8):
        assert rounds_create_due() == 2

    assert len(rounds()) == 3
    assert rounds()[0].pk == existing.pk


def test_a_new_month_gets_a_new_round(trusts):
    with london(2026, 3, 31, 12):
        rounds_create_due()
    with london(2026, 4, 1, 0, 10):
        assert rounds_create_due() == 3

    assert sorted({r.period for r in rounds()}) == [date(2026, 3, 1), date(2026, 4, 1)]


def test_the_month_follows_london_time_not_utc(trusts):
    # 00:30 on 1 April in London (BST) is still 31 March in UTC: the round is April's.
    with london(2026, 4, 1, 0, 30):
        rounds_create_due()

    assert {r.period for r in rounds()} == {date(2026, 4, 1)}


def test_the_task_runs_the_service_idempotently(trusts):
    with london(2026, 3, 1, 0, 10):
        assert rounds_create_due_task.delay().get() == 3
        assert rounds_create_due_task.delay().get() == 0  # a retry (acks_late) or a second beat

    assert len(rounds()) == 3


def test_the_task_acknowledges_late_so_a_lost_worker_retries_it():
    assert rounds_create_due_task.acks_late is True


def test_the_task_is_in_the_beat_schedule_daily_in_london_time():
    assert schedule_collect()["Create this month's rating rounds (daily 00:10)"][0] == TASK

    call_command("setup_periodic_tasks", stdout=io.StringIO())

    periodic = PeriodicTask.objects.get(task=TASK)
    assert periodic.enabled
    assert (periodic.crontab.minute, periodic.crontab.hour, periodic.crontab.day_of_month) == ("10", "0", "*")
    assert str(periodic.crontab.timezone) == "Europe/London"


# --- round_get_or_create, status, period ----------------------------------------------------------


def test_round_get_or_create_returns_the_existing_round(trusts):
    first = round_get_or_create(trust=trusts[2], period=date(2026, 5, 17))  # any day names its month
    again = round_get_or_create(trust=trusts[2], period=date(2026, 5, 1))

    assert first.pk == again.pk
    assert (first.period, first.opens_on, first.closes_on) == (date(2026, 5, 1), date(2026, 5, 5), date(2026, 5, 20))


@pytest.mark.parametrize(
    "day, status",
    [
        (date(2026, 3, 4), "scheduled"),
        (date(2026, 3, 5), "open"),
        (date(2026, 3, 20), "open"),  # the closing day is inclusive
        (date(2026, 3, 21), "closed"),
    ],
)
def test_status_on_a_day(trusts, day, status):
    round_ = round_get_or_create(trust=trusts[2], period=date(2026, 3, 1))

    assert round_.status_on(day) == status


def test_status_is_todays_in_london(trusts):
    round_ = round_get_or_create(trust=trusts[0], period=date(2026, 3, 1))

    with london(2026, 3, 14, 23, 59):
        assert round_.status == "open"
    with london(2026, 3, 15, 0, 1):
        assert round_.status == "closed"


def test_label_and_slug(trusts):
    round_ = round_get_or_create(trust=trusts[0], period=date(2026, 3, 1))

    assert (round_.label, round_.slug) == ("March 2026", "2026-03")


def test_period_parse_reads_a_month():
    assert period_parse("2026-03") == date(2026, 3, 1)
    assert period_parse(" 2026-12 ") == date(2026, 12, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-3", "26-03", "2026-03-01", "March", "", "2026/03"])
def test_period_parse_refuses_anything_else(text):
    with pytest.raises(ValueError, match="is not a month like"):
        period_parse(text)
