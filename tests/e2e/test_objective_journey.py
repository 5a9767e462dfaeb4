"""A medical director writes and proposes an objective; the chief executive signs it off from
the email link; both see it as agreed (issue #3's browser journey)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import accessibility_smoke, field, sign_in, sign_out
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board(trust):
    return {
        "md": MembershipFactory(
            trust=trust, medical_director=True, user__email="md@ashby.nhs.uk", user__full_name="Dr Maya Desai"
        ),
        "ceo": MembershipFactory(
            trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk", user__full_name="Tom Reid"
        ),
    }


def test_medical_director_proposes_and_chief_executive_agrees(desktop_page, new_page, site, trust, board, mailoutbox):
    page = desktop_page
    sign_in(page, site, "md@ashby.nhs.uk", PASSWORD)
    page.get_by_role("link", name="Objectives").first.click()
    page.get_by_role("link", name="New objective").click()
    accessibility_smoke(page)

    field(page, "Title").fill("Clinicians co-lead every service redesign")
    page.get_by_label(re.compile(r"^\s*Devolved decisions")).check()
    page.get_by_label(re.compile(r"^\s*Clinical lead")).select_option(label="Dr Maya Desai (medical director)")
    page.get_by_label(re.compile(r"^\s*Managerial lead")).select_option(label="Tom Reid (chief executive)")
    field(page, "Success measure").fill("Every redesign has a clinical and a managerial co-lead.")
    page.get_by_role("button", name="Save as draft").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("OBJ-01")
    expect(page.locator(".badge", has_text="Draft")).to_be_visible()
    page.get_by_role("link", name="Propose").click()
    page.get_by_role("button", name="Propose this objective").click()
    expect(page.get_by_test_id("signoff-clinical")).to_contain_text("signed by Dr Maya Desai")
    expect(page.get_by_test_id("signoff-managerial")).to_contain_text("awaiting Tom Reid")

    # The chief executive follows the link in the email, on a phone.
    assert [m.to for m in mailoutbox] == [["ceo@ashby.nhs.uk"]]
    link = re.search(r"https?://\S+/objectives/OBJ-01/", mailoutbox[0].body).group(0)
    sign_out(page)
    phone = new_page()
    sign_in(phone, site, "ceo@ashby.nhs.uk", PASSWORD)
    phone.goto(link)
    phone.get_by_role("link", name="Sign off for the managerial side").click()
    phone.get_by_role("button", name="Sign off this objective").click()

    expect(phone.get_by_role("status")).to_contain_text("it is now agreed")
    expect(phone.locator(".badge", has_text="Agreed")).to_be_visible()
    expect(phone.get_by_test_id("signoff-managerial")).to_contain_text("signed by Tom Reid")
    history = phone.locator("section[aria-labelledby=history-heading]")
    expect(history).to_contain_text("Status proposed → agreed")
    accessibility_smoke(phone)

    # Back in the list, it counts as agreed.
    phone.goto(f"{site}/trusts/{trust.code}/objectives/?status=agreed")
    expect(phone.get_by_role("link", name="Clinicians co-lead every service redesign")).to_be_visible()
