"""Saving a person's ratings and pulse for a round: validated, upserted, never duplicated.

The database's unique constraints plus INSERT ... ON CONFLICT UPDATE make a double
submission (two tabs, a retry) an update of the same rows. Each row records the rater's
professional group, level and directorate at the time of rating.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scope

from objectives.models import Objective, Status
from partnership.models import Role

from ..models import Category, Outlook, PulseResponse, Rating
from ..statements import STATEMENTS
from .comment_review import comments_screen
from .frozen import round_ensure_not_reported

MAX_COMMENT = 2000
PULSE_FIELDS = ("quality", "outlook", "category", "statements")


def is_rater(membership):
    """Everyone active in the trust rates, except trust administrators (they run the tool)."""
    return membership is not None and membership.is_active and membership.role != Role.ADMINISTRATOR


def objectives_rateable(membership):
    """The agreed objectives this member rates: trust-wide ones plus their directorate's."""
    scope_filter = Q(directorate__isnull=True)
    if membership.directorate_id:
        scope_filter |= Q(directorate_id=membership.directorate_id)
    return (
        Objective.objects.filter(trust_id=membership.trust_id, status=Status.AGREED)
        .filter(scope_filter)
        .select_related("directorate")
        .order_by(F("directorate__name").asc(nulls_first=True), "ref")  # trust-wide first on every database
    )


@dataclass(frozen=True)
class Answer:
    score: int | None  # None: can't judge
    comment: str = ""


def _snapshot(membership):
    return {
        "professional_group": membership.professional_group,
        "level": membership.level,
        "directorate_id": membership.directorate_id,
    }


def _check_pulse(pulse):
    errors = []
    quality = pulse.get("quality")
    if quality is not None and quality not in range(1, 6):
        errors.append("The relationship rating must be from 1 to 5.")
    if pulse.get("outlook", "") not in ("", *Outlook.values):
        errors.append("Unknown outlook.")
    if pulse.get("category", "") not in ("", *Category.values):
        errors.append("Unknown relationship category.")
    for key, value in (pulse.get("statements") or {}).items():
        if key not in STATEMENTS or value not in range(1, 6):
            errors.append(f"Unknown statement answer {key!r}.")
    return errors


def ratings_save(*, round, membership, answers, pulse=None, now=None):
    """Save `answers` ({objective id: Answer}) and the `pulse` dict for `membership` in `round`.

    ValidationError (nothing saved) when the round is not open, the person may not rate, an
    objective is not theirs to rate, a score is out of range or a comment is too long.
    Returns the number of ratings written.
    """
    now = now or timezone.now()
    if round.trust_id != membership.trust_id:
        raise ValidationError("This round belongs to another trust.")
    if not is_rater(membership):
        raise ValidationError("Your role in this trust does not rate objectives.")
    if round.status_on(timezone.localdate(now)) != "open":
        raise ValidationError(
            f"The {round.label} round is not open: it runs {round.opens_on:%d %b} to {round.closes_on:%d %b %Y}."
        )
    round_ensure_not_reported(round, doing="rated")
    with scope(trust=round.trust), transaction.atomic():
        allowed = {o.pk: o for o in objectives_rateable(membership)}
        errors = []
        for objective_id, answer in answers.items():
            objective = allowed.get(objective_id)
            if objective is None:
                errors.append("You cannot rate one of these objectives (it is not agreed, or not yours to rate).")
            elif answer.score is not None and answer.score not in range(1, 6):
                errors.append(f"{objective.ref}: the score must be from 1 to 5, or can't judge.")
            elif len(answer.comment.replace("\r\n", "\n")) > MAX_COMMENT:
                errors.append(f"{objective.ref}: the comment is longer than {MAX_COMMENT:,} characters.")
        errors.extend(_check_pulse(pulse or {}))
        if errors:
            raise ValidationError(errors)
        snapshot = _snapshot(membership)
        rows = [
            Rating(
                trust=round.trust,
                round=round,
                objective_id=objective_id,
                rater=membership,
                score=answer.score,
                comment=answer.comment.replace("\r\n", "\n").strip(),
                created_at=now,
                updated_at=now,
                **snapshot,
            )
            for objective_id, answer in answers.items()
        ]
        Rating.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["round", "objective", "rater"],
            update_fields=["score", "comment", "updated_at", *snapshot],
        )
        comments_screen(  # issue #23: flagged comments are held for review (one query finds them)
            trust=round.trust,
            ratings=Rating.objects.filter(round=round, rater=membership, objective_id__in=list(answers))
            .filter(~Q(comment="") | Q(comment_review__isnull=False))
            .select_related("comment_review"),
        )
        if pulse and any(pulse.get(name) not in (None, "", {}) for name in PULSE_FIELDS):
            PulseResponse.objects.bulk_create(
                [
                    PulseResponse(
                        trust=round.trust,
                        round=round,
                        rater=membership,
                        quality=pulse.get("quality"),
                        outlook=pulse.get("outlook", ""),
                        category=pulse.get("category", ""),
                        statements=pulse.get("statements") or {},
                        created_at=now,
                        updated_at=now,
                        **snapshot,
                    )
                ],
                update_conflicts=True,
                unique_fields=["round", "rater"],
                update_fields=["quality", "outlook", "category", "statements", "updated_at", *snapshot],
            )
    return len(rows)
