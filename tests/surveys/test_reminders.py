"""Round reminders: who is due when (windows, send hours, London dates), at most once per
(round, person, kind), and the emails themselves as the outbox loop sends them."""

import io
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.models import OutboxStatus, Rating, ReminderKind, ReminderLog
from surveys.outbox import backoff, outbox_claim, outbox_deliver
from surveys.services.reminders import reminder_message, reminder_window, reminders_plan
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory

LONDON = ZoneInfo("Europe/London")
OPEN, WEEK, TWO_DAYS = ReminderKind.ROUND_OPEN, ReminderKind.CLOSING_7, ReminderKind.CLOSING_2


def london(month, day, hour=10, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@contextmanager
def frozen(moment):
    with time_machine.travel(moment, tick=False):
        yield


def round_for(trust, period, *, opens_on=None, closes_on=None):
    round_ = round_get_or_create(trust=trust, period=period)
    round_.opens_on = opens_on or round_.opens_on
    round_.closes_on = closes_on or round_.closes_on
    with scopes_disabled():
        round_.save()
    return round_


@pytest.fixture
def november(trust):
    """The November 2026 round, 1st to 14th: round-open window 1-6, a week left 7-11, two days 12-14."""
    return round_for(trust, date(2026, 11, 1))


@pytest.fixture
def objectives(trust, medicine, surgery):
    """Two agreed trust-wide objectives, one agreed for Medicine, one for Surgery, one draft."""
    return {
        "wide_1": ObjectiveFactory(trust=trust, status="agreed"),
        "wide_2": ObjectiveFactory(trust=trust, status="agreed"),
        "medicine": ObjectiveFactory(trust=trust, status="agreed", directorate=medicine),
        "surgery": ObjectiveFactory(trust=trust, status="agreed", directorate=surgery),
        "draft": ObjectiveFactory(trust=trust, status="draft"),
    }


@pytest.fixture
def people(trust, medicine, objectives):
    """Two raters (3 and 2 objectives to rate) and three people who never get reminders."""
    return {
        "medic": MembershipFactory(trust=trust, directorate=medicine, user__email="medic@ashby.nhs.uk"),
        "manager": MembershipFactory(trust=trust, directorate_manager=True, user__email="manager@ashby.nhs.uk"),
        "admin": MembershipFactory(trust=trust, administrator=True),
        "inactive": MembershipFactory(trust=trust, is_active=False),
        "opted_out": MembershipFactory(trust=trust, receives_reminders=False),
    }


def rate(membership, round_, *objectives, score=3):
    """Ratings as the rate page stores them (score None: can't judge)."""
    with scopes_disabled():
        for objective in objectives:
            Rating.objects.create(
                trust=round_.trust,
                round=round_,
                objective=objective,
                rater=membership,
                score=score,
                professional_group=membership.professional_group,
                level=membership.level,
                directorate=membership.directorate,
            )


def logged(round_=None):
    """{(email, kind)} of the reminder rows."""
    with scopes_disabled():
        rows = ReminderLog.objects.all() if round_ is None else ReminderLog.objects.filter(round=round_)
        return {(email, kind) for email, kind in rows.values_list("membership__user__email", "kind")}


def plan_at(moment):
    with frozen(moment):
        return reminders_plan()


def send():
    """Exactly what the periodic task does: claim the due rows, build and send their emails."""
    return outbox_deliver(ReminderLog, outbox_claim(ReminderLog), reminder_message)


def status_of(membership, kind):
    with scopes_disabled():
        return ReminderLog.objects.get(membership=membership, kind=kind)


MEDIC, MANAGER = "medic@ashby.nhs.uk", "manager@ashby.nhs.uk"


# Windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, kind",
    [
        (date(2026, 10, 31), None),
        (date(2026, 11, 1), OPEN),
        (date(2026, 11, 6), OPEN),
        (date(2026, 11, 7), WEEK),  # 7 days before the close
        (date(2026, 11, 11), WEEK),
        (date(2026, 11, 12), TWO_DAYS),  # 2 days before the close
        (date(2026, 11, 14), TWO_DAYS),  # the closing day
        (date(2026, 11, 15), None),
    ],
)
def test_reminder_windows(november, day, kind):
    assert reminder_window(november, day) == kind


def test_a_short_round_starts_in_a_closing_window(trust):
    round_ = round_for(trust, date(2026, 11, 1), opens_on=date(2026, 11, 10))
    assert reminder_window(round_, date(2026, 11, 9)) is None
    assert reminder_window(round_, date(2026, 11, 10)) == WEEK


# Planning ---------------------------------------------------------------------------------


def test_every_rater_gets_round_open_once(november, people):
    assert plan_at(london(11, 2)) == 2
    assert logged() == {(MEDIC, OPEN), (MANAGER, OPEN)}  # not the administrator, inactive or opted out

    assert plan_at(london(11, 2, 15)) == 0  # a doubled run, or the next tick
    assert plan_at(london(11, 4)) == 0  # later in the same window
    assert logged() == {(MEDIC, OPEN), (MANAGER, OPEN)}


def test_rows_are_pending_and_due_now(november, people):
    plan_at(london(11, 2))
    row = status_of(people["medic"], OPEN)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert row.next_attempt_at == london(11, 2) and row.trust_id == november.trust_id


@pytest.mark.parametrize(
    "hour, minute, creates",
    [(3, 0, False), (7, 59, False), (8, 0, True), (12, 0, True), (19, 59, True), (20, 0, False), (23, 30, False)],
)
def test_plans_only_between_8_and_20_london_time(november, people, hour, minute, creates):
    assert (plan_at(london(11, 2, hour, minute)) > 0) is creates
    assert bool(logged()) is creates


def test_plans_nothing_outside_an_open_round(november, people):
    assert plan_at(london(10, 31)) == 0
    assert plan_at(london(11, 15)) == 0
    assert logged() == set()


def test_closing_reminders_only_for_those_who_have_not_finished(november, people, objectives, medicine):
    o = objectives
    partly = MembershipFactory(trust=november.trust, directorate=medicine, user__email="partly@ashby.nhs.uk")
    plan_at(london(11, 2))
    rate(people["medic"], november, o["wide_1"], o["medicine"])
    rate(people["medic"], november, o["wide_2"], score=None)  # can't judge counts as rated: finished
    rate(people["manager"], november, o["wide_1"])  # 1 of 2
    # Two of three, plus ratings that do not count: another directorate's and a draft objective.
    rate(partly, november, o["wide_1"], o["wide_2"], o["surgery"], o["draft"])

    assert plan_at(london(11, 8)) == 2
    assert logged() == {(MEDIC, OPEN), (MANAGER, OPEN), ("partly@ashby.nhs.uk", OPEN)} | {
        (MANAGER, WEEK),
        ("partly@ashby.nhs.uk", WEEK),
    }


def test_nobody_who_has_finished_gets_any_reminder(november, people, objectives):
    o = objectives
    rate(people["medic"], november, o["wide_1"], o["wide_2"], o["medicine"])
    rate(people["manager"], november, o["wide_1"], o["wide_2"], score=None)
    for moment in (london(11, 2), london(11, 8), london(11, 13)):
        assert plan_at(moment) == 0
    assert logged() == set()


def test_nothing_to_rate_means_no_emails(november, people, objectives):
    with scopes_disabled():
        for objective in objectives.values():
            objective.status = "proposed"
            objective.save(update_fields=["status"])
    assert plan_at(london(11, 2)) == 0


def test_a_missed_day_catches_up(november, people):
    plan_at(london(11, 2))
    # Nothing ran from the 7th (a week before the close) until the 9th: the window still holds.
    assert plan_at(london(11, 9)) == 2
    assert {kind for _, kind in logged()} == {OPEN, WEEK}
    # Nothing ran from the 12th until the 13th: the two-day reminder still goes.
    assert plan_at(london(11, 13)) == 2
    assert logged() == {(email, kind) for email in (MEDIC, MANAGER) for kind in (OPEN, WEEK, TWO_DAYS)}


def test_a_missed_window_is_not_sent_late(november, people):
    plan_at(london(11, 2))
    # No run during the whole "week left" window: only the current window's reminder is due.
    assert plan_at(london(11, 13)) == 2
    assert logged() == {(MEDIC, OPEN), (MANAGER, OPEN), (MEDIC, TWO_DAYS), (MANAGER, TWO_DAYS)}


def test_never_two_reminders_to_one_person_on_one_day(november, people):
    # The first run of this round is already in the "week left" window.
    assert plan_at(london(11, 8, 9)) == 2
    assert logged() == {(MEDIC, OPEN), (MANAGER, OPEN)}
    assert plan_at(london(11, 8, 19, 59)) == 0  # same London day: the closing reminder waits
    assert plan_at(london(11, 9, 8)) == 2  # the next morning
    assert logged() == {(MEDIC, OPEN), (MANAGER, OPEN), (MEDIC, WEEK), (MANAGER, WEEK)}


def test_joining_mid_round_gets_the_round_open_email_first(november, people, trust):
    plan_at(london(11, 2))
    plan_at(london(11, 8, 9))
    joiner = MembershipFactory(trust=trust, user__email="joiner@ashby.nhs.uk")
    assert plan_at(london(11, 8, 14)) == 1
    assert ("joiner@ashby.nhs.uk", OPEN) in logged() and ("joiner@ashby.nhs.uk", WEEK) not in logged()
    assert plan_at(london(11, 12)) == 3  # everyone's two-day reminder, the joiner's too
    with scopes_disabled():
        assert set(ReminderLog.objects.filter(membership=joiner).values_list("kind", flat=True)) == {OPEN, TWO_DAYS}


def test_each_trust_gets_its_own_rows(november, people, other_trust):
    round_for(other_trust, date(2026, 11, 1))
    MembershipFactory(trust=other_trust, user__email="brook@brook.nhs.uk")
    ObjectiveFactory(trust=other_trust, status="agreed")
    assert plan_at(london(11, 2)) == 3
    assert logged(november) == {(MEDIC, OPEN), (MANAGER, OPEN)}
    with scopes_disabled():
        row = ReminderLog.objects.get(membership__user__email="brook@brook.nhs.uk")
    assert row.trust_id == other_trust.pk and row.round.trust_id == other_trust.pk


@pytest.mark.parametrize("raters", [2, 40])
def test_planning_queries_do_not_grow_with_the_number_of_raters(
    november, objectives, trust, raters, django_assert_max_num_queries
):
    people = MembershipFactory.create_batch(raters, trust=trust)
    rate(people[0], november, objectives["wide_1"])
    plan_at(london(11, 2))
    with frozen(london(11, 9)):
        # 1 query for the open rounds, then per round: SAVEPOINT, raters, rows already logged,
        # agreed objectives per directorate, ratings per rater, one INSERT of the new rows,
        # RELEASE. (SQLite splits an INSERT into batches of 999 parameters, about 80 rows; 40 fit.)
        with django_assert_max_num_queries(8):
            assert reminders_plan() == raters


# DST and London dates ------------------------------------------------------------------------


@pytest.fixture
def dst_rounds(trust, people):
    """Rounds open over both clock changes: October 2026 and March 2027, each to the 31st."""
    return (
        round_for(trust, date(2026, 10, 1), closes_on=date(2026, 10, 31)),
        round_for(trust, date(2027, 3, 1), closes_on=date(2027, 3, 31)),
    )


@pytest.mark.parametrize(
    "utc, creates",
    [
        # 25 October 2026: clocks go back at 01:00 UTC, London is on GMT (= UTC) from then.
        (datetime(2026, 10, 25, 7, 30, tzinfo=UTC), False),  # 07:30 GMT
        (datetime(2026, 10, 25, 8, 30, tzinfo=UTC), True),  # 08:30 GMT
        (datetime(2026, 10, 25, 19, 30, tzinfo=UTC), True),  # 19:30 GMT
        (datetime(2026, 10, 25, 20, 0, tzinfo=UTC), False),  # 20:00 GMT
        # 28 March 2027: clocks go forward at 01:00 UTC, London is on BST (UTC+1) from then.
        (datetime(2027, 3, 28, 6, 30, tzinfo=UTC), False),  # 07:30 BST
        (datetime(2027, 3, 28, 7, 30, tzinfo=UTC), True),  # 08:30 BST
        (datetime(2027, 3, 28, 18, 30, tzinfo=UTC), True),  # 19:30 BST
        (datetime(2027, 3, 28, 19, 0, tzinfo=UTC), False),  # 20:00 BST
    ],
)
def test_send_hours_follow_london_time_across_clock_changes(dst_rounds, utc, creates):
    assert (plan_at(utc) == 2) is creates
    assert len(logged()) == (2 if creates else 0)


@pytest.mark.parametrize(
    "planned, sent, still_open",
    [
        # 23:30 UTC on 31 October 2026 is 23:30 GMT: still the closing day in London.
        (datetime(2026, 10, 31, 12, tzinfo=UTC), datetime(2026, 10, 31, 23, 30, tzinfo=UTC), True),
        # 23:30 UTC on 31 March 2027 is 00:30 BST on 1 April: the round has closed in London.
        (datetime(2027, 3, 31, 12, tzinfo=UTC), datetime(2027, 3, 31, 23, 30, tzinfo=UTC), False),
    ],
)
def test_the_day_is_the_london_day(dst_rounds, planned, sent, still_open):
    assert plan_at(planned) == 2
    assert reminder_window(dst_rounds[0 if planned.month == 10 else 1], timezone.localdate(planned)) == TWO_DAYS
    with frozen(sent):
        assert send() == ((2, 0) if still_open else (0, 0))
    assert len(mail.outbox) == (2 if still_open else 0)


# Sending ------------------------------------------------------------------------------------


def test_round_open_emails(november, people, trust):
    plan_at(london(11, 2))
    with frozen(london(11, 2, 10, 1)):
        assert send() == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == [MANAGER, MEDIC]
    message = next(m for m in mail.outbox if m.to == [MANAGER])
    rate_url = f"{settings.SITE_URL}/trusts/RAA/rate/"
    assert message.subject == "The November round is open: rate our shared objectives · Ashby Hospitals NHS Trust"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    for body in (message.body, html):
        assert "Ashby Hospitals NHS Trust" in body
        assert rate_url in body
        assert "under two minutes" in body
        assert "fewer than 5 people" in body
        assert "Saturday 14 November" in body.replace("\n", " ")
    assert "There are 2 objectives for you to rate." in message.body
    assert "<strong>Ashby Hospitals NHS Trust</strong>" in html and f'href="{rate_url}"' in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{settings.SITE_URL}/trusts/RAA/reminders/opt-out/") and unsubscribe.endswith(">")
    assert unsubscribe[1:-1] in message.body and unsubscribe[1:-1] in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"{settings.SITE_URL}/trusts/RAA/profile/" in message.body
    # The rendered message carries the headers (what the SMTP server receives).
    raw = message.message()
    assert raw["List-Unsubscribe"] == unsubscribe and raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert status_of(people["manager"], OPEN).status == OutboxStatus.SENT

    with frozen(london(11, 2, 10, 2)):
        assert send() == (0, 0)  # a second claim finds nothing
    assert len(mail.outbox) == 2


def test_closing_emails_say_how_long_is_left_and_how_far_they_got(november, people, objectives):
    plan_at(london(11, 2))
    send()
    rate(people["medic"], november, objectives["wide_1"])
    mail.outbox.clear()
    with frozen(london(11, 7)):
        reminders_plan()
        assert send() == (2, 0)
    medic = next(m for m in mail.outbox if m.to == [MEDIC])
    assert medic.subject == "One week left to rate our shared objectives · Ashby Hospitals NHS Trust"
    assert "You have rated 1 of 3 objectives." in medic.body
    assert "closes at the end of Saturday 14 November" in medic.body.replace("\n", " ")
    assert "You have rated <strong>1 of 3</strong> objectives." in medic.alternatives[0][0]

    mail.outbox.clear()
    with frozen(london(11, 12)):
        reminders_plan()
        assert send() == (2, 0)
    assert {m.subject.split(" · ")[0] for m in mail.outbox} == {"Two days left to rate our shared objectives"}


def test_a_late_catch_up_says_the_real_time_left(november, people):
    plan_at(london(11, 2))
    send()
    mail.outbox.clear()
    with frozen(london(11, 14)):
        reminders_plan()
        send()
    assert {m.subject.split(" · ")[0] for m in mail.outbox} == {"Last day to rate our shared objectives"}
    assert "closes at the end of today" in mail.outbox[0].body.replace("\n", " ")


def test_someone_who_finishes_before_the_send_gets_nothing(november, people, objectives):
    plan_at(london(11, 2))
    send()
    mail.outbox.clear()
    with frozen(london(11, 8)):
        reminders_plan()
        rate(people["manager"], november, objectives["wide_1"], objectives["wide_2"])
        assert send() == (1, 0)
    assert [m.to for m in mail.outbox] == [[MEDIC]]
    assert status_of(people["manager"], WEEK).status == OutboxStatus.CANCELLED


@pytest.mark.parametrize("change", ["opted_out", "left", "round_closed"])
def test_a_reminder_no_longer_due_is_cancelled(november, people, change):
    plan_at(london(11, 14, 19))
    manager = people["manager"]
    when = london(11, 14, 19, 1)
    if change == "opted_out":
        manager.receives_reminders = False
        manager.save(update_fields=["receives_reminders"])
    elif change == "left":
        manager.is_active = False
        manager.save(update_fields=["is_active"])
    else:
        when = london(11, 15, 0, 1)  # the worker was down until after midnight
    with frozen(when):
        send()
    assert status_of(manager, OPEN).status == OutboxStatus.CANCELLED
    assert MANAGER not in [m.to[0] for m in mail.outbox]


def test_a_failed_send_is_recorded_and_retried_after_the_backoff(november, people, monkeypatch):
    def flaky_send(message, fail_silently=False):
        if message.to == [MANAGER]:
            raise OSError("Connection refused by the relay")
        return EmailMessage.send(message, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky_send)
    plan_at(london(11, 2))
    sent_at = london(11, 2, 10, 1)
    with frozen(sent_at):
        assert send() == (1, 1)
    assert [m.to for m in mail.outbox] == [[MEDIC]]
    row = status_of(people["manager"], OPEN)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.last_error == "OSError: Connection refused by the relay"
    assert row.next_attempt_at == sent_at + backoff(1) and row.next_attempt_at > sent_at
    assert status_of(people["medic"], OPEN).status == OutboxStatus.SENT

    with frozen(sent_at + timedelta(minutes=1)):
        assert send() == (0, 0)  # not due yet

    monkeypatch.undo()  # the relay is back
    with frozen(sent_at + backoff(1)):
        assert send() == (1, 0)
        assert send() == (0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == [MANAGER, MEDIC]
    row = status_of(people["manager"], OPEN)
    assert row.status == OutboxStatus.SENT and row.attempts == 2


# `manage.py send_reminders`: the reminder tick by hand, for demos and catching up.


def send_reminders(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("send_reminders", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_plans_and_sends_the_due_reminders_once(november, people):
    with frozen(london(11, 3, hour=10)):
        first, _ = send_reminders()
        second, _ = send_reminders()
    assert first == "Reminders: 2 planned, 2 sent, 0 failed (will be retried)"
    assert second == "Reminders: 0 planned, 0 sent, 0 failed (will be retried)"
    assert sorted(m.to[0] for m in mail.outbox) == ["manager@ashby.nhs.uk", "medic@ashby.nhs.uk"]


def test_the_command_plans_nothing_at_night_unless_told_when(november, people):
    with frozen(london(11, 3, hour=3)):
        night, warning = send_reminders()
        by_hand, _ = send_reminders("--now", "2026-11-03 09:00")
    assert night.startswith("Reminders: 0 planned") and "Outside 08:00-20:00" in warning
    assert by_hand.startswith("Reminders: 2 planned, 2 sent")


def test_the_command_refuses_a_bad_now(november, people):
    with pytest.raises(CommandError, match="not a local date and time"):
        send_reminders("--now", "tomorrow")
