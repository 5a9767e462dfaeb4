"""A medical director opens the dashboard, sees the divergent objectives first, and downloads
the round's CSV (issue #5's browser journey), on the demo trust."""

import csv
import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from partnership.demo.people import DEMO_PASSWORD, DOMAIN
from tests.e2e.helpers import accessibility_smoke, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = (
    "objective_ref,objective_title,theme,period,n_clinical,mean_clinical,n_managerial,mean_managerial,"
    "gap,p_value,q_value,effect_size,status"
)


def test_medical_director_sees_divergence_first_and_downloads_the_csv(desktop_page, site):
    call_command("seed_demo", allow_production=True, stdout=io.StringIO(), stderr=io.StringIO())
    page = desktop_page
    sign_in(page, site, f"md@{DOMAIN}", DEMO_PASSWORD)
    page.get_by_role("link", name="Dashboard", exact=True).click()

    table = page.get_by_test_id("divergence-table")
    first_two = table.locator("tbody tr").nth(0), table.locator("tbody tr").nth(1)
    for row in first_two:
        expect(row.locator(".badge", has_text="divergent")).to_be_visible()
    expect(page.get_by_test_id("talking-points")).to_contain_text("OBJ-0")
    accessibility_smoke(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the table (CSV)").click()
    text = open(download.value.path(), encoding="utf-8").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert ",".join(rows[0]) == HEADER
    assert download.value.suggested_filename.startswith("RNG-")
    statuses = {row[0]: row[12] for row in rows[1:]}
    assert statuses["OBJ-01"] == statuses["OBJ-02"] == "divergent"
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])  # ordered by ref
