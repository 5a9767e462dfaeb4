"""Rating rounds: one per trust per calendar month, created ahead by a periodic task."""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from partnership.models import Trust

from ..models import RatingRound
from .frozen import round_ensure_not_reported


def month_start(day):
    return day.replace(day=1)


PERIOD_PATTERN = re.compile(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])")


def period_parse(text):
    """date(YYYY, MM, 1) from 'YYYY-MM' (ASCII digits, years 1900-2099); ValueError otherwise."""
    if not isinstance(text, str) or not PERIOD_PATTERN.fullmatch(text.strip()):
        raise ValueError(f"period {text!r} is not a month like 2026-03")
    year, month = text.strip().split("-")
    return date(int(year), int(month), 1)


def round_dates(trust, period):
    """(opens_on, closes_on) of the round for `period` under the trust's calendar."""
    return period.replace(day=trust.round_opens_day), period.replace(day=trust.round_closes_day)


def round_get_or_create(*, trust, period):
    """The trust's round for `period` (a month), created with the trust's calendar if missing."""
    period = month_start(period)
    opens_on, closes_on = round_dates(trust, period)
    with scope(trust=trust):
        round_, _ = RatingRound.objects.get_or_create(
            trust=trust, period=period, defaults={"opens_on": opens_on, "closes_on": closes_on}
        )
    return round_


def rounds_create_due(*, today=None):
    """Create this month's round for every trust that lacks one (idempotent). Returns how many."""
    today = today or timezone.localdate()
    period = month_start(today)
    trusts = list(Trust.objects.all())
    with scopes_disabled(), transaction.atomic():
        existing = set(RatingRound.objects.filter(period=period).values_list("trust_id", flat=True))
        new = [
            RatingRound(trust=trust, period=period, opens_on=opens_on, closes_on=closes_on)
            for trust in trusts
            if trust.pk not in existing
            for opens_on, closes_on in [round_dates(trust, period)]
        ]
        RatingRound.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def round_schedule(*, round, opens_on, closes_on):
    """Move a round's dates (extend, re-open or shorten it). The round stays in its month's
    neighbourhood: it may open no earlier than its month and close within 3 months of it. A
    reported round is frozen (surveys.services.frozen): its dates never change."""
    round_ensure_not_reported(round, doing="re-opened, extended or moved")
    if closes_on < opens_on:
        raise ValidationError("The round must close on or after the day it opens.")
    if opens_on < round.period:
        raise ValidationError("A round cannot open before the month it rates.")
    latest = date(round.period.year + (round.period.month + 2) // 12, (round.period.month + 2) % 12 + 1, 28)
    if closes_on > latest:
        raise ValidationError(f"A round must close by {latest:%d %B %Y}.")
    round.opens_on, round.closes_on = opens_on, closes_on
    round.save(update_fields=["opens_on", "closes_on"])
    return round
