"""The chief executive signs off a proposed objective with the keyboard alone: types the
sign-in form and presses Enter, then Tabs to "Sign off for the managerial side" and presses
Enter, Tabs to the confirm button and presses Enter, and sees the objective agreed
(issue #8, item 7; the rating page's keyboard journey is in test_rating_journey.py)."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from objectives import services
from objectives.models import Objective
from tests.e2e.helpers import accessibility_smoke
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOCUSED_JS = """
() => {
  const el = document.activeElement;
  return {tag: el.tagName, name: el.name || "", type: el.type || "",
          text: (el.innerText || el.textContent || "").trim(), href: el.getAttribute("href") || ""};
}
"""


def focused(page):
    return page.evaluate(FOCUSED_JS)


def tab_until(page, wanted, limit=60):
    """Press Tab until the focused element matches `wanted` (a predicate); returns it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if wanted(element):
            return element
    raise AssertionError(f"Tab never reached the wanted element; last focused: {focused(page)}")


@pytest.fixture
def proposed(trust):
    """OBJ-01, written and proposed by the medical director: it awaits the managerial side."""
    md = MembershipFactory(
        trust=trust, medical_director=True, user__email="md@ashby.nhs.uk", user__full_name="Maya Desai"
    )
    ceo = MembershipFactory(
        trust=trust, chief_executive=True, user__email="ceo@ashby.nhs.uk", user__full_name="Colin Evans"
    )
    objective = services.objective_create(
        trust=trust,
        by=md,
        title="Joint job planning",
        description="Consultants and managers plan job plans together.",
        theme="dialogue",
        clinical_lead=md,
        managerial_lead=ceo,
        success_measure="Every job plan signed by both.",
    )
    return services.objective_propose(objective=objective, by=md)


def test_chief_executive_signs_off_with_the_keyboard_alone(desktop_page, site, trust, proposed):
    page = desktop_page
    assert proposed.status == "proposed"

    # Sign in: Tab to the email box, type, Tab to the password, type, Enter.
    page.goto(f"{site}/accounts/login/")
    if focused(page)["name"] != "username":  # the email box may already have the focus (autofocus)
        tab_until(page, lambda el: el["name"] == "username")
    page.keyboard.type("ceo@ashby.nhs.uk")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/accounts/login/" not in page.url, "signing in with the keyboard failed"

    # The objective's page (by URL), then Tab to the sign-off link and Enter.
    page.goto(site + reverse("objective_detail", args=[trust.code, proposed.ref]))
    expect(page.get_by_test_id("signoff-managerial")).to_contain_text("awaiting Colin Evans")
    link = tab_until(page, lambda el: el["tag"] == "A" and el["text"] == "Sign off for the managerial side")
    assert link["href"].endswith(f"/objectives/{proposed.ref}/sign-off/")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/objectives/{proposed.ref}/sign-off/$"))
    accessibility_smoke(page)

    # The confirm page: Tab to the button and Enter.
    tab_until(page, lambda el: el["tag"] == "BUTTON" and el["text"] == "Sign off this objective")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/objectives/{proposed.ref}/$"))
    expect(page.get_by_role("status")).to_contain_text("it is now agreed")
    expect(page.locator(".badge", has_text="Agreed")).to_be_visible()
    expect(page.get_by_test_id("signoff-managerial")).to_contain_text("signed by Colin Evans")
    accessibility_smoke(page)
    with scopes_disabled():
        assert Objective.objects.get(pk=proposed.pk).status == "agreed"
