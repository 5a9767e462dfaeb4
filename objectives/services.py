"""Writes to objectives: create, edit, propose, sign off, achieve, retire; sign-off emails.

Every function checks the rules (rules.py) itself, so a view, a command or a test cannot
skip them, and runs inside the objective's trust scope.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from partnership.emails import absolute_url, email_send
from partnership.models import Level, Membership, ProfessionalGroup, Trust

from . import rules
from .models import Objective, Side, SignOff, SignOffRequest, Status

REF_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")
EDITABLE_FIELDS = (
    "title",
    "description",
    "theme",
    "directorate",
    "clinical_lead",
    "managerial_lead",
    "success_measure",
    "target_date",
)


def ref_next(trust):
    """The next free OBJ-NN reference of the trust (two digits, more when needed)."""
    numbers = [
        int(match.group(1))
        for ref in Objective.objects.filter(trust=trust, ref__startswith="OBJ-").values_list("ref", flat=True)
        if (match := re.fullmatch(r"OBJ-(\d+)", ref))
    ]
    return f"OBJ-{max(numbers, default=0) + 1:02d}"


def objective_validate(*, trust, fields, instance=None):
    """ValidationError (by field) when the fields do not make a valid objective of `trust`."""
    errors = {}
    for name, group in (
        ("clinical_lead", ProfessionalGroup.CLINICAL),
        ("managerial_lead", ProfessionalGroup.MANAGERIAL),
    ):
        lead = fields.get(name)
        if lead is None:
            continue
        if lead.trust_id != trust.pk or not lead.is_active:
            errors[name] = "The lead must be an active member of this trust."
        elif lead.professional_group != group:
            errors[name] = f"The {group.label.lower()} lead must be in the {group.label.lower()} group."
    directorate = fields.get("directorate")
    if directorate is not None and directorate.trust_id != trust.pk:
        errors["directorate"] = "That directorate belongs to another trust."
    target = fields.get("target_date")
    changed_target = instance is None or target != instance.target_date
    if target and changed_target and target < timezone.localdate():
        errors["target_date"] = "The target date is in the past."
    ref = fields.get("ref")
    if ref:
        if not REF_PATTERN.match(ref):
            errors["ref"] = "A reference is up to 20 capital letters, digits and hyphens, e.g. OBJ-07."
        elif Objective.objects.filter(trust=trust, ref=ref).exclude(pk=getattr(instance, "pk", None)).exists():
            errors["ref"] = f"{ref} is already used by another objective."
    if errors:
        raise ValidationError(errors)


def _require(allowed, message="Your role does not allow this."):
    if not allowed:
        raise PermissionDenied(message)


def objective_create(*, trust, by, ref="", **fields):
    """A new draft objective written by `by` (a membership)."""
    with transaction.atomic(), scope(trust=trust):
        _require(rules.can_author(by, fields.get("directorate") and fields["directorate"].pk))
        Trust.objects.select_for_update().filter(pk=trust.pk).first()  # serialise ref assignment
        ref = (ref or "").strip().upper()
        objective_validate(trust=trust, fields={**fields, "ref": ref})
        objective = Objective(trust=trust, ref=ref or ref_next(trust), created_by=by.user, **fields)
        objective._history_user = by.user
        objective.save()
        return objective


def objective_update(*, objective, by, fields, confirm_reset=False):
    """Apply edits. Changing the wording of a proposed or agreed objective clears its
    sign-offs and returns it to *proposed*: the caller must pass `confirm_reset=True`
    after warning the person, else a ValidationError says what would happen.

    Returns True when the sign-offs were cleared.
    """
    with transaction.atomic(), scope(trust=objective.trust):
        objective = _locked(objective)  # decide on the current row, not on the copy the form saw
        _require(rules.can_edit(by, objective))
        new_directorate = fields.get("directorate", objective.directorate)
        _require(rules.can_author(by, new_directorate.pk if new_directorate else None))
        objective_validate(trust=objective.trust, fields=fields, instance=objective)
        changed = [name for name in EDITABLE_FIELDS if name in fields and getattr(objective, name) != fields[name]]
        if not changed:
            return False
        wording_changed = any(name in rules.WORDING_FIELDS for name in changed)
        reset = wording_changed and objective.status in (Status.PROPOSED, Status.AGREED)
        if reset and not confirm_reset:
            raise ValidationError(
                "Changing the wording returns this objective to proposed and clears its sign-offs: "
                "both sides will need to sign it off again. Tick the box to confirm."
            )
        for name in changed:
            setattr(objective, name, fields[name])
        objective._history_user = by.user
        if reset:
            objective._change_reason = "Wording changed: sign-offs cleared, back to proposed"
            _signoffs_clear(objective, by)
            objective.status = Status.PROPOSED
            objective.agreed_at = None
            _proposal_open(objective, by)
        objective.save()
        return reset


def _signoffs_clear(objective, by):
    for signoff in SignOff.objects.filter(objective=objective):
        signoff._history_user = by.user
        signoff.delete()  # one by one, so the history keeps who had signed


def _proposal_open(objective, by):
    """Start a proposal round: new version, requests to everyone whose sign-off is needed."""
    objective.proposal_version += 1
    objective.proposed_by = by
    objective.proposed_at = timezone.now()
    signed = set(SignOff.objects.filter(objective=objective).values_list("side", flat=True))
    requests = [
        SignOffRequest(
            trust=objective.trust, objective=objective, membership=member, proposal_version=objective.proposal_version
        )
        for member in signers_needed(objective, exclude_sides=signed)
        if member.pk != by.pk
    ]
    SignOffRequest.objects.bulk_create(requests, ignore_conflicts=True)
    from partnership.queueing import enqueue_on_commit

    from .tasks import signoff_requests_send_task  # tasks import services; imported here to avoid a cycle

    enqueue_on_commit(signoff_requests_send_task, objective.pk, objective.proposal_version)


def signers_needed(objective, exclude_sides=()):
    """Active members who could sign the sides not in `exclude_sides`."""
    sides = {Side.CLINICAL, Side.MANAGERIAL} - set(exclude_sides)
    if not sides:
        return []
    members = Membership.objects.active().filter(trust=objective.trust).select_related("user")
    if objective.directorate_id is None:
        members = members.filter(level=Level.BOARD, professional_group__in=sides)
    else:
        roles = [role for role, side in rules.DIRECTORATE_SIDES.items() if side in sides]
        members = members.filter(directorate_id=objective.directorate_id, role__in=roles)
    return [member for member in members if rules.signoff_side(member, objective) in sides]


def objective_propose(*, objective, by):
    """draft -> proposed. The proposer's own sign-off counts for their side."""
    with transaction.atomic(), scope(trust=objective.trust):
        objective = _locked(objective)
        _require(rules.can_propose(by, objective))
        missing = [
            label
            for name, label in (("clinical_lead", "clinical"), ("managerial_lead", "managerial"))
            if getattr(objective, name) is None
        ]
        if missing:
            raise ValidationError(f"Name a {' and a '.join(missing)} lead before proposing.")
        objective.status = Status.PROPOSED
        objective._history_user = by.user
        side = rules.signoff_side(by, objective)
        if side:
            signoff = SignOff(trust=objective.trust, objective=objective, side=side, membership=by)
            signoff._history_user = by.user
            signoff.save()
        _proposal_open(objective, by)
        objective.save()
        return objective


def objective_sign_off(*, objective, by):
    """Sign for `by`'s side; the second side's sign-off makes the objective agreed."""
    with transaction.atomic(), scope(trust=objective.trust):
        objective = _locked(objective)
        signed = set(SignOff.objects.filter(objective=objective).values_list("side", flat=True))
        _require(
            rules.can_sign_off(by, objective, signed),
            "You cannot sign this off: it is not awaiting your side's sign-off, or your role does not sign for it.",
        )
        signoff = SignOff(
            trust=objective.trust, objective=objective, side=rules.signoff_side(by, objective), membership=by
        )
        signoff._history_user = by.user
        signoff.save()
        if {Side.CLINICAL, Side.MANAGERIAL} <= signed | {signoff.side}:
            objective.status = Status.AGREED
            objective.agreed_at = timezone.now()
            objective._history_user = by.user
            objective._change_reason = "Signed off by both sides"
            objective.save()
        return objective


def _locked(objective):
    """The objective's current row, locked until the transaction ends (two clicks, two tabs)."""
    return Objective.objects.select_for_update().select_related("trust").get(pk=objective.pk)


def _close(objective, by, allowed, status, reason):
    with transaction.atomic(), scope(trust=objective.trust):
        objective = _locked(objective)
        _require(allowed(by, objective))
        objective.status = status
        objective._history_user = by.user
        objective._change_reason = reason
        objective.save()
        return objective


def objective_mark_achieved(*, objective, by):
    return _close(objective, by, rules.can_mark_achieved, Status.ACHIEVED, "Marked achieved")


def objective_retire(*, objective, by):
    return _close(objective, by, rules.can_retire, Status.RETIRED, "Retired")


def signoff_requests_send(*, objective_id, version):
    """Email each pending sign-off request of this proposal version once (claim, then send).

    Requests of an objective that is no longer awaiting sign-off are dropped unsent.
    Returns the number of emails sent.
    """
    sent = 0
    with scopes_disabled():
        objective = Objective.objects.select_related("trust", "directorate", "proposed_by__user").get(pk=objective_id)
        if objective.status != Status.PROPOSED or objective.proposal_version != version:
            return 0
        signed = set(SignOff.objects.filter(objective=objective).values_list("side", flat=True))
        pending = SignOffRequest.objects.filter(
            objective=objective, proposal_version=version, sent_at__isnull=True
        ).select_related("membership__user")
        for request in pending:
            if rules.signoff_side(request.membership, objective) in signed:
                continue  # that side signed meanwhile
            claimed = SignOffRequest.objects.filter(pk=request.pk, sent_at__isnull=True).update(sent_at=timezone.now())
            if not claimed:
                continue
            try:
                email_send(
                    template="signoff_request",
                    to=request.membership.user.email,
                    context={
                        "trust": objective.trust,
                        "objective": objective,
                        "person": request.membership.user,
                        "proposer": objective.proposed_by.user if objective.proposed_by else None,
                        "side": rules.signoff_side(request.membership, objective),
                        "url": absolute_url(
                            reverse(
                                "objective_detail", kwargs={"trust_code": objective.trust.code, "ref": objective.ref}
                            )
                        ),
                    },
                )
            except Exception:
                SignOffRequest.objects.filter(pk=request.pk).update(sent_at=None)
                raise
            sent += 1
    return sent


def objectives_visible_filter(membership):
    """Everyone in a trust sees its objectives; drafts only their authors can work on."""
    trust_wide_or_own = Q(status__in=[s for s in Status.values if s != Status.DRAFT])
    if rules.can_author(membership):
        return Q()
    if membership.role in rules.DIRECTORATE_SIDES and membership.directorate_id:
        return trust_wide_or_own | Q(directorate_id=membership.directorate_id)
    return trust_wide_or_own


def signoff_requests_send_due():
    """Catch-up for requests whose task was lost (broker down, worker killed): send every
    unsent request of a current proposal. Safe to run any time; returns emails sent."""
    with scopes_disabled():
        due = (
            SignOffRequest.objects.filter(sent_at__isnull=True, objective__status=Status.PROPOSED)
            .values_list("objective_id", "proposal_version")
            .distinct()
        )
        return sum(signoff_requests_send(objective_id=pk, version=version) for pk, version in due)
