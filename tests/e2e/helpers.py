"""Steps shared by the browser journeys."""

import re


def field(page, label):
    """The form control labelled exactly `label` (crispy-forms appends a "*" to required fields' labels)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def sign_in(page, site, email, password):
    """Sign in through the login form; returns after the post-login page has loaded."""
    page.goto(f"{site}/accounts/login/")
    field(page, "Email address").fill(email)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def sign_out(page):
    """Press "Sign out" in the navbar, opening the collapsed menu first on a narrow screen."""
    toggler = page.get_by_role("button", name="Show menu")
    if toggler.is_visible():
        toggler.click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


# Every visible form control must have an accessible name from a <label> or aria-label(ledby).
UNLABELLED_CONTROLS_JS = """
() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((el) => el.type !== "hidden" && el.type !== "submit" && el.type !== "button")
  .filter((el) => el.offsetWidth > 0 || el.offsetHeight > 0 || el.getClientRects().length > 0)
  .filter((el) => !(el.labels && el.labels.length > 0)
                  && !(el.getAttribute("aria-label") || "").trim()
                  && !(el.getAttribute("aria-labelledby") || "").trim())
  .map((el) => el.outerHTML)
"""


def accessibility_smoke(page):
    """Basic checks that need no extra tooling: labelled controls, one h1, a page language."""
    assert page.evaluate(UNLABELLED_CONTROLS_JS) == [], "form controls without a label"
    assert page.locator("h1").count() == 1, "a page needs exactly one h1"
    assert (page.locator("html").get_attribute("lang") or "").strip(), "html[lang] is not set"
