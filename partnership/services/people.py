"""Adding people to a trust: one rule set for the invite form, the CSV import and create_trust."""

from django.db import transaction
from django_scopes import scope

from ..identity import name_key
from ..models import Directorate, Membership, User, role_contradiction
from .invitations import invitation_create


class PersonError(ValueError):
    """Input that cannot become a membership; the message says why."""


def directorate_get_or_create(*, trust, name):
    """The trust's directorate called `name`, compared as partnership.identity.name_key compares
    names (without case or accents, at least as loosely as the database's unique constraint),
    created if new; None for blank."""
    name = " ".join((name or "").split())
    if not name:
        return None
    key = name_key(name)
    with scope(trust=trust):
        existing = [d for d in Directorate.objects.filter(trust=trust) if name_key(d.name) == key]
        return existing[0] if existing else Directorate.objects.create(trust=trust, name=name)


def membership_upsert(
    *,
    trust,
    email,
    full_name,
    professional_group,
    level,
    role,
    directorate=None,
    receives_board_report=False,
):
    """Create or update the person's membership of `trust`. Returns (membership, created).

    A new person gets an account with no usable password: they set one from an invitation.
    An existing person's name is left as they set it. An account that already existed before
    this trust added it (it belongs to someone in another trust) becomes a member only by
    accepting the invitation: until then the membership is inactive and awaiting acceptance,
    and the trust sees only the address and the name it gave (`invited_name`).
    """
    problem = role_contradiction(role, professional_group, level)
    if problem:
        raise PersonError(problem)
    if directorate is not None and directorate.trust_id != trust.pk:
        raise PersonError("That directorate belongs to another trust.")
    email = User.objects.normalize_email(email)
    with transaction.atomic(), scope(trust=trust):
        user = User.objects.filter(email=email).first()
        existing_account = user is not None
        if user is None:
            user = User.objects.create_user(email=email, full_name=full_name)
        membership, created = Membership.objects.get_or_create(
            user=user,
            trust=trust,
            defaults=dict(
                professional_group=professional_group,
                level=level,
                role=role,
                directorate=directorate,
                receives_board_report=receives_board_report,
                is_active=not existing_account,
                awaiting_acceptance=existing_account,
                invited_name=full_name if existing_account else "",
            ),
        )
        if not created:
            membership.professional_group = professional_group
            membership.level = level
            membership.role = role
            membership.directorate = directorate
            membership.receives_board_report = receives_board_report
            if membership.awaiting_acceptance:
                membership.invited_name = full_name
            else:
                membership.is_active = True
            membership.save(
                update_fields=[
                    "professional_group",
                    "level",
                    "role",
                    "directorate",
                    "receives_board_report",
                    "is_active",
                    "invited_name",
                ]
            )
    return membership, created


def person_invite(*, trust, invited_by=None, **person):
    """Add (or update) a person and email them an invitation. Returns the invitation."""
    with transaction.atomic():
        membership, _ = membership_upsert(trust=trust, **person)
        return invitation_create(membership=membership, invited_by=invited_by)
