from django.core.exceptions import ValidationError
from django.db import transaction
from django_scopes import scope

from ..identity import normalise_email
from ..models import Invitation, Level, Membership, ProfessionalGroup, Role, Trust, trust_code_validator
from .invitations import invitation_create
from .people import membership_upsert


def trust_create(*, code, name):
    """Create the trust `code`, or return the existing one (renamed if `name` changed).

    Returns (trust, created). ValidationError for a bad code or name.
    """
    code = (code or "").strip().upper()
    name = " ".join((name or "").split())
    trust_code_validator(code)
    if not name or len(name) > 200:
        raise ValidationError("A trust name is required (at most 200 characters).")
    with transaction.atomic():
        trust, created = Trust.objects.get_or_create(code=code, defaults={"name": name})
        if not created and trust.name != name:
            trust.name = name
            trust.save(update_fields=["name"])
    return trust, created


def trust_admin_invite(*, trust, email, full_name=""):
    """Make `email` an administrator of `trust` and invite them by email.

    Idempotent: no new invitation for someone who already has a password or a pending
    invitation (returns None then). Someone who holds another role in the trust keeps it.
    """
    with transaction.atomic(), scope(trust=trust):
        membership = Membership.objects.select_related("user").filter(user__email=normalise_email(email)).first()
        if membership is None:
            membership, _ = membership_upsert(
                trust=trust,
                email=email,
                full_name=full_name,
                professional_group=ProfessionalGroup.MANAGERIAL,
                level=Level.OPERATIONAL,
                role=Role.ADMINISTRATOR,
            )
        elif membership.role != Role.ADMINISTRATOR:
            raise ValidationError(
                f"{membership.user.email} is already the trust's {membership.get_role_display().lower()}; "
                "change their role in the admin if they should administer the trust."
            )
        if (
            membership.user.has_usable_password()
            or membership.invitations.filter(status=Invitation.Status.PENDING).exists()
        ):
            return None
        return invitation_create(membership=membership)
