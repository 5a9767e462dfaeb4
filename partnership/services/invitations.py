"""Invitations: create, send (once), accept, expire.

A token is the invitation's id signed with a salt and timestamp (django.core.signing), so
it cannot be forged or guessed, and stops working after INVITATION_MAX_AGE_DAYS. The row
records whether it is still pending, so a used or replaced link cannot be reused.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from ..emails import absolute_url, email_send
from ..models import Invitation, Membership
from ..queueing import enqueue_on_commit

logger = logging.getLogger(__name__)

TOKEN_SALT = "partnership.invitation"


class InvitationError(Exception):
    """A link that cannot be used; the message is shown to the person."""


def invitation_token(invitation):
    return signing.dumps({"invitation": invitation.pk}, salt=TOKEN_SALT, compress=True)


def invitation_url(invitation):
    return absolute_url(reverse("invitation_accept", kwargs={"token": invitation_token(invitation)}))


def invitation_create(*, membership, invited_by=None):
    """A fresh pending invitation for `membership`; any older pending one is revoked.

    The email is queued after the surrounding transaction commits; if the broker is down the
    row stays unsent and `invitations_send_due` sends it later.
    """
    from ..tasks import invitation_send_task  # tasks import services, not the reverse at load time

    with transaction.atomic(), scope(trust=membership.trust):
        Invitation.objects.filter(membership=membership, status=Invitation.Status.PENDING).update(
            status=Invitation.Status.REVOKED
        )
        invitation = Invitation.objects.create(trust=membership.trust, membership=membership, invited_by=invited_by)
        enqueue_on_commit(invitation_send_task, invitation.pk)
    return invitation


def invitation_send(*, invitation_id):
    """Send the invitation email at most once: claim the row (conditional UPDATE), then send.

    A failed send releases the claim so that a retry can send it; a claimed row is never
    sent again, even if the task is delivered twice.
    """
    with scopes_disabled():
        claimed = Invitation.objects.filter(
            pk=invitation_id, status=Invitation.Status.PENDING, sent_at__isnull=True
        ).update(sent_at=timezone.now())
        if not claimed:
            return False
        invitation = Invitation.objects.select_related("membership__user", "trust", "invited_by").get(pk=invitation_id)
        try:
            email_send(
                template="invitation",
                to=invitation.membership.user.email,
                context={
                    "invitation": invitation,
                    "trust": invitation.trust,
                    "membership": invitation.membership,
                    "person": invitation.membership.user,
                    "invited_by": invitation.invited_by,
                    "accept_url": invitation_url(invitation),
                    "has_password": invitation.membership.user.has_usable_password(),
                    "expires_at": invitation.expires_at,
                },
            )
        except Exception:
            Invitation.objects.filter(pk=invitation_id).update(sent_at=None)
            raise
    return True


#: How long an unsent invitation is left to its own task before the catch-up sends it.
SEND_GRACE = timedelta(minutes=2)


def invitations_send_due(*, now=None):
    """Catch-up for invitations whose task was lost (broker down, worker killed): send every
    usable invitation still unsent after SEND_GRACE. Each is claimed before sending, so one
    the task sends meanwhile is never sent twice. A mail failure leaves that invitation for
    the next run and does not hold up the others. Returns the number sent."""
    now = now or timezone.now()
    with scopes_disabled():
        due = list(
            Invitation.objects.filter(
                status=Invitation.Status.PENDING,
                sent_at__isnull=True,
                created_at__lte=now - SEND_GRACE,
                expires_at__gt=now,
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
        )
    sent = 0
    for invitation_id in due:
        try:
            sent += invitation_send(invitation_id=invitation_id)
        except (smtplib.SMTPException, OSError):
            logger.warning("Invitation %s could not be sent; the next run tries again", invitation_id, exc_info=True)
    return sent


def invitation_from_token(token):
    """The pending invitation a token names, or InvitationError with a message for the person."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=timedelta(days=settings.INVITATION_MAX_AGE_DAYS))
    except signing.SignatureExpired as exc:
        raise InvitationError("This invitation has expired. Ask your trust administrator to send a new one.") from exc
    except signing.BadSignature as exc:
        raise InvitationError("This invitation link is not valid. Check that you copied the whole link.") from exc
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("trust", "membership__user").filter(pk=data.get("invitation")).first()
        )
    if invitation is None:
        raise InvitationError("This invitation no longer exists. Ask your trust administrator for a new one.")
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationError("This invitation has already been used. Sign in with your email and password.")
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationError("A newer invitation has been sent to you. Use the link in the latest email.")
    membership = invitation.membership
    if not invitation.is_usable or not (membership.is_active or membership.awaiting_acceptance):
        raise InvitationError("This invitation has expired. Ask your trust administrator to send a new one.")
    return invitation


def invitation_accept(*, invitation, password=None, full_name=None):
    """Mark the invitation used; set the person's password (first sign-in) and name; a
    membership awaiting acceptance (an existing account's) becomes active now, and only now.

    Accepting is atomic and happens once: a concurrent second acceptance finds the row no
    longer pending and fails.
    """
    user = invitation.membership.user
    with transaction.atomic(), scopes_disabled():
        updated = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
            status=Invitation.Status.ACCEPTED, accepted_at=timezone.now()
        )
        if not updated:
            raise InvitationError("This invitation has already been used. Sign in with your email and password.")
        Membership.objects.filter(pk=invitation.membership_id, awaiting_acceptance=True).update(
            is_active=True, awaiting_acceptance=False, invited_name=""
        )
        fields = []
        if password is not None:
            user.set_password(password)
            fields.append("password")
        if full_name:
            user.full_name = full_name
            fields.append("full_name")
        if fields:
            user.save(update_fields=fields)
    return user


def invitations_expire(*, now=None):
    """Housekeeping: mark pending invitations past their expiry as expired. Returns the count."""
    now = now or timezone.now()
    with scopes_disabled():
        return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now).update(
            status=Invitation.Status.EXPIRED
        )
