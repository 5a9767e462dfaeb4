"""A person's data: erasure, export and retention (issue #8 item 4).

The core app knows people, memberships and invitations; the other apps hold the rest of a
person's data (ratings, sign-offs, reminders...). `partnership` imports nothing from them
(DESIGN.md §3), so each app contributes its part through a small registry:

- an installed app may have a module `<app>.personal_data` with
  `export(user) -> dict` (sections of the person's export, by name),
  `erase(user) -> dict[str, int]` (what it changed, by name) and, optionally,
  `purge(cutoff) -> dict[str, int]` (retention: identifiable rows older than `cutoff`);
- code may also call `register_personal_data(exporter, eraser, purger=None)`.

**Erasure** (`person_erase`) removes who a person was and every link from their answers
back to them, and keeps their anonymous answers in the aggregates, which therefore do not
change:

- the User keeps its row (sign-offs and objective history still point at it) but gets a
  placeholder identity: email `erased-<uuid>@erased.invalid`, name "Erased person", an
  unusable password, inactive, no staff rights, groups or permissions;
- their memberships stay, inactive and receiving nothing, so ratings keep the group, level
  and directorate snapshot they were given;
- ratings and pulse answers lose their rater (set to NULL): no answer can be traced back;
- their rating **comments are blanked**. A comment is shown anonymously, but its wording can
  identify its author, so after erasure it is not kept (the score is);
- invitations, reminder logs, sign-off requests and sign-in logs (django-axes) are deleted;
  board-report deliveries keep the placeholder instead of the address; admin log entries
  about the person show the placeholder name.

It is atomic (all or nothing) and idempotent: erasing an erased person changes nothing.

**Export** (`person_export`) is everything above about one person, as JSON-ready data.

**Retention** (`retention_purge`): identifiable data older than settings.RETENTION_YEARS is
purged. Ratings and pulse answers lose their rater and comment (scores and snapshots stay);
invitations, reminder logs, report deliveries, sign-off requests, sign-in logs and admin log
entries are deleted; people who are no longer active (no active membership, or an inactive
account) and have not signed in (or joined, if they never did) since then are erased.
"""

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from ..models import Invitation, Membership

logger = logging.getLogger(__name__)

ERASED_NAME = "Erased person"
ERASED_DOMAIN = "erased.invalid"  # .invalid can never be a real address (RFC 2606)
_PLACEHOLDER_NAMESPACE = uuid.UUID("6f1d3c52-8a4e-4f5e-9d43-2c8a7b1e0a11")


@dataclass(frozen=True)
class PersonalDataPart:
    label: str
    export: object = None  # (user) -> dict of sections
    erase: object = None  # (user) -> dict of counts
    purge: object = None  # (cutoff) -> dict of counts


_registered: list[PersonalDataPart] = []


def register_personal_data(exporter=None, eraser=None, purger=None, *, label=None):
    """Add a part to every export, erasure and retention purge (for code outside an app's
    `personal_data` module). Registering the same functions twice has no effect."""
    part = PersonalDataPart(label or getattr(exporter or eraser or purger, "__module__", "?"), exporter, eraser, purger)
    if part not in _registered:
        _registered.append(part)
    return part


def personal_data_parts():
    """The installed apps' `personal_data` modules, in INSTALLED_APPS order, then the
    registered parts."""
    parts = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.personal_data")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.personal_data":
                raise
            continue
        parts.append(
            PersonalDataPart(
                config.label,
                getattr(module, "export", None),
                getattr(module, "erase", None),
                getattr(module, "purge", None),
            )
        )
    return parts + list(_registered)


def _merge_counts(total, counts):
    for key, value in (counts or {}).items():
        total[key] = total.get(key, 0) + value
    return total


# --- Identity --------------------------------------------------------------------------------


def erased_email(user):
    """The placeholder address of an erased person: the same for the same user (so erasing
    again changes nothing), unrelated to who they were."""
    return f"erased-{uuid.uuid5(_PLACEHOLDER_NAMESPACE, str(user.pk)).hex}@{ERASED_DOMAIN}"


def is_erased(user):
    return user.email.lower().endswith("@" + ERASED_DOMAIN)


def user_by_email(email):
    """The person with this email address (case-insensitive), or None."""
    User = get_user_model()
    return User.objects.filter(email=User.objects.normalize_email(email)).first()


# --- Erasure ---------------------------------------------------------------------------------


def _admin_log_scrub(user, membership_ids, invitation_ids):
    """Admin log entries about the person, their memberships and invitations name them in
    `object_repr`: show the placeholder instead."""
    if not apps.is_installed("django.contrib.admin"):
        return 0
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    about = Q(content_type=ContentType.objects.get_for_model(user), object_id=str(user.pk))
    for model, ids in ((Membership, membership_ids), (Invitation, invitation_ids)):
        if ids:
            about |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=[str(i) for i in ids])
    return LogEntry.objects.filter(about).exclude(object_repr=ERASED_NAME).update(object_repr=ERASED_NAME)


def _signin_logs(filters):
    """django-axes' records of sign-ins and failed attempts, which carry the email and IP."""
    if not apps.is_installed("axes"):
        return []
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    return [model.objects.filter(**filters) for model in (AccessAttempt, AccessFailureLog, AccessLog)]


def _core_erase(user, old_email):
    memberships = Membership.objects.filter(user=user)
    membership_ids = list(memberships.values_list("pk", flat=True))
    counts = {
        "memberships_deactivated": memberships.filter(
            Q(is_active=True) | Q(receives_board_report=True) | Q(receives_reminders=True)
        ).update(is_active=False, receives_board_report=False, receives_reminders=False)
    }
    invitations = Invitation.objects.filter(membership__user=user)
    invitation_ids = list(invitations.values_list("pk", flat=True))
    counts["invitations_deleted"] = invitations.delete()[0]
    memberships.exclude(invited_name="").update(invited_name="")  # the name a trust gave an invitee
    counts["signin_logs_deleted"] = sum(q.delete()[0] for q in _signin_logs({"username__iexact": old_email}))

    placeholder = erased_email(user)
    changed = (
        user.email != placeholder
        or user.full_name != ERASED_NAME
        or user.has_usable_password()
        or user.is_active
        or user.is_staff
        or user.is_superuser
    )
    if changed:
        user.email, user.full_name = placeholder, ERASED_NAME
        user.set_unusable_password()  # also ends every session of theirs (the session hash changes)
        user.is_active = user.is_staff = user.is_superuser = False
        user.save()
    counts["people_erased"] = int(changed)
    counts["permissions_removed"] = user.groups.count() + user.user_permissions.count()
    user.groups.clear()
    user.user_permissions.clear()
    counts["admin_log_entries_scrubbed"] = _admin_log_scrub(user, membership_ids, invitation_ids)
    return counts


def _erase(user):
    """Erase without logging or a transaction of its own (callers hold one)."""
    User = get_user_model()
    with scopes_disabled():
        user = User.objects.select_for_update().get(pk=user.pk)
        old_email = user.email
        counts = {}
        # The apps first: they find the person's rows through memberships and the old address.
        for part in reversed(personal_data_parts()):
            if part.erase is not None:
                _merge_counts(counts, part.erase(user))
        _merge_counts(counts, _core_erase(user, old_email))
    return user, counts


def person_erase(*, user):
    """Erase a person (see the module docstring); returns (the anonymised user, counts of
    what changed). All or nothing; erasing again changes nothing (all counts zero)."""
    with transaction.atomic():
        user, counts = _erase(user)
    logger.info("Erased person: user id %s (%s)", user.pk, counts_summary(counts) or "nothing left to erase")
    return user, counts


def counts_summary(counts):
    """'3 ratings unlinked, 1 invitations deleted' from a counts dict (zeros left out)."""
    return ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in counts.items() if value)


# --- Export ----------------------------------------------------------------------------------


def _when(value):
    return value.isoformat() if value else None


def _core_export(user):
    memberships = Membership.objects.filter(user=user).select_related("trust", "directorate").order_by("pk")
    invitations = Invitation.objects.filter(membership__user=user).select_related("trust").order_by("created_at")
    return {
        "profile": {
            "email": user.email,
            "full_name": user.full_name,
            "is_active": user.is_active,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "memberships": [
            {
                "trust_code": m.trust.code,
                "trust": m.trust.name,
                "directorate": m.directorate.name if m.directorate else None,
                "role": m.role,
                "professional_group": m.professional_group,
                "level": m.level,
                "receives_board_report": m.receives_board_report,
                "receives_reminders": m.receives_reminders,
                "is_active": m.is_active,
                "awaiting_acceptance": m.awaiting_acceptance,
                "invited_name": m.invited_name,
                "created_at": _when(m.created_at),
            }
            for m in memberships
        ],
        "invitations": [
            {
                "trust_code": i.trust.code,
                "status": i.status,
                "created_at": _when(i.created_at),
                "sent_at": _when(i.sent_at),
                "expires_at": _when(i.expires_at),
                "accepted_at": _when(i.accepted_at),
            }
            for i in invitations
        ],
    }


def person_export(*, user, now=None):
    """Everything Common Ground holds about one person, as a JSON-ready dict: their profile,
    memberships and invitations, then each app's sections (ratings with comments, pulse
    answers, sign-offs, reminders sent...). Nobody else's answers or names."""
    with scopes_disabled():
        data = {
            "exported_at": _when(now or timezone.now()),
            "about": "The personal data Common Ground holds about you. Times are UTC.",
            **_core_export(user),
        }
        for part in personal_data_parts():
            if part.export is None:
                continue
            for section, content in part.export(user).items():
                if section in data:
                    raise ValueError(f"Export section {section!r} of {part.label} is already taken")
                data[section] = content
    return data


def person_export_json(*, user, now=None):
    return json.dumps(person_export(user=user, now=now), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)


# --- Retention -------------------------------------------------------------------------------


def retention_cutoff(*, now=None, years=None):
    years = settings.RETENTION_YEARS if years is None else years
    if years < 1:
        raise ValueError(f"RETENTION_YEARS must be at least 1 (it is {years}).")
    return (now or timezone.now()) - relativedelta(years=years)


def people_past_retention(cutoff):
    """People no longer active (an inactive account, or no active membership and not an
    operator) whose last sign-in, or joining if they never signed in, is before `cutoff`."""
    User = get_user_model()
    active_membership = Membership.objects.filter(user=OuterRef("pk"), is_active=True)
    return (
        User.objects.exclude(email__iendswith="@" + ERASED_DOMAIN)
        .annotate(has_active_membership=Exists(active_membership))
        .filter(Q(is_active=False) | Q(has_active_membership=False, is_staff=False, is_superuser=False))
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .order_by("pk")
    )


@dataclass
class RetentionResult:
    cutoff: datetime
    dry_run: bool
    counts: dict = field(default_factory=dict)

    def summary(self):
        verb = "Would purge" if self.dry_run else "Purged"
        return f"{verb} data from before {self.cutoff:%Y-%m-%d}: {counts_summary(self.counts) or 'nothing'}"


def retention_purge(*, now=None, years=None, dry_run=False):
    """Purge identifiable data older than `years` (default settings.RETENTION_YEARS); see the
    module docstring. All or nothing. With dry_run, counts what would go and writes nothing
    (the work is done, then rolled back, so the counts are exact)."""
    cutoff = retention_cutoff(now=now, years=years)
    result = RetentionResult(cutoff=cutoff, dry_run=dry_run)
    counts = result.counts
    with transaction.atomic(), scopes_disabled():
        for part in personal_data_parts():
            if part.purge is not None:
                _merge_counts(counts, part.purge(cutoff))
        _merge_counts(counts, {"invitations_deleted": Invitation.objects.filter(created_at__lt=cutoff).delete()[0]})
        _merge_counts(
            counts, {"signin_logs_deleted": sum(q.delete()[0] for q in _signin_logs({"attempt_time__lt": cutoff}))}
        )
        if apps.is_installed("django.contrib.admin"):
            from django.contrib.admin.models import LogEntry

            deleted = LogEntry.objects.filter(action_time__lt=cutoff).delete()[0]
            _merge_counts(counts, {"admin_log_entries_deleted": deleted})
        people = 0
        for user in people_past_retention(cutoff):
            _, erased = _erase(user)
            erased.pop("people_erased", None)
            _merge_counts(counts, erased)
            people += 1
        counts["people_erased"] = people
        if dry_run:
            transaction.set_rollback(True)
    logger.info("Retention: %s", result.summary())
    return result
