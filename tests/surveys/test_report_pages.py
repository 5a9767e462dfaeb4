"""The board report archive: the list, each report exactly as sent (its snapshot, never live
data) and its PDF, for any member of the trust; 404 for other trusts and unknown months; a
fixed number of queries."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled
from pypdf import PdfReader

from partnership.demo.people import DEMO_PASSWORD, DOMAIN
from partnership.models import Membership, Trust
from surveys.analysis import latest_closed_round
from surveys.charts import signed
from surveys.models import DivergenceReport, OutboxStatus, Rating, RatingRound, ReportDelivery
from surveys.services import reports
from surveys.services.reports import deliveries_send, report_build
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", allow_production=True, stdout=io.StringIO(), stderr=io.StringIO())
    with scopes_disabled():
        return Trust.objects.get(code="RNG")


@pytest.fixture
def board_member(demo, client):
    """A non-executive board member: on the board report list, not an administrator."""
    with scopes_disabled():
        member = Membership.objects.get(user__email=f"board.managerial1@{DOMAIN}")
    assert member.role == "board_member" and member.receives_board_report
    assert client.login(username=member.user.email, password=DEMO_PASSWORD)
    return member


@pytest.fixture
def built(demo):
    with scopes_disabled():
        round_ = latest_closed_round(demo)
    return report_build(round=round_)


@pytest.fixture
def fast_pdf(monkeypatch):
    """Many reports: skip WeasyPrint (the PDF itself is tested elsewhere)."""
    monkeypatch.setattr(reports, "report_pdf", lambda data: b"%PDF-1.7 test")


def body_of(html):
    """The report body of a detail page (the rest of the page carries a per-request CSRF token)."""
    start = html.index('data-testid="report-body"')
    return html[start : html.index("</article>", start)]


def test_the_list_shows_reports_newest_first_with_delivery_counts(client, demo, board_member, fast_pdf):
    with scopes_disabled():
        rounds = list(
            RatingRound.objects.filter(trust=demo).closed_on(latest_closed_round(demo).period).order_by("period")
        )
        rounds.append(latest_closed_round(demo))
    for round_ in rounds[-3:]:
        report_build(round=round_)
    latest = rounds[-1]
    with scopes_disabled():
        report = DivergenceReport.objects.get(round=latest)
        ReportDelivery.objects.filter(report=report).update(status=OutboxStatus.SENT)
        first = ReportDelivery.objects.filter(report=report).first()
        ReportDelivery.objects.filter(pk=first.pk).update(status=OutboxStatus.FAILED)
        total = ReportDelivery.objects.filter(report=report).count()
    client.logout()  # delivery counts are for administrators (issue 12.7)
    assert client.login(username=f"admin@{DOMAIN}", password=DEMO_PASSWORD)

    page = client.get(reverse("report_list", args=[demo.code])).content.decode()
    periods = re.findall(r'<tr data-period="([^"]+)">', page)
    assert periods == [r.slug for r in reversed(rounds[-3:])]
    row = page[page.index(f'data-period="{latest.slug}"') :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r'<td class="text-end">(.*?)</td>', row)
    assert [re.sub(r"<[^>]+>", "", c) for c in cells] == [str(total - 1), "0", "1"]
    assert reverse("report_detail", args=[demo.code, latest.slug]) in row
    assert reverse("report_pdf", args=[demo.code, latest.slug]) in row


def test_the_list_without_reports(client, board_member, demo):
    page = client.get(reverse("report_list", args=[demo.code])).content.decode()
    assert "No board report has been built yet" in page


def test_the_detail_page_shows_the_snapshot(client, demo, board_member, built):
    response = client.get(reverse("report_detail", args=[demo.code, built.slug]))
    assert response.status_code == 200
    page = response.content.decode()
    data = built.data
    assert data["round"]["label"] in page
    for item in data["objectives"]:
        assert f'data-ref="{item["ref"]}"' in page
    divergent = [o for o in data["objectives"] if o["status"] == "divergent"]
    assert len(divergent) == 2
    body = body_of(page)
    for item in divergent:
        assert signed(item["gap"]) in body
    assert "What to talk about" in body and "<svg" in body  # the chart inline on the page
    assert 'role="img"' in body
    assert reverse("report_pdf", args=[demo.code, built.slug]) in page


def test_the_page_never_changes_after_ratings_change(client, demo, board_member, built):
    url = reverse("report_detail", args=[demo.code, built.slug])
    before = body_of(client.get(url).content.decode())
    with scopes_disabled():
        objective = demo.objectives.get(ref="OBJ-01")
        Rating.objects.filter(round=built.round, objective=objective).update(score=5)
        objective.title = "A new title"
        objective.save()
        demo.min_group_size = 7
        demo.save()
    after = body_of(client.get(url).content.decode())
    assert after == before
    assert "A new title" not in after


def test_the_page_and_the_email_share_the_report_body(client, demo, board_member, built):
    deliveries_send()
    html = mail.outbox[0].alternatives[0][0]
    page = body_of(client.get(reverse("report_detail", args=[demo.code, built.slug])).content.decode())
    for marker in ('data-testid="gap-table"', 'data-testid="pulse-table"', 'data-testid="talking-points"'):
        assert marker in html and marker in page
    table = re.compile(r'<table [^>]*data-testid="gap-table">.*?</table>\s*</div>', re.S)
    assert table.search(html).group(0) == table.search(page).group(0)  # the same numbers and bars


def test_the_pdf_download(client, demo, board_member, built):
    response = client.get(reverse("report_pdf", args=[demo.code, built.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="RNG-{built.slug}.pdf"'
    content = b"".join(response.streaming_content)
    with built.pdf.open("rb") as file:
        assert content == file.read()  # the stored file, not a new rendering
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "What to talk about" in text and "OBJ-01" in text


@pytest.mark.parametrize("name", ["report_detail", "report_pdf"])
@pytest.mark.parametrize("period", ["2031-01", "2026-13", "2026-00", "EARLIEST"])
def test_404_for_a_month_without_a_report(client, demo, board_member, built, name, period):
    if period == "EARLIEST":  # a closed round that has no report
        with scopes_disabled():
            period = RatingRound.objects.filter(trust=demo).order_by("period").first().slug
    assert client.get(reverse(name, args=[demo.code, period])).status_code == 404


@pytest.mark.parametrize("name", ["report_list", "report_detail", "report_pdf"])
def test_other_trusts_members_get_404(client, demo, built, other_trust, name, login):
    outsider = MembershipFactory(trust=other_trust, medical_director=True, receives_board_report=True)
    login(outsider)
    args = [demo.code] if name == "report_list" else [demo.code, built.slug]
    assert client.get(reverse(name, args=args)).status_code == 404
    # ... and their own trust's archive does not show the other's report.
    if name == "report_list":
        assert built.slug not in client.get(reverse(name, args=[other_trust.code])).content.decode()


@pytest.mark.parametrize("name", ["report_list", "report_detail", "report_pdf"])
def test_anonymous_visitors_are_sent_to_sign_in(client, demo, built, name):
    args = [demo.code] if name == "report_list" else [demo.code, built.slug]
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_rater_and_an_administrator_see_the_archive_too(client, demo, built):
    for login in (f"consultant1@{DOMAIN}", f"admin@{DOMAIN}"):
        client.logout()
        assert client.login(username=login, password=DEMO_PASSWORD)
        assert client.get(reverse("report_detail", args=[demo.code, built.slug])).status_code == 200


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_reports_or_deliveries(client, demo, board_member, fast_pdf):
    with scopes_disabled():
        rounds = list(
            RatingRound.objects.filter(trust=demo).closed_on(latest_closed_round(demo).period).order_by("-period")
        )
    report_build(round=rounds[0])
    list_url = reverse("report_list", args=[demo.code])
    one = count_queries(client, list_url)
    for round_ in rounds[1:]:
        report_build(round=round_)
    with scopes_disabled():
        for i in range(30):
            MembershipFactory(trust=demo, role="board_member", level="board", professional_group="clinical",
                              receives_board_report=True, user__email=f"extra{i}@example.nhs.uk")  # fmt: skip
        for report in DivergenceReport.objects.filter(trust=demo):
            reports.deliveries_create(report=report)
    many = count_queries(client, list_url)
    assert many == one and many <= 8

    detail_url = reverse("report_detail", args=[demo.code, rounds[0].slug])
    small = count_queries(client, detail_url)
    assert small <= 8
    with scopes_disabled():
        assert DivergenceReport.objects.filter(trust=demo).count() == len(rounds)
    assert count_queries(client, reverse("report_detail", args=[demo.code, rounds[-1].slug])) == small
