"""Demo ratings and pulse for the Northgate trust: six closed monthly rounds and the current
one, open until the month's end so that the demo consultant can rate straight away.

The patterns are the ones the report must surface: most objectives aligned; devolved
decisions (OBJ-01) and aligned interests (OBJ-02) clearly divergent, doctors seeing less
progress than managers; the leadership forum (OBJ-03) converging over the six months; in
the pulse, operational clinicians the least positive and senior managers the most, as in
the 2002 survey. Deterministic (fixed random seed); rounds that already have ratings are
left alone.
"""

import calendar
import random

from django.utils import timezone
from django_scopes import scope

from objectives.models import Objective, Status
from partnership.models import Membership

from .models import Category, Outlook, PulseResponse, Rating, RatingRound
from .services.ratings import is_rater
from .services.rounds import round_get_or_create
from .statements import STATEMENTS

MONTHS = 6
RESPONSE_RATE = {"board": 0.95, "operational": 0.8}  # senior leaders answer more reliably
# Objective ref -> (clinical mean, managerial mean) in the first month and in the last.
PATTERNS = {
    "OBJ-01": ((2.1, 4.0), (2.0, 4.1)),  # divergent, steady
    "OBJ-02": ((2.6, 3.9), (2.3, 4.2)),  # divergent, widening
    "OBJ-03": ((2.2, 3.9), (3.5, 3.7)),  # converging
}
DEFAULT = ((3.4, 3.6), (3.6, 3.7))  # aligned
# A few comments, in the voice of each side, attached at random to ratings of these objectives.
COMMENTS = {
    ("OBJ-01", "clinical"): [
        "Redesign boards still meet in the daytime when clinicians are in theatre.",
        "We are asked to co-lead but the budget decisions are made elsewhere.",
        "The stroke pathway work was a good example; the rest less so.",
    ],
    ("OBJ-01", "managerial"): [
        "Every project now has a named clinical lead.",
        "Attendance from clinical leads has improved since the spring.",
    ],
    ("OBJ-02", "clinical"): [
        "Quality impact assessments arrive after the savings are already booked.",
        "Our cost-improvement ideas are not heard until the plan is fixed.",
    ],
    ("OBJ-02", "managerial"): [
        "All plans this year had a quality impact assessment signed by both leads.",
        "The joint review panel is working well.",
    ],
}
# Davies group -> mean relationship quality (1-5) and chance of expecting improvement.
PULSE = {
    "senior_nonclinical": (4.4, 0.75),
    "senior_clinical": (3.6, 0.5),
    "operational_nonclinical": (3.2, 0.35),
    "operational_clinical": (2.5, 0.25),
}


def _months_back(today, count):
    """First days of the `count` months before `today`'s month, oldest first, then this month."""
    periods = []
    year, month = today.year, today.month
    for _ in range(count + 1):
        periods.append(today.replace(year=year, month=month, day=1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(periods))


def _score(rng, mean, spread=0.8):
    return min(5, max(1, round(rng.gauss(mean, spread))))


def _round(trust, period, is_current):
    round_ = round_get_or_create(trust=trust, period=period)
    if is_current:  # the demo keeps this month's round open to the end of the month
        last_day = calendar.monthrange(period.year, period.month)[1]
        round_.closes_on = period.replace(day=last_day)
        round_.save(update_fields=["closes_on"])
    return round_


def demo_seed(trust):
    rng = random.Random(2002)
    today = timezone.localdate()
    periods = _months_back(today, MONTHS)
    ratings = pulses = 0
    with scope(trust=trust):
        raters = [m for m in Membership.objects.active().select_related("user") if is_rater(m)]
        objectives = list(Objective.objects.filter(status=Status.AGREED))
        for index, period in enumerate(periods):
            is_current = period == periods[-1]
            round_ = _round(trust, period, is_current)
            if is_current or Rating.objects.filter(round=round_).exists():
                continue  # the current round is left for people to rate
            progress = index / max(1, MONTHS - 1)
            closed_at = timezone.make_aware(timezone.datetime.combine(round_.closes_on, timezone.datetime.min.time()))
            new_ratings, new_pulses = [], []
            for member in raters:
                if rng.random() > RESPONSE_RATE[member.level]:
                    continue
                snapshot = {
                    "professional_group": member.professional_group,
                    "level": member.level,
                    "directorate_id": member.directorate_id,
                }
                for objective in objectives:
                    if objective.directorate_id and objective.directorate_id != member.directorate_id:
                        continue
                    start, end = PATTERNS.get(objective.ref, DEFAULT)
                    side = 0 if member.professional_group == "clinical" else 1
                    mean = start[side] + (end[side] - start[side]) * progress
                    score = None if rng.random() < 0.06 else _score(rng, mean)
                    bank = COMMENTS.get((objective.ref, member.professional_group), [])
                    comment = rng.choice(bank) if bank and score is not None and rng.random() < 0.3 else ""
                    new_ratings.append(
                        Rating(
                            trust=trust,
                            round=round_,
                            objective=objective,
                            rater=member,
                            score=score,
                            comment=comment,
                            created_at=closed_at,
                            updated_at=closed_at,
                            **snapshot,
                        )
                    )
                quality_mean, improve_chance = PULSE[member.davies_group]
                quality = _score(rng, quality_mean + 0.15 * progress, spread=0.6)
                outlook = (
                    Outlook.IMPROVE
                    if rng.random() < improve_chance
                    else rng.choice([Outlook.SAME, Outlook.SAME, Outlook.DETERIORATE])
                )
                category = [Category.UNRESOLVED, Category.TOLERANCE, Category.TENSION, Category.PARTNERSHIP][
                    min(3, max(0, quality - 2))
                ]
                statements = {key: _score(rng, quality_mean) for key in STATEMENTS} if rng.random() < 0.5 else {}
                new_pulses.append(
                    PulseResponse(
                        trust=trust,
                        round=round_,
                        rater=member,
                        quality=quality,
                        outlook=outlook,
                        category=category,
                        statements=statements,
                        created_at=closed_at,
                        updated_at=closed_at,
                        **snapshot,
                    )
                )
            Rating.objects.bulk_create(new_ratings, batch_size=2000)
            PulseResponse.objects.bulk_create(new_pulses, batch_size=2000)
            ratings += len(new_ratings)
            pulses += len(new_pulses)
        rounds = RatingRound.objects.count()
    return f"{rounds} rating rounds, {ratings} ratings and {pulses} pulse answers created"
