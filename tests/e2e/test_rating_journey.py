"""A consultant rates the month's objectives on a phone with the keyboard alone: Tab to each
scale, arrow keys to choose, Space to select, Tab past the comment, Enter to save; the
progress and the confirmation show, and the choices are still selected after a reload
(issue #4's browser journey)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from surveys.models import Rating
from surveys.services.rounds import round_get_or_create
from tests.e2e.helpers import accessibility_smoke, sign_in
from tests.factories import PASSWORD, ObjectiveFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# (number of arrow presses from the first option, value chosen): 4 Good progress, 2 Some
# progress, and "can't judge" (the sixth option).
CHOICES = [(3, "4"), (1, "2"), (5, "x")]

FOCUSED_JS = """
() => {
  const el = document.activeElement;
  return {tag: el.tagName, name: el.name || "", value: el.value || "", text: (el.textContent || "").trim()};
}
"""


@pytest.fixture
def objectives(trust):
    return [
        ObjectiveFactory(trust=trust, status="agreed", title=title, success_measure=measure)
        for title, measure in [
            ("Clinicians co-lead every service redesign", "Every redesign has two co-leads."),
            ("Budgets are reviewed jointly each quarter", "Four joint reviews a year."),
            ("A monthly leadership forum", "Ten forums a year."),
        ]
    ]


@pytest.fixture
def open_round(trust):
    today = timezone.localdate()
    round_ = round_get_or_create(trust=trust, period=today)
    round_.opens_on, round_.closes_on = today.replace(day=1), today + timedelta(days=7)
    round_.save()
    return round_


def focused(page):
    return page.evaluate(FOCUSED_JS)


def tab_until(page, wanted, limit=80):
    """Press Tab until the focused element matches `wanted` (a predicate); returns it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if wanted(element):
            return element
    raise AssertionError(f"Tab never reached the wanted element; last focused: {focused(page)}")


def test_consultant_rates_every_objective_with_the_keyboard_alone(
    page, site, trust, consultant_membership, objectives, open_round
):
    sign_in(page, site, "consultant@ashby.nhs.uk", PASSWORD)
    page.goto(site + reverse("rate", args=[trust.code]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rate progress")
    expect(page.get_by_test_id("progress")).to_contain_text("0 of 3 objectives rated")
    accessibility_smoke(page)

    for objective, (presses, value) in zip(objectives, CHOICES, strict=True):
        name = f"score_{objective.pk}"
        assert tab_until(page, lambda el, name=name: el["name"] == name)["value"] == "1"  # the group's first option
        for _ in range(presses):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Space")
        assert focused(page) == {"tag": "INPUT", "name": name, "value": value, "text": ""}
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Add a comment (optional)"  # the comment's summary, left closed

    tab_until(page, lambda el: el["tag"] == "BUTTON" and el["text"] == "Save my answers")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Saved. You have rated 3 of 3 objectives.")
    expect(page.get_by_test_id("progress")).to_contain_text("3 of 3 objectives rated")
    expect(page.get_by_role("progressbar", name="Objectives rated")).to_have_attribute("aria-valuenow", "3")

    page.reload()
    for objective, (_, value) in zip(objectives, CHOICES, strict=True):
        expect(page.locator(f'input[name="score_{objective.pk}"][value="{value}"]')).to_be_checked()
    expect(page.get_by_test_id("progress")).to_contain_text("3 of 3 objectives rated")
    with scopes_disabled():
        assert sorted(Rating.objects.values_list("objective__title", "score", "rater")) == [
            ("A monthly leadership forum", None, consultant_membership.pk),
            ("Budgets are reviewed jointly each quarter", 2, consultant_membership.pk),
            ("Clinicians co-lead every service redesign", 4, consultant_membership.pk),
        ]
    accessibility_smoke(page)
