"""A trust's analysis settings: the anonymity threshold, the divergence thresholds and the
rating calendar, changed only through `trust_settings_update`.

The rules live here, not in the form, so every caller gets them (DESIGN.md §5):

- `min_group_size` is at least 3. It may be raised at any time but not lowered once anyone
  has rated or answered the pulse in the trust: lowering it would reveal, in results people
  have already seen, groups that were hidden because they were too small.
- `min_comment_group_size` (comments are shown only for groups this large) is never below
  `min_group_size`, and, like it, can be raised at any time but not lowered once anyone has
  rated or answered.
- New values apply to rounds not yet reported: a reported round keeps the settings of its
  snapshot (surveys.frozen), so a change never re-grades what the board was sent.
- `watch_gap` is 0.10 to 4.00; `divergent_gap` is at least `watch_gap` and at most 4.00
  (the largest possible gap on a 1-5 scale); `q_threshold` is 0.001 to 0.200.
- The calendar: 1 <= `round_opens_day` <= `round_closes_day` <= 28. It shapes rounds created
  from now on; existing rounds keep their dates.
- `comment_retention_months` is 1 to 120: comment text of rounds older than that is erased
  (`comments_purge`, daily); scores and every aggregate stay.

Every change is recorded as a TrustSettingChange row (who, when, old -> new), shown on the
Settings page, and logged.
"""

import logging
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from partnership.models import Trust, TrustSettingChange
from partnership.permissions import membership_can

from ..models import PulseResponse, Rating

logger = logging.getLogger(__name__)

ACTION = "settings.analysis"

MIN_GROUP_SIZE_FLOOR = 3
# Not a privacy rule: a typo (50 for 5) could not be undone once ratings exist, so keep it sane.
MIN_GROUP_SIZE_CEILING = 50
WATCH_GAP_MIN = Decimal("0.10")
GAP_MAX = Decimal("4.00")
Q_MIN = Decimal("0.001")
Q_MAX = Decimal("0.200")
Q_CONVENTIONAL = Decimal("0.050")
CALENDAR_FIRST_DAY = 1
CALENDAR_LAST_DAY = 28
RETENTION_MIN_MONTHS = 1
RETENTION_MAX_MONTHS = 120

# field -> (plain-English name, decimal places; None for a whole number). Order = display order.
FIELDS = {
    "min_group_size": ("minimum group size", None),
    "min_comment_group_size": ("comment group size", None),
    "watch_gap": ("watch gap", 2),
    "divergent_gap": ("divergent gap", 2),
    "q_threshold": ("q threshold", 3),
    "round_opens_day": ("day rounds open", None),
    "round_closes_day": ("day rounds close", None),
}
# The comment settings (issue #23): saved, checked and logged with the analysis settings, but
# kept apart from FIELDS (the figures' settings, which the page lists as "current settings").
COMMENT_FIELDS = {
    "comment_retention_months": ("months comments are kept", None),
}
SETTINGS = {**FIELDS, **COMMENT_FIELDS}


def responses_exist(trust):
    """True once anyone has rated an objective or answered the pulse in `trust`."""
    with scopes_disabled():
        return (
            Rating.objects.filter(trust_id=trust.pk).exists()
            or PulseResponse.objects.filter(trust_id=trust.pk).exists()
        )


def _coerce(field, value):
    """The value as stored (int or Decimal with the field's places); ValidationError otherwise."""
    places = SETTINGS[field][1]
    if places is None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Enter a whole number.", code="invalid")
        return value
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError("Enter a number.", code="invalid") from None
    if not number.is_finite():
        raise ValidationError("Enter a number.", code="invalid")
    quantum = Decimal(1).scaleb(-places)
    if number != number.quantize(quantum):
        raise ValidationError(f"Use at most {places} decimal places.", code="invalid")
    return number.quantize(quantum)


def _check(new, old, given, *, locked):
    """Errors by field for the merged settings `new` (current values overlaid by `given`)."""
    errors = {}

    def add(field, message, code):
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    size = new["min_group_size"]
    if size < MIN_GROUP_SIZE_FLOOR:
        add(
            "min_group_size",
            f"The minimum group size cannot be below {MIN_GROUP_SIZE_FLOOR}: results from smaller groups "
            "could identify the people who gave them.",
            "min_group_size_floor",
        )
    elif size > MIN_GROUP_SIZE_CEILING:
        add(
            "min_group_size",
            f"The minimum group size can be at most {MIN_GROUP_SIZE_CEILING}; larger values would hide almost "
            "every result.",
            "min_group_size_ceiling",
        )
    elif size < old["min_group_size"] and locked():
        add(
            "min_group_size",
            f"The minimum group size cannot be lowered from {old['min_group_size']} to {size} now that people "
            "have rated: lowering it would reveal, in results already seen, groups that were hidden because "
            f"they had fewer than {old['min_group_size']} people. It can still be raised.",
            "min_group_size_lowered",
        )

    comments = new["min_comment_group_size"]
    if comments < size and "min_group_size" not in errors:
        add(
            "min_comment_group_size",
            f"The comment group size ({comments}) cannot be below the minimum group size ({size}): comments "
            "say more about who wrote them than averages do. Raise it to at least "
            f"{size}.",
            "comment_size_below_group_size",
        )
    elif comments > MIN_GROUP_SIZE_CEILING:
        add(
            "min_comment_group_size",
            f"The comment group size can be at most {MIN_GROUP_SIZE_CEILING}.",
            "comment_size_ceiling",
        )
    elif comments < old["min_comment_group_size"] and locked():
        add(
            "min_comment_group_size",
            f"The comment group size cannot be lowered from {old['min_comment_group_size']} to {comments} now "
            "that people have rated: comments from groups that were too small would appear in rounds people "
            "have already seen. It can still be raised.",
            "comment_size_lowered",
        )

    watch, divergent = new["watch_gap"], new["divergent_gap"]
    if not WATCH_GAP_MIN <= watch <= GAP_MAX:
        add("watch_gap", f"The watch gap must be between {WATCH_GAP_MIN} and {GAP_MAX}.", "watch_gap_range")
    if divergent > GAP_MAX:
        add("divergent_gap", f"The divergent gap can be at most {GAP_MAX}.", "divergent_gap_range")
    elif divergent < watch:
        add(
            "divergent_gap" if "divergent_gap" in given else "watch_gap",
            f"The divergent gap ({divergent}) must be at least the watch gap ({watch}): an objective "
            "flagged divergent has to be at least one to watch.",
            "divergent_below_watch",
        )

    q = new["q_threshold"]
    if not Q_MIN <= q <= Q_MAX:
        add(
            "q_threshold",
            f"The q threshold must be between {Q_MIN} and {Q_MAX} ({Q_CONVENTIONAL} is conventional).",
            "q_threshold_range",
        )

    opens, closes = new["round_opens_day"], new["round_closes_day"]
    for field, day in (("round_opens_day", opens), ("round_closes_day", closes)):
        if not CALENDAR_FIRST_DAY <= day <= CALENDAR_LAST_DAY:
            add(
                field,
                f"Choose a day from {CALENDAR_FIRST_DAY} to {CALENDAR_LAST_DAY}, so that every month has it.",
                "calendar_day_range",
            )
    if "round_opens_day" not in errors and "round_closes_day" not in errors and closes < opens:
        add(
            "round_closes_day" if "round_closes_day" in given else "round_opens_day",
            f"Rounds must close on or after the day they open (day {opens}).",
            "calendar_order",
        )

    months = new["comment_retention_months"]
    if not RETENTION_MIN_MONTHS <= months <= RETENTION_MAX_MONTHS:
        add(
            "comment_retention_months",
            f"Keep comments for {RETENTION_MIN_MONTHS} to {RETENTION_MAX_MONTHS} months (10 years); "
            "after that their text is erased, while the scores stay.",
            "comment_retention_range",
        )
    return errors


def trust_settings_update(*, trust, by, now=None, **values):
    """Change some of the trust's settings (the SETTINGS keys; others are kept).

    `by` is the membership making the change; it must be allowed "settings.analysis" in this
    trust. Raises ValidationError by field (nothing is saved then) and PermissionDenied.
    Returns the changes, {field: (old, new)} in SETTINGS order (empty if nothing changed);
    `trust` is updated in place.
    """
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise TypeError(f"Unknown trust settings: {', '.join(sorted(unknown))}")
    now = now or timezone.now()
    if by is None or by.trust_id != trust.pk or not membership_can(by, ACTION):
        raise PermissionDenied("Your role in this trust does not allow changing its analysis settings.")

    errors = {}
    given = {}
    for field, value in values.items():
        try:
            given[field] = _coerce(field, value)
        except ValidationError as exc:
            errors[field] = [exc]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # FOR UPDATE also waits for (and blocks) ratings being inserted for this trust, so the
        # "no ratings yet" check cannot race a first rating.
        current = Trust.objects.select_for_update().get(pk=trust.pk)
        old = {field: getattr(current, field) for field in SETTINGS}
        new = {**old, **given}
        errors = _check(new, old, given, locked=lambda: responses_exist(current))
        if errors:
            raise ValidationError(errors)
        changes = {field: (old[field], new[field]) for field in SETTINGS if new[field] != old[field]}
        if changes:
            for field, (_, value) in changes.items():
                setattr(current, field, value)
            current.save(update_fields=list(changes))
            name = by.user.full_name or by.user.email
            TrustSettingChange.objects.bulk_create(
                TrustSettingChange(
                    trust=current,
                    changed_by=by,
                    changed_by_name=name,
                    changed_at=now,
                    field=field,
                    old_value=str(before),
                    new_value=str(after),
                )
                for field, (before, after) in changes.items()
            )
    for field in SETTINGS:
        setattr(trust, field, getattr(current, field))
    if changes:
        logger.info(
            "trust settings changed",
            extra={
                "trust_code": trust.code,
                "changed_by_membership": by.pk,
                "changed_by_user": by.user_id,
                "changes": {field: [str(before), str(after)] for field, (before, after) in changes.items()},
            },
        )
    return changes


def changes_described(changes):
    """'minimum group size from 5 to 6, watch gap from 0.50 to 0.60' for a success message."""
    return ", ".join(f"{SETTINGS[field][0]} from {before} to {after}" for field, (before, after) in changes.items())


def setting_changes(trust, limit=50):
    """The latest changes of the trust's analysis settings, newest first, with plain names."""
    rows = TrustSettingChange.objects.filter(trust_id=trust.pk).order_by("-changed_at", "-pk")[:limit]
    return [
        {
            "when": row.changed_at,
            "who": row.changed_by_name or "an erased account",
            "setting": SETTINGS.get(row.field, (row.field,))[0],
            "old": row.old_value,
            "new": row.new_value,
        }
        for row in rows
    ]
