"""Every main page of the demo trust, checked with axe-core against WCAG 2.0/2.1 A and AA
(issue #8, item 7): no violation of impact "serious" or "critical" is allowed. Violations of
lower impact are printed (run with -s to see them) but do not fail the test.

axe-core is vendored in tests/e2e/vendor/ (see AXE-LICENSE.txt). The site's Content-Security-
Policy allows scripts from 'self' only, so axe is not injected inline (add_script_tag(path=...)
would be blocked): page.route answers a same-origin URL with the vendored file and the page
loads it as an ordinary <script src>. The page's CSP stays switched on while axe runs.
"""

import os
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from partnership.demo import people as demo
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_PATH = "/__axe-core__/axe.min.js"  # answered by page.route, never by the server
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN_JS = (
    "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
    " return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
    " nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary}))})); }"
)
BLOCKING = {"serious", "critical"}


def last_month():
    today = timezone.localdate()
    first = today.replace(day=1)
    return date(first.year - 1, 12, 1) if first.month == 1 else first.replace(month=first.month - 1)


REPORT_PERIOD = f"{last_month():%Y-%m}"

# (test id, path under the site, login name or None for anonymous, viewport)
PAGES = [
    ("sign-in", "/accounts/login/", None, DESKTOP),
    ("home-admin", f"/trusts/{demo.TRUST_CODE}/", "admin", DESKTOP),
    ("home-md", f"/trusts/{demo.TRUST_CODE}/", "md", DESKTOP),
    ("dashboard", f"/trusts/{demo.TRUST_CODE}/dashboard/", "md", DESKTOP),
    ("rate-desktop", f"/trusts/{demo.TRUST_CODE}/rate/", "consultant1", DESKTOP),
    ("rate-phone", f"/trusts/{demo.TRUST_CODE}/rate/", "consultant1", PHONE),
    ("objective-list", f"/trusts/{demo.TRUST_CODE}/objectives/", "md", DESKTOP),
    ("objective-detail", f"/trusts/{demo.TRUST_CODE}/objectives/OBJ-01/", "md", DESKTOP),
    ("report-list", f"/trusts/{demo.TRUST_CODE}/reports/", "md", DESKTOP),
    ("report-detail", f"/trusts/{demo.TRUST_CODE}/reports/{REPORT_PERIOD}/", "md", DESKTOP),
    ("people-list", f"/trusts/{demo.TRUST_CODE}/people/", "admin", DESKTOP),
    ("rounds", f"/trusts/{demo.TRUST_CODE}/rounds/", "admin", DESKTOP),
]


def axe_violations(page, site):
    """Load the vendored axe-core into the page (same origin, so CSP allows it) and run it."""
    page.route(
        f"{site}{AXE_PATH}",
        lambda route: route.fulfill(path=AXE_JS, content_type="application/javascript; charset=utf-8"),
    )
    page.add_script_tag(url=f"{site}{AXE_PATH}")
    assert page.evaluate("() => typeof axe !== 'undefined' && typeof axe.run === 'function'"), "axe did not load"
    return page.evaluate(AXE_RUN_JS, WCAG_TAGS)


def describe(violations):
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:300]}")
            summary = " ".join((node["summary"] or "").split())
            if summary:
                lines.append(f"       {summary[:400]}")
    return "\n".join(lines) or "(none)"


@pytest.fixture
def demo_trust():
    """The seeded demo trust with last month's board report built."""
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", allow_production=True, stdout=quiet, stderr=quiet)
        call_command("build_reports", period=REPORT_PERIOD, stdout=quiet, stderr=quiet)


@pytest.mark.parametrize(("path", "login", "viewport"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violations(new_page, site, demo_trust, path, login, viewport):
    page = new_page(viewport)
    if login:
        sign_in(page, site, f"{login}@{demo.DOMAIN}", demo.DEMO_PASSWORD)
    response = page.goto(site + path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    expect(page.locator("h1")).to_be_visible()
    page.wait_for_load_state("networkidle")

    violations = axe_violations(page, site)
    print(f"\naxe-core on {path} ({viewport['width']}px, {login or 'anonymous'}):\n{describe(violations)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, (
        f"{len(blocking)} serious/critical WCAG 2.1 AA violation(s) on {path} "
        f"({viewport['width']}px wide, signed in as {login or 'nobody'}). All violations found:\n{describe(violations)}"
    )
