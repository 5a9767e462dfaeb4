"""Round reminders: the "round is open" email and the closing reminders a week and two days
before a round closes, to the raters who have not finished.

- `reminders_plan` decides who is due and writes one ReminderLog row per (round, person,
  kind) in the same transaction as the decision. The unique row is the guard: a doubled or
  retried run creates nothing new. It works in windows, never on exact dates, so a missed
  day catches up on the next run, and it only writes during SEND_HOURS, London time, so the
  emails go out at a sensible hour.
- The outbox loop (surveys/outbox.py) claims the rows and sends them after commit, calling
  `reminder_message` for each; it returns None (the row is cancelled) for a reminder that is
  no longer due: the person opted out, left, finished, or the round closed.
- People opt out of reminders (not of rating) with the signed link in every email, or on
  their profile page.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from objectives.models import Objective, Status
from partnership.emails import absolute_url, email_build
from partnership.models import Membership, Role

from ..models import Rating, RatingRound, ReminderKind, ReminderLog
from .ratings import is_rater

SEND_HOURS = range(8, 20)  # local (London) hours in which reminders are planned: 08:00 to 19:59
OPT_OUT_SALT = "surveys.reminders.opt-out"
CLOSING_KINDS = (ReminderKind.CLOSING_7, ReminderKind.CLOSING_2)
NUMBER_WORDS = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six"}


def _zone():
    return ZoneInfo(settings.TIME_ZONE)


def _local(moment):
    return timezone.localtime(moment, _zone())


def reminder_window(round, day):
    """The ReminderKind whose window contains `day`, or None outside the round.

    ROUND_OPEN from the opening day until a week before the close, CLOSING_7 for the five
    days after that, CLOSING_2 for the last three days (the closing day included).
    """
    if day < round.opens_on or day > round.closes_on:
        return None
    if day >= round.closes_on - timedelta(days=2):
        return ReminderKind.CLOSING_2
    if day >= round.closes_on - timedelta(days=7):
        return ReminderKind.CLOSING_7
    return ReminderKind.ROUND_OPEN


def rating_progress(round, memberships, *, only_these=False):
    """{membership pk: (rated, to rate)} for `memberships` in `round`, in two aggregate queries.

    "To rate" is the objectives each person rates now: the trust's agreed trust-wide ones plus
    their directorate's agreed ones (as `objectives_rateable`). "Rated" counts their ratings of
    those objectives, a "can't judge" (no score) included. `only_these` filters the ratings
    query to these people (for one or a few); without it, the whole round is aggregated once.
    """
    with scopes_disabled():
        per_directorate = dict(
            Objective.objects.filter(trust_id=round.trust_id, status=Status.AGREED)
            .order_by()
            .values_list("directorate_id")
            .annotate(n=Count("pk"))
        )
        ratings = Rating.objects.filter(round=round, rater__isnull=False, objective__status=Status.AGREED).filter(
            Q(objective__directorate__isnull=True) | Q(objective__directorate_id=F("rater__directorate_id"))
        )
        if only_these:
            ratings = ratings.filter(rater_id__in=[m.pk for m in memberships])
        rated = dict(ratings.order_by().values_list("rater_id").annotate(n=Count("pk")))
    trust_wide = per_directorate.get(None, 0)
    return {
        m.pk: (
            rated.get(m.pk, 0),
            trust_wide + (per_directorate.get(m.directorate_id, 0) if m.directorate_id else 0),
        )
        for m in memberships
    }


def _finished(progress):
    rated, to_rate = progress
    return rated >= to_rate  # nothing to rate (no agreed objectives) counts as finished: no email


def reminders_plan(*, now=None) -> int:
    """Write the reminder rows that are due now, for every open round of every trust.

    Nothing outside SEND_HOURS (London time). A rater (active, not an administrator, reminders
    on) who has not finished gets ROUND_OPEN first if they have none yet (new joiners too);
    after that, in a closing window, that window's kind once. Never two reminders to one
    person on one local day. Returns the number of rows decided (a concurrent run may have
    written some of them first; the unique constraint keeps one).
    """
    now = now or timezone.now()
    local = _local(now)
    if local.hour not in SEND_HOURS:
        return 0
    today = local.date()
    with scopes_disabled():
        rounds = list(RatingRound.objects.open_on(today).order_by("pk"))
    return sum(_round_plan(round_, today=today, now=now) for round_ in rounds)


def _round_plan(round, *, today, now):
    """One round's decisions: five queries, whatever the number of raters (see `reminders_plan`)."""
    window = reminder_window(round, today)
    if window is None:
        return 0
    with scopes_disabled(), transaction.atomic():
        raters = [
            m
            for m in Membership.objects.filter(
                trust_id=round.trust_id, is_active=True, receives_reminders=True, user__is_active=True
            )
            .exclude(role=Role.ADMINISTRATOR)
            .only("pk", "trust_id", "directorate_id", "role", "is_active")
            .order_by("pk")
            if is_rater(m)
        ]
        if not raters:
            return 0
        logged = {}
        for membership_id, kind, created_at in ReminderLog.objects.filter(round=round).values_list(
            "membership_id", "kind", "created_at"
        ):
            logged.setdefault(membership_id, {})[kind] = _local(created_at).date()
        progress = rating_progress(round, raters)
        rows = []
        for membership in raters:
            if _finished(progress[membership.pk]):
                continue
            had = logged.get(membership.pk, {})
            if ReminderKind.ROUND_OPEN not in had:
                kind = ReminderKind.ROUND_OPEN
            elif window in had or today in had.values():
                continue  # this window's reminder is done, or they already had one today
            else:
                kind = window
            rows.append(
                ReminderLog(
                    trust_id=round.trust_id,
                    round=round,
                    membership_id=membership.pk,
                    kind=kind,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        ReminderLog.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def reminders_opt_out_token(membership):
    """A signed token naming the membership; it does not expire (every email carries one)."""
    return signing.dumps({"membership": membership.pk}, salt=OPT_OUT_SALT)


def reminders_opt_out_url(membership):
    token = reminders_opt_out_token(membership)
    return absolute_url(reverse("reminders_opt_out", kwargs={"trust_code": membership.trust.code, "token": token}))


def reminders_membership_from_token(token):
    """The membership a valid opt-out token names (with trust and user), or None."""
    try:
        data = signing.loads(token, salt=OPT_OUT_SALT)
    except signing.BadSignature:
        return None
    membership_id = data.get("membership") if isinstance(data, dict) else None
    if not isinstance(membership_id, int):
        return None
    with scopes_disabled():
        return Membership.objects.select_related("trust", "user").filter(pk=membership_id).first()


def reminders_preference_set(*, membership, receives):
    """Turn a person's reminder emails on or off (they can rate either way)."""
    membership.receives_reminders = bool(receives)
    membership.save(update_fields=["receives_reminders"])
    return membership


def _time_left(days):
    if days <= 0:
        return "Last day"
    if days == 1:
        return "One day left"
    if days == 7:
        return "One week left"
    return f"{NUMBER_WORDS.get(days, days)} days left"


def reminder_message(row) -> EmailMessage | None:
    """The email for a claimed ReminderLog row, or None when it is no longer due (the outbox
    then cancels the row): reminders turned off, membership inactive or no longer a rater,
    round not open, or every objective already rated."""
    with scopes_disabled():
        row = (
            ReminderLog.objects.select_related("round__trust", "membership__user", "membership__trust")
            .filter(pk=row.pk)
            .first()
        )
    if row is None:
        return None
    membership, round_, trust = row.membership, row.round, row.round.trust
    person = membership.user
    today = _local(timezone.now()).date()
    if not (membership.receives_reminders and is_rater(membership) and person.is_active):
        return None
    if round_.status_on(today) != "open":
        return None
    rated, to_rate = rating_progress(round_, [membership], only_these=True)[membership.pk]
    if rated >= to_rate:
        return None
    opt_out_url = reminders_opt_out_url(membership)
    with scope(trust=trust):
        return email_build(
            template="reminder",
            to=person.email,
            context={
                "trust": trust,
                "round": round_,
                "person": person,
                "membership": membership,
                "kind": row.kind,
                "is_open_email": row.kind == ReminderKind.ROUND_OPEN,
                "time_left": _time_left((round_.closes_on - today).days),
                "closes_today": round_.closes_on == today,
                "rated": rated,
                "to_rate": to_rate,
                "rate_url": absolute_url(reverse("rate", args=[trust.code])),
                "profile_url": absolute_url(reverse("profile", args=[trust.code])),
                "opt_out_url": opt_out_url,
            },
            headers={"List-Unsubscribe": f"<{opt_out_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
