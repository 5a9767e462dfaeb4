"""Turning reminder emails off from the link in the email (no sign-in, signed token, a GET
never changes anything, RFC 8058 one-click) and on or off from the profile page."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from surveys.models import ReminderLog
from surveys.outbox import outbox_claim, outbox_deliver
from surveys.services.reminders import (
    reminder_message,
    reminders_membership_from_token,
    reminders_opt_out_token,
    reminders_opt_out_url,
    reminders_plan,
)
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def member(trust):
    return MembershipFactory(trust=trust, user__email="member@ashby.nhs.uk", user__full_name="Priya Shah")


def opt_out_url(membership, trust_code=None):
    token = reminders_opt_out_token(membership)
    return reverse("reminders_opt_out", kwargs={"trust_code": trust_code or membership.trust.code, "token": token})


def receives(membership):
    membership.refresh_from_db(fields=["receives_reminders"])
    return membership.receives_reminders


# The link in the email ----------------------------------------------------------------------


def test_the_token_names_the_membership(member):
    assert reminders_membership_from_token(reminders_opt_out_token(member)) == member
    assert reminders_membership_from_token("nonsense") is None
    assert reminders_opt_out_url(member) == settings.SITE_URL + opt_out_url(member)


def test_get_shows_a_confirmation_and_changes_nothing(client, member):
    response = client.get(opt_out_url(member))  # what a link scanner does
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop reminder emails?" in page and "member@ashby.nhs.uk" in page
    assert '<form method="post">' in page and '<button class="btn btn-primary" type="submit">' in page
    assert receives(member) is True


def test_the_confirmation_post_opts_out_without_signing_in(member):
    client = Client(enforce_csrf_checks=True)
    url = opt_out_url(member)
    client.get(url)
    response = client.post(url, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 200
    assert (
        "You will no longer get reminder emails from Ashby Hospitals NHS Trust. You can still rate, and turn "
        "them back on from your profile." in response.content.decode()
    )
    assert receives(member) is False
    # Opening the link again says so, with no button.
    page = client.get(url).content.decode()
    assert "You will no longer get reminder emails" in page and "<form" not in page.split('id="main"')[1]


def test_the_confirmation_post_is_csrf_checked(member):
    response = Client(enforce_csrf_checks=True).post(opt_out_url(member))
    assert response.status_code == 403
    assert receives(member) is True


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_one_click_post_from_the_mail_client(member, encoding):
    client = Client(enforce_csrf_checks=True)  # a mail provider's server: no cookie, no CSRF token
    if encoding == "multipart":
        response = client.post(opt_out_url(member), ONE_CLICK)
    else:
        response = client.post(
            opt_out_url(member), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 200
    assert receives(member) is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_404(client, member, method):
    url = opt_out_url(member)
    tampered = url.replace(url.split("/")[-2], url.split("/")[-2][:-3] + "abc")
    response = getattr(client, method)(tampered, ONE_CLICK if method == "post" else None)
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert receives(member) is True


def test_a_token_of_another_trusts_membership_is_404_under_this_trust(client, trust, other_trust):
    elsewhere = MembershipFactory(trust=other_trust)
    url = opt_out_url(elsewhere, trust_code=trust.code)
    assert client.get(url).status_code == 404
    assert client.post(url, ONE_CLICK).status_code == 404
    assert receives(elsewhere) is True
    assert client.get(opt_out_url(elsewhere)).status_code == 200  # under its own trust it works


def test_an_unknown_trust_code_is_404(client, member):
    assert client.get(opt_out_url(member, trust_code="ZZZ")).status_code == 404


def test_a_token_from_another_purpose_is_404(client, member):
    from django.core import signing

    token = signing.dumps({"membership": member.pk}, salt="partnership.invitation")
    url = reverse("reminders_opt_out", kwargs={"trust_code": member.trust.code, "token": token})
    assert client.post(url, ONE_CLICK).status_code == 404
    assert receives(member) is True


def test_the_link_in_a_reminder_email_opts_out(trust, member):
    ObjectiveFactory(trust=trust, status="agreed")
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London")), tick=False):
        round_get_or_create(trust=trust, period=date(2026, 11, 1))
        reminders_plan()
        outbox_deliver(ReminderLog, outbox_claim(ReminderLog), reminder_message)
    (message,) = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix(settings.SITE_URL)
    assert Client(enforce_csrf_checks=True).post(url, ONE_CLICK).status_code == 200
    assert receives(member) is False


# The profile page -------------------------------------------------------------------------


def test_the_profile_shows_who_you_are_here(login, member, medicine):
    member.directorate = medicine
    member.save(update_fields=["directorate"])
    response = login(member).get(reverse("profile", args=["RAA"]))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Priya Shah", "member@ashby.nhs.uk", "Consultant, Medicine", "Ashby Hospitals NHS Trust"):
        assert text in page
    assert "Email me reminders to rate" in page
    assert 'name="receives_reminders"' in page and "checked" in page


def test_the_profile_turns_reminders_off_and_on(login, member):
    client = login(member)
    url = reverse("profile", args=["RAA"])
    response = client.post(url, {})  # the box unticked
    assert response.status_code == 302 and response.url == url
    assert receives(member) is False
    assert "checked" not in client.get(url).content.decode().split('name="receives_reminders"')[1].split(">")[0]

    client.post(url, {"receives_reminders": "on"})
    assert receives(member) is True


def test_the_profile_of_an_administrator_says_they_get_no_reminders(login, admin_membership):
    page = login(admin_membership).get(reverse("profile", args=["RAA"])).content.decode()
    assert "does not rate objectives" in page


def test_the_profile_is_only_for_members_of_the_trust(client, login, trust, other_admin_membership):
    assert client.get(reverse("profile", args=["RAA"])).status_code == 302  # sign in first
    assert login(other_admin_membership).get(reverse("profile", args=["RAA"])).status_code == 404
    assert client.post(reverse("profile", args=["RAA"]), {}).status_code == 404
