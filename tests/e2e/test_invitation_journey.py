"""A new person joins a trust from their invitation email, signs out and signs in again (on a phone)."""

import re

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from partnership.services.people import person_invite
from tests.e2e.helpers import accessibility_smoke, field, sign_in, sign_out
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PERSON = "priya.shah@ashby.nhs.uk"
NEW_PASSWORD = "theatre-lists-on-tuesday"
URL_RE = re.compile(r"https?://\S+/invitations/\S+/")


@pytest.fixture
def invitation_link(site, trust, admin_membership, mailoutbox):
    """The accept link from the email the administrator's invitation sends (SITE_URL = the live server)."""
    # Outside a view nothing activates the trust's scope; person_invite needs one (invitation_create queries
    # Invitation.objects). No surrounding transaction: the email task runs on commit, i.e. straight away.
    with scope(trust=trust):
        person_invite(
            trust=trust,
            invited_by=admin_membership.user,
            email=NEW_PERSON,
            full_name="Priya Shah",
            professional_group="clinical",
            level="operational",
            role="consultant",
        )
    assert mailoutbox, "no invitation email was sent"
    message = mailoutbox[-1]
    assert message.to == [NEW_PERSON]
    match = URL_RE.search(message.body)
    assert match, f"no invitation link in the email:\n{message.body}"
    assert match.group(0).startswith(site)
    return match.group(0)


def accept(page, link, full_name="Dr Priya Shah", password=NEW_PASSWORD):
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Join Ashby Hospitals NHS Trust")
    accessibility_smoke(page)
    field(page, "Your full name").fill(full_name)
    field(page, "New password").fill(password)
    field(page, "New password confirmation").fill(password)
    page.get_by_role("button", name="Set password and sign in").click()


def test_accepted_invitation_lands_on_trust_home_and_can_sign_in_again(page, site, trust, invitation_link):
    accept(page, invitation_link)

    expect(page).to_have_url(re.compile(r"/trusts/RAA/$"))
    expect(page.get_by_test_id("trust-name")).to_have_text(trust.name)
    expect(page.get_by_test_id("member-role")).to_contain_text("Dr Priya Shah")
    expect(page.get_by_test_id("member-role")).to_contain_text("Consultant")

    sign_out(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    sign_in(page, site, NEW_PERSON, NEW_PASSWORD)
    expect(page).to_have_url(f"{site}/trusts/RAA/")
    expect(page.get_by_test_id("trust-name")).to_have_text(trust.name)


def test_wrong_password_shows_a_clear_error(page, site, consultant_membership):
    page.goto(f"{site}/accounts/login/")
    field(page, "Email address").fill("consultant@ashby.nhs.uk")
    field(page, "Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator(".alert")).to_contain_text("do not match")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(field(page, "Email address")).to_have_value("consultant@ashby.nhs.uk")
    expect(field(page, "Password")).to_have_value("")


def test_accepted_invitation_link_cannot_be_reused(page, new_page, invitation_link):
    accept(page, invitation_link)
    expect(page).to_have_url(re.compile(r"/trusts/RAA/$"))

    later = new_page()  # the same link clicked again later, from another browser
    response = later.goto(invitation_link)
    assert response.status == 410
    expect(later.get_by_role("alert")).to_contain_text("already been used")
    expect(field(later, "New password")).to_have_count(0)


def test_login_page_and_trust_home_accessibility_smoke(page, site, trust, admin_membership):
    page.goto(f"{site}/accounts/login/")
    accessibility_smoke(page)

    # Keyboard only. The email field has autofocus (Django's AuthenticationForm); were it ever dropped, Tab must
    # reach it past the skip link and the site name. Then type, Tab, type, Enter.
    email = field(page, "Email address")
    for _ in range(4):
        if email.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("Tab never reached the email field")
    page.keyboard.type(admin_membership.user.email)
    page.keyboard.press("Tab")
    assert field(page, "Password").evaluate("el => el === document.activeElement")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/trusts/RAA/$"))
    expect(page.get_by_test_id("trust-name")).to_have_text(trust.name)
    accessibility_smoke(page)


def test_login_page_is_branded_common_ground(page, site):
    page.goto(f"{site}/accounts/login/")
    assert page.title() == "Sign in · Common Ground"
    assert page.locator(".navbar-brand").inner_text() == "Common Ground"
