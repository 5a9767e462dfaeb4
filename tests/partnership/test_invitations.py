"""Invitations: an administrator invites, the email goes out once, the link works once and expires."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from partnership.models import Invitation, Membership, User
from partnership.services.invitations import invitation_create, invitation_send, invitation_token, invitations_expire
from partnership.tasks import invitations_expire_task
from tests.factories import InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PERSON = {
    "email": "Dr.New@Ashby.nhs.uk",
    "full_name": "Dr Nadia New",
    "professional_group": "clinical",
    "level": "operational",
    "role": "consultant",
    "directorate": "",
    "receives_board_report": "",
}


def accept_path(message):
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body).group(1)


def invite(client, trust, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("person_invite", args=[trust.code]), {**NEW_PERSON, **overrides})


def test_administrator_invites_a_person_who_gets_one_email(
    trust, admin_membership, login, django_capture_on_commit_callbacks, unscoped
):
    response = invite(login(admin_membership), trust, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    membership = Membership.objects.get(user__email="dr.new@ashby.nhs.uk")
    assert (membership.trust, membership.role, membership.professional_group) == (trust, "consultant", "clinical")
    assert not membership.user.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dr.new@ashby.nhs.uk"]
    assert trust.name in message.subject
    assert "/invitations/" in message.body
    html = message.alternatives[0][0]
    assert accept_path(message) in html
    assert Invitation.objects.get(membership=membership).sent_at is not None


def test_invite_form_rejects_a_role_that_contradicts_the_group(trust, admin_membership, login, unscoped):
    response = login(admin_membership).post(
        reverse("person_invite", args=[trust.code]), {**NEW_PERSON, "role": "medical_director"}
    )
    assert response.status_code == 200
    assert "Role medical director needs" in response.content.decode()
    assert not User.objects.filter(email="dr.new@ashby.nhs.uk").exists()
    assert mail.outbox == []


def test_invite_form_rejects_a_bad_email(trust, admin_membership, login):
    response = login(admin_membership).post(
        reverse("person_invite", args=[trust.code]), {**NEW_PERSON, "email": "not-an-email"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()


def test_invite_form_offers_only_this_trusts_directorates(trust, other_trust, admin_membership, login, unscoped):
    from tests.factories import DirectorateFactory

    foreign = DirectorateFactory(trust=other_trust, name="Foreign ward")
    response = login(admin_membership).post(
        reverse("person_invite", args=[trust.code]), {**NEW_PERSON, "directorate": foreign.pk}
    )
    assert response.status_code == 200
    assert "Foreign ward" not in response.content.decode()
    assert not Membership.objects.filter(user__email="dr.new@ashby.nhs.uk").exists()


def test_accepting_sets_the_password_signs_in_and_lands_on_the_trust_home(
    client, trust, admin_membership, login, django_capture_on_commit_callbacks, unscoped
):
    invite(login(admin_membership), trust, django_capture_on_commit_callbacks)
    client.logout()
    path = accept_path(mail.outbox[0])

    page = client.get(path)
    assert page.status_code == 200
    assert "dr.new@ashby.nhs.uk" in page.content.decode()

    response = client.post(
        path, {"full_name": "Nadia New", "new_password1": "a-good-long-pass", "new_password2": "a-good-long-pass"}
    )
    assert response.status_code == 302
    assert response.url == reverse("trust_home", args=[trust.code])
    home = client.get(response.url)
    assert trust.name in home.content.decode()
    user = User.objects.get(email="dr.new@ashby.nhs.uk")
    assert user.check_password("a-good-long-pass") and user.full_name == "Nadia New"
    assert Invitation.objects.get(membership__user=user).status == "accepted"


def test_a_weak_password_is_refused_and_the_invitation_stays_usable(client, unscoped):
    invitation = InvitationFactory()
    path = reverse("invitation_accept", args=[invitation_token(invitation)])
    response = client.post(path, {"full_name": "X Y", "new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_used_link_cannot_be_used_again(client, unscoped):
    invitation = InvitationFactory()
    path = reverse("invitation_accept", args=[invitation_token(invitation)])
    data = {"full_name": "A B", "new_password1": "first-long-pass", "new_password2": "first-long-pass"}
    client.post(path, data)
    client.logout()

    again = client.post(path, {**data, "new_password1": "hijack-pass-123", "new_password2": "hijack-pass-123"})

    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert invitation.membership.user.__class__.objects.get(pk=invitation.membership.user_id).check_password(
        "first-long-pass"
    )


def test_an_expired_link_is_refused(client):
    invitation = InvitationFactory()
    path = reverse("invitation_accept", args=[invitation_token(invitation)])
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.get(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_a_tampered_link_is_refused(client):
    invitation = InvitationFactory()
    token = invitation_token(invitation)
    response = client.get(reverse("invitation_accept", args=[token[:-2] + "xx"]))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_a_new_invitation_replaces_the_old_link(client, unscoped):
    old = InvitationFactory()
    new = invitation_create(membership=old.membership)
    old.refresh_from_db()
    assert old.status == "revoked"
    assert client.get(reverse("invitation_accept", args=[invitation_token(old)])).status_code == 410
    assert client.get(reverse("invitation_accept", args=[invitation_token(new)])).status_code == 200


def test_someone_with_a_password_joins_by_signing_in_and_the_link_never_resets_it(client, trust, unscoped):
    existing = UserFactory(email="already@nhs.net")  # has a password from another trust
    membership = MembershipFactory(trust=trust, user=existing, is_active=False, awaiting_acceptance=True)
    invitation = Invitation.objects.create(trust=trust, membership=membership)
    url = reverse("invitation_accept", args=[invitation_token(invitation)])

    page = client.get(url)  # opening the link changes nothing (mail scanners open links)
    assert page.status_code == 200 and "Join " in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"

    response = client.post(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    existing.refresh_from_db()
    assert existing.has_usable_password()
    membership.refresh_from_db()
    assert (membership.is_active, membership.awaiting_acceptance) == (True, False)


def test_the_email_is_sent_at_most_once_even_if_the_task_runs_twice(unscoped):
    invitation = InvitationFactory()
    assert invitation_send(invitation_id=invitation.pk) is True
    assert invitation_send(invitation_id=invitation.pk) is False
    assert len(mail.outbox) == 1


def test_a_failed_send_is_released_for_the_retry(monkeypatch, unscoped):
    invitation = InvitationFactory()

    def broken_send(*args, **kwargs):
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken_send)
    with pytest.raises(OSError):
        invitation_send(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    monkeypatch.undo()
    assert invitation_send(invitation_id=invitation.pk) is True
    assert len(mail.outbox) == 1


def test_housekeeping_expires_only_stale_pending_invitations(unscoped):
    stale = InvitationFactory(expires_at=timezone.now() - timedelta(minutes=1))
    fresh = InvitationFactory()
    used = InvitationFactory(expires_at=timezone.now() - timedelta(days=1), status="accepted")

    assert invitations_expire_task.delay().get() == 1

    assert [Invitation.objects.get(pk=i.pk).status for i in (stale, fresh, used)] == ["expired", "pending", "accepted"]
    assert invitations_expire() == 0  # idempotent


def test_administrator_can_resend_an_invitation(
    trust, admin_membership, login, django_capture_on_commit_callbacks, unscoped
):
    invitation = InvitationFactory(membership__trust=trust, trust=trust)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_membership).post(reverse("person_reinvite", args=[trust.code, invitation.membership.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert Invitation.objects.filter(membership=invitation.membership, status="pending").count() == 1
