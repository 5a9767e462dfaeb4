"""Objectives' part of a person's data (found by partnership.services.privacy, which may not
import this app): their sign-offs, the sign-off requests sent to them, the objectives they
lead, proposed or wrote, and the changes they made.

Erasure keeps sign-offs, leads and the audit history: they point at the person's membership
and user rows, which stay, anonymised, so the record of who agreed what reads "Erased
person". Sign-off request emails (the log of what was sent to them) are deleted.
"""

from django.db.models import Q

from .models import Objective, SignOff, SignOffRequest


def _when(value):
    return value.isoformat() if value else None


def _roles(objective, user):
    roles = []
    for name, label in (
        ("clinical_lead", "clinical lead"),
        ("managerial_lead", "managerial lead"),
        ("proposed_by", "proposer"),
    ):
        membership = getattr(objective, name)
        if membership is not None and membership.user_id == user.pk:
            roles.append(label)
    if objective.created_by_id == user.pk:
        roles.append("author")
    return roles


def export(user):
    signoffs = (
        SignOff.objects.filter(membership__user=user)
        .select_related("trust", "objective")
        .order_by("trust__code", "signed_at")
    )
    requests = (
        SignOffRequest.objects.filter(membership__user=user)
        .select_related("trust", "objective")
        .order_by("trust__code", "created_at")
    )
    objectives = (
        Objective.objects.filter(
            Q(clinical_lead__user=user) | Q(managerial_lead__user=user) | Q(proposed_by__user=user) | Q(created_by=user)
        )
        .select_related("trust", "clinical_lead", "managerial_lead", "proposed_by")
        .distinct()
        .order_by("trust__code", "ref")
    )
    changes = (
        Objective.history.filter(history_user=user)
        .order_by("history_date")
        .values("trust__code", "ref", "history_type", "history_change_reason", "history_date")
    )
    change_types = {"+": "created", "~": "changed", "-": "deleted"}
    return {
        "sign_offs": [
            {
                "trust_code": s.trust.code,
                "objective_ref": s.objective.ref,
                "objective_title": s.objective.title,
                "side": s.side,
                "signed_at": _when(s.signed_at),
            }
            for s in signoffs
        ],
        "sign_off_requests": [
            {
                "trust_code": r.trust.code,
                "objective_ref": r.objective.ref,
                "proposal_version": r.proposal_version,
                "created_at": _when(r.created_at),
                "sent_at": _when(r.sent_at),
            }
            for r in requests
        ],
        "objective_roles": [
            {"trust_code": o.trust.code, "objective_ref": o.ref, "objective_title": o.title, "roles": _roles(o, user)}
            for o in objectives
        ],
        "objective_changes": [
            {
                "trust_code": c["trust__code"],
                "objective_ref": c["ref"],
                "change": change_types.get(c["history_type"], c["history_type"]),
                "reason": c["history_change_reason"] or "",
                "at": _when(c["history_date"]),
            }
            for c in changes
        ],
    }


def erase(user):
    return {"sign_off_requests_deleted": SignOffRequest.objects.filter(membership__user=user).delete()[0]}


def purge(cutoff):
    """Retention: the log of sign-off request emails older than `cutoff`."""
    return {"sign_off_requests_deleted": SignOffRequest.objects.filter(created_at__lt=cutoff).delete()[0]}
