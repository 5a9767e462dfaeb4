"""The trust administrator's home on the demo trust, on a desktop and a phone; kept as docs/screenshots/*.png.

The PNGs are always written to tmp_path; with UPDATE_SCREENSHOTS=1 they also replace the ones in docs/screenshots/.
"""

import os
import re
import shutil

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from partnership.demo import people as demo
from partnership.models import Membership
from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOT_DIR
from tests.e2e.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("viewport", "filename"), [(DESKTOP, "home.png"), (PHONE, "home-phone.png")], ids=["desktop", "phone"]
)
def test_home_page_screenshot(new_page, site, tmp_path, viewport, filename):
    call_command("seed_demo", allow_production=True, stdout=open(os.devnull, "w"))
    with scopes_disabled():
        active = Membership.objects.filter(trust__code=demo.TRUST_CODE, is_active=True).count()
    assert active > 0

    page = new_page(viewport)
    sign_in(page, site, f"admin@{demo.DOMAIN}", demo.DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(rf"/trusts/{demo.TRUST_CODE}/$"))
    expect(page.get_by_test_id("trust-name")).to_have_text(demo.TRUST_NAME)

    people = page.get_by_role("region", name=f"People in {demo.TRUST_NAME}")
    expect(people).to_be_visible()
    for label in [
        "active members",
        "senior clinical",
        "senior non-clinical",
        "operational clinical",
        "operational non-clinical",
    ]:
        expect(people.get_by_text(label, exact=True)).to_be_visible()
    total = people.locator(".stat").first
    expect(total).to_be_visible()
    expect(total).to_have_text(str(active))

    # The stylesheet loaded (Bootstrap's navbar is laid out as a flex row, not a plain list).
    assert page.locator("nav.navbar").evaluate("el => getComputedStyle(el).display") == "flex"

    shot = tmp_path / filename
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT_DIR / filename)


@pytest.mark.parametrize(
    ("viewport", "path", "login", "filename"),
    [
        (DESKTOP, "dashboard/", "md", "dashboard.png"),
        (DESKTOP, "objectives/OBJ-01/", "md", "objective.png"),
        (PHONE, "rate/", "consultant1", "rate-phone.png"),
    ],
    ids=["dashboard", "objective", "rate-phone"],
)
def test_page_screenshots(new_page, site, tmp_path, viewport, path, login, filename):
    """The medical director's dashboard and objective page, and a consultant rating on a phone."""
    call_command("seed_demo", allow_production=True, stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    page = new_page(viewport)
    sign_in(page, site, f"{login}@{demo.DOMAIN}", demo.DEMO_PASSWORD)
    page.goto(f"{site}/trusts/{demo.TRUST_CODE}/{path}")
    expect(page.locator("h1")).to_be_visible()
    assert page.locator("svg[role=img]").count() > 0 or "rate" in path  # charts render server-side

    shot = tmp_path / filename
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT_DIR / filename)
