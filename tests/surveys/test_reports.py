"""The board report (issue #6): what is due, building once and freezing the snapshot, the email
(text, Outlook-safe HTML, inline PNG chart, PDF and CSV attachments), delivery exactly once
through the outbox, and who receives it."""

import csv
import email
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.db import IntegrityError
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from partnership.models import Membership, Trust
from surveys import charts
from surveys.analysis import latest_closed_round, round_analysis
from surveys.exports import REPORT_HEADER, pulse_csv_rows, report_csv_rows, write_csv
from surveys.models import DivergenceReport, OutboxStatus, RatingRound, ReportDelivery
from surveys.outbox import backoff
from surveys.report_snapshot import report_snapshot
from surveys.selectors import round_response_counts
from surveys.services import reports
from surveys.services.reports import (
    REPORT_SEND_HOURS,
    RelatedImagesEmail,
    deliveries_create,
    deliveries_send,
    report_build,
    report_message,
    reports_due,
)
from surveys.services.rounds import round_get_or_create
from surveys.talk import talking_points
from tests.factories import MembershipFactory
from tests.surveys.helpers import anonymous_ratings

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SVG = "{http://www.w3.org/2000/svg}"
SMALL_GROUP_MEAN = "1.50"  # the two senior clinicians' mean: must never be shown
HIDDEN_SIBLING_MEAN = "4.38"  # the operational clinicians', hidden against differencing


rate = anonymous_ratings


@pytest.fixture
def board(trust):
    """Who should and should not receive the board report."""
    return {
        "md": MembershipFactory(
            trust=trust, medical_director=True, receives_board_report=True, user__email="md@ashby.nhs.uk"
        ),
        "ceo": MembershipFactory(
            trust=trust, chief_executive=True, receives_board_report=True, user__email="ceo@ashby.nhs.uk"
        ),
        "chair": MembershipFactory(
            trust=trust,
            role="board_member",
            professional_group="managerial",
            level="board",
            receives_board_report=True,
            user__email="chair@ashby.nhs.uk",
        ),
        "left": MembershipFactory(
            trust=trust,
            role="board_member",
            professional_group="clinical",
            level="board",
            receives_board_report=True,
            is_active=False,
            user__email="left@ashby.nhs.uk",
        ),
        "not_on_list": MembershipFactory(trust=trust, receives_board_report=False, user__email="cons@ashby.nhs.uk"),
    }


RECIPIENTS = {"md@ashby.nhs.uk", "ceo@ashby.nhs.uk", "chair@ashby.nhs.uk"}


@pytest.fixture
def rated(february_round, agreed_objective):
    """February (closed at mid March): OBJ-01 divergent, with a senior-clinical group of two (mean
    1.50, suppressed, and its operational sibling hidden against differencing); OBJ-02 aligned."""
    redesign = agreed_objective(
        ref="OBJ-01", title="Clinicians co-lead every service redesign", theme="devolved-decisions"
    )
    forum = agreed_objective(ref="OBJ-02", title="A monthly leadership forum", theme="dialogue")
    rate(february_round, redesign, "clinical", "operational", [4, 4, 5, 5, 4, 4, 5, 4])
    rate(february_round, redesign, "clinical", "board", [1, 2])
    rate(february_round, redesign, "managerial", "operational", [2] * 8)
    rate(february_round, forum, "clinical", "operational", [3, 3, 4, 3, 3])
    rate(february_round, forum, "managerial", "operational", [3, 4, 3, 3, 3])
    return february_round


def send(now=None):
    return deliveries_send(now=now)


def parts(message):
    """{content type: [parts]} of the rendered MIME message (what the SMTP server receives)."""
    found = {}
    for part in message.message().walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


def html_of(message):
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


# --- reports_due -----------------------------------------------------------------------------


def test_reports_due_lists_each_trusts_latest_closed_round_without_a_report(
    trust, other_trust, mid_march, django_assert_num_queries
):
    for period in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
        round_get_or_create(trust=trust, period=period)
    other_feb = round_get_or_create(trust=other_trust, period=date(2026, 2, 1))
    no_rounds = Trust.objects.create(code="RCC", name="Cedar NHS Trust")
    with scopes_disabled():
        february = RatingRound.objects.get(trust=trust, period=date(2026, 2, 1))
    with django_assert_num_queries(1):
        due = reports_due()
    assert due == sorted([(trust.pk, february.pk), (other_trust.pk, other_feb.pk)])
    assert no_rounds.pk not in [trust_id for trust_id, _ in due]

    report_build(round=other_feb)
    assert reports_due() == [(trust.pk, february.pk)]  # never goes back to January


def test_reports_due_uses_the_london_date_of_now(trust, mid_march):
    january = round_get_or_create(trust=trust, period=date(2026, 1, 1))
    february = round_get_or_create(trust=trust, period=date(2026, 2, 1))
    # February closes on the 14th (inclusive): not due that day, due the next day in London.
    assert reports_due(now=datetime(2026, 2, 14, 23, 30, tzinfo=LONDON)) == [(trust.pk, january.pk)]
    assert reports_due(now=datetime(2026, 2, 15, 0, 30, tzinfo=LONDON)) == [(trust.pk, february.pk)]
    assert list(REPORT_SEND_HOURS) == list(range(7, 20))


@pytest.mark.parametrize(
    "closes_on, moment, due",
    [
        # Clocks go back at 01:00 UTC on 25 October 2026: 23:30 UTC on the 24th is already the 25th in London.
        (date(2026, 10, 24), datetime(2026, 10, 24, 23, 30, tzinfo=UTC), True),
        (date(2026, 10, 24), datetime(2026, 10, 24, 22, 30, tzinfo=UTC), False),
        # Clocks go forward at 01:00 UTC on 28 March 2027: 00:30 UTC is 00:30 GMT on the 28th.
        (date(2027, 3, 27), datetime(2027, 3, 28, 0, 30, tzinfo=UTC), True),
        (date(2027, 3, 27), datetime(2027, 3, 27, 23, 30, tzinfo=UTC), False),
    ],
)
def test_reports_fall_due_on_the_london_date_across_dst(trust, closes_on, moment, due):
    round_ = round_get_or_create(trust=trust, period=closes_on.replace(day=1))
    round_.closes_on = closes_on
    with scopes_disabled():
        round_.save()
    assert (reports_due(now=moment) == [(trust.pk, round_.pk)]) is due


# --- building --------------------------------------------------------------------------------


def test_build_stores_snapshot_csvs_pdf_and_pending_deliveries(rated, board, unscoped):
    report = report_build(round=rated)
    assert report.period == date(2026, 2, 1) and report.trust_id == rated.trust_id
    data = report.data
    assert json.loads(json.dumps(data)) == data  # JSON all the way down
    assert data["trust"]["code"] == "RAA" and data["period"] == "2026-02"
    assert data["round"] == {"label": "February 2026", "opens_on": "2026-02-01", "closes_on": "2026-02-14"}
    assert data["counts"] == {"divergent": 1, "watch": 0, "aligned": 1, "insufficient": 0}
    first = data["objectives"][0]
    assert first["ref"] == "OBJ-01" and first["status"] == "divergent"
    assert first["gap"] == "1.80" and first["history"] == [["2026-02", "1.80"]]
    assert first["theme"] == {"slug": "devolved-decisions", "label": "Devolved decisions"}
    means = {g["group"]: g["mean"] for g in first["groups"]}
    assert means == {
        "clinical": "3.80",
        "managerial": "2.00",
        "senior_clinical": None,  # two people
        "senior_nonclinical": None,
        "operational_clinical": None,  # would give the two away by subtraction
        "operational_nonclinical": None,  # beside "managerial" it would say no senior manager scored
    }
    assert SMALL_GROUP_MEAN not in json.dumps(data) and HIDDEN_SIBLING_MEAN not in json.dumps(data)
    assert [p["ref"] for p in data["talking_points"]] == ["OBJ-01"]

    # The CSVs are the live downloads' bytes at build time.
    with scopes_disabled():
        analysis = round_analysis(rated)
    assert report.csv == write_csv(report_csv_rows(analysis))
    assert report.pulse_csv == write_csv(pulse_csv_rows(analysis))
    assert report.pdf.name == "reports/RAA-2026-02.pdf"
    with report.pdf.open("rb") as file:
        assert file.read(5) == b"%PDF-"

    deliveries = ReportDelivery.objects.filter(report=report)
    assert {d.email for d in deliveries} == RECIPIENTS
    assert {d.status for d in deliveries} == {OutboxStatus.PENDING}
    assert all(d.trust_id == report.trust_id and d.membership_id for d in deliveries)


def test_the_snapshot_is_exactly_report_snapshot_of_the_analysis(rated, unscoped):
    report = report_build(round=rated)
    with scope(trust=rated.trust):
        analysis = round_analysis(rated)
        expected = report_snapshot(analysis, round_response_counts(rated), talking_points(analysis))
    assert report.data == json.loads(json.dumps(expected))


def test_build_is_idempotent(rated, board, unscoped):
    first = report_build(round=rated)
    deliveries = sorted(ReportDelivery.objects.values_list("pk", "email"))
    second = report_build(round=rated)
    assert second.pk == first.pk and second.built_at == first.built_at and second.data == first.data
    assert DivergenceReport.objects.count() == 1
    assert sorted(ReportDelivery.objects.values_list("pk", "email")) == deliveries


def test_the_snapshot_never_changes_after_new_ratings(rated, board, agreed_objective, unscoped):
    report = report_build(round=rated)
    before = DivergenceReport.objects.get(pk=report.pk)
    with scopes_disabled():
        redesign = rated.trust.objectives.get(ref="OBJ-01")
    rate(rated, redesign, "clinical", "operational", [1, 1, 1, 1, 1, 1, 1])  # imported late
    rate(rated, agreed_objective(ref="OBJ-03", title="New"), "clinical", "operational", [5] * 6)
    again = report_build(round=rated)
    stored = DivergenceReport.objects.get(pk=report.pk)
    assert again.data == before.data == stored.data
    assert stored.csv == before.csv and stored.pulse_csv == before.pulse_csv
    with scopes_disabled():
        assert round_analysis(rated).results[0].gap != report.data["objectives"][0]["gap"]  # live data moved on


def test_two_workers_racing_build_one_report(rated, board, monkeypatch, unscoped):
    winner = report_build(round=rated)
    calls = []
    real = reports._existing

    def not_yet_seen(round_):  # the loser checked before the winner committed
        calls.append(round_.pk)
        return None if len(calls) == 1 else real(round_)

    monkeypatch.setattr(reports, "_existing", not_yet_seen)
    loser = report_build(round=rated)
    assert loser.pk == winner.pk and len(calls) == 2
    assert DivergenceReport.objects.count() == 1
    assert ReportDelivery.objects.count() == len(RECIPIENTS)


def test_an_unexpected_integrity_error_is_not_swallowed(rated, monkeypatch, settings):
    monkeypatch.setattr(reports, "deliveries_create", lambda **kwargs: (_ for _ in ()).throw(IntegrityError("x")))
    with pytest.raises(IntegrityError):
        report_build(round=rated)
    with scopes_disabled():
        assert not DivergenceReport.objects.exists()  # the transaction rolled back
    assert not (settings.MEDIA_ROOT / "reports" / "RAA-2026-02.pdf").exists()  # and its file went too


def test_only_active_members_on_the_list_get_deliveries(rated, board, trust, unscoped):
    MembershipFactory(trust=trust, administrator=True, receives_board_report=True, user__email="sec@ashby.nhs.uk")
    report = report_build(round=rated)
    assert set(ReportDelivery.objects.filter(report=report).values_list("email", flat=True)) == {
        *RECIPIENTS,
        "sec@ashby.nhs.uk",
    }


# --- the email ---------------------------------------------------------------------------------


def test_the_email_text_and_html(rated, board, settings, unscoped):
    report_build(round=rated)
    assert send() == (3, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(RECIPIENTS)
    message = next(m for m in mail.outbox if m.to == ["md@ashby.nhs.uk"])
    html = html_of(message)
    assert message.subject == "Ashby Hospitals NHS Trust board report, February 2026: 1 divergent objective"
    url = f"{settings.SITE_URL}/trusts/RAA/reports/2026-02/"
    for body in (message.body, html):
        assert "OBJ-01" in body and "Clinicians co-lead every service redesign" in body
        assert "+1.80" in body  # the divergent objective's gap
        assert "OBJ-02" in body
        assert "What to talk about" in body or "WHAT TO TALK ABOUT" in body
        assert "Clinicians see more progress than managers" in body
        assert url in body
        assert "2002 survey" in body
        # Nothing from the group of two, nor from its sibling hidden against differencing.
        assert SMALL_GROUP_MEAN not in body and HIDDEN_SIBLING_MEAN not in body
    assert "Dear " in message.body and "\n\n" in message.body
    assert "<" not in message.body.replace("q < 0.050", "")  # plain text, not markup
    # Outlook-safe: no SVG, no CSS classes, bars are table cells with a width.
    assert "<svg" not in html and "class=" not in html
    assert re.search(r'<td width="\d+%" height="12" bgcolor="#(a00054|005eb8)"', html)


def test_the_html_has_the_inline_png_chart(rated, board, unscoped):
    report_build(round=rated)
    send()
    message = mail.outbox[0]
    assert isinstance(message, RelatedImagesEmail)
    found = parts(message)
    raw = message.message()
    assert raw.get_content_type() == "multipart/mixed"
    [related] = found["multipart/related"]
    [image] = found["image/png"]
    assert image in related.get_payload()  # the image sits beside the HTML, not among the attachments
    cid = image["Content-ID"].strip("<>")
    png = image.get_payload(decode=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    html = html_of(message)
    tag = re.search(rf'<img src="cid:{re.escape(cid)}"[^>]*>', html).group(0)
    alt = re.search(r'alt="([^"]*)"', tag).group(1)
    assert "OBJ-01" in alt and "+1.80" in alt and "OBJ-02" in alt  # a full text alternative


def test_the_attachments(rated, board, unscoped):
    report = report_build(round=rated)
    send()
    found = parts(mail.outbox[0])
    [pdf] = found["application/pdf"]
    [table] = found["text/csv"]
    assert pdf.get_filename() == "RAA-2026-02.pdf" and table.get_filename() == "RAA-2026-02.csv"
    assert pdf.get_content_disposition() == "attachment" and table.get_content_disposition() == "attachment"

    content = pdf.get_payload(decode=True)
    assert content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "OBJ-01" in text and "OBJ-02" in text and "What to talk about" in text
    assert "Ashby Hospitals NHS Trust" in text and "February 2026" in text
    assert SMALL_GROUP_MEAN not in text and HIDDEN_SIBLING_MEAN not in text

    body = table.get_payload(decode=True)
    assert body == report.csv.encode("utf-8")  # byte for byte, CRLF included
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows[0] == list(REPORT_HEADER)
    assert rows[0] == (
        "objective_ref,objective_title,theme,period,n_clinical,mean_clinical,n_managerial,"
        "mean_managerial,gap,p_value,q_value,effect_size,status"
    ).split(",")
    assert [row[0] for row in rows[1:]] == ["OBJ-01", "OBJ-02"]


def test_the_email_is_rendered_from_the_snapshot_not_live_data(rated, board, unscoped):
    report_build(round=rated)
    with scopes_disabled():
        redesign = rated.trust.objectives.get(ref="OBJ-01")
        redesign.title = "Renamed later"
        redesign.save()
    rate(rated, redesign, "managerial", "operational", [5] * 20)
    send()
    message = mail.outbox[0]
    assert "Clinicians co-lead every service redesign" in message.body and "Renamed later" not in message.body
    assert "+1.80" in html_of(message)


def test_a_report_without_objectives_still_makes_a_readable_email(february_round, board, unscoped):
    report_build(round=february_round)
    assert send() == (3, 0)
    message = mail.outbox[0]
    assert "No objectives were rated in this round." in message.body
    assert "image/png" not in parts(message)  # no chart to show
    assert "cid:" not in html_of(message)


# --- delivery ------------------------------------------------------------------------------------


def test_sending_twice_sends_nothing_more(rated, board, unscoped):
    report = report_build(round=rated)
    assert send() == (3, 0)
    assert send() == (0, 0)
    report_build(round=rated)
    assert send() == (0, 0)
    assert len(mail.outbox) == 3
    assert set(ReportDelivery.objects.filter(report=report).values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_a_failing_recipient_is_retried_later_without_duplicating_the_others(rated, board, monkeypatch, unscoped):
    def flaky_send(message, fail_silently=False):
        if message.to == ["ceo@ashby.nhs.uk"]:
            raise OSError("Connection refused by the relay")
        return EmailMessage.send(message, fail_silently)

    report_build(round=rated)
    monkeypatch.setattr(RelatedImagesEmail, "send", flaky_send)
    sent_at = datetime(2026, 3, 10, 12, 5, tzinfo=LONDON)
    assert send(sent_at) == (2, 1)
    row = ReportDelivery.objects.get(email="ceo@ashby.nhs.uk")
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.last_error == "OSError: Connection refused by the relay"
    assert row.next_attempt_at == sent_at + backoff(1)
    assert send(sent_at + timedelta(minutes=1)) == (0, 0)  # waiting for the backoff

    monkeypatch.undo()
    assert send(sent_at + backoff(1)) == (1, 0)
    assert send(sent_at + backoff(2)) == (0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(RECIPIENTS)  # each exactly once
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.attempts == 2


def test_someone_who_left_before_the_send_is_cancelled(rated, board, unscoped):
    report_build(round=rated)
    Membership.objects.filter(pk=board["chair"].pk).update(is_active=False)
    assert send() == (2, 0)
    assert ReportDelivery.objects.get(email="chair@ashby.nhs.uk").status == OutboxStatus.CANCELLED
    assert "chair@ashby.nhs.uk" not in [m.to[0] for m in mail.outbox]


def test_a_deleted_report_cancels_its_message(rated, board, unscoped):
    report = report_build(round=rated)
    delivery = ReportDelivery.objects.filter(report=report).first()
    delivery.report_id = report.pk + 1000  # as if the report had gone
    assert report_message(delivery) is None


def test_deliveries_create_adds_only_recipients_not_yet_delivered(rated, board, trust, unscoped):
    report = report_build(round=rated)
    send()
    assert deliveries_create(report=report) == 0
    MembershipFactory(trust=trust, chief_executive=True, receives_board_report=True, user__email="new@ashby.nhs.uk")
    assert deliveries_create(report=report) == 1
    assert deliveries_create(report=report) == 0
    assert send() == (1, 0)
    assert [m.to[0] for m in mail.outbox].count("new@ashby.nhs.uk") == 1
    assert len(mail.outbox) == 4


def test_deliveries_create_requeues_a_failed_delivery(rated, board, unscoped):
    report = report_build(round=rated)
    ReportDelivery.objects.filter(email="md@ashby.nhs.uk").update(status=OutboxStatus.FAILED, attempts=5)
    assert deliveries_create(report=report) == 1
    row = ReportDelivery.objects.get(email="md@ashby.nhs.uk")
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_report_shows_its_divergent_pair(unscoped):
    call_command("seed_demo", allow_production=True, stdout=io.StringIO(), stderr=io.StringIO())
    trust = Trust.objects.get(code="RNG")
    report = report_build(round=latest_closed_round(trust))
    divergent = [o["ref"] for o in report.data["objectives"] if o["status"] == "divergent"]
    assert sorted(divergent) == ["OBJ-01", "OBJ-02"]
    recipients = set(
        Membership.objects.filter(trust=trust, is_active=True, receives_board_report=True).values_list(
            "user__email", flat=True
        )
    )
    assert set(ReportDelivery.objects.filter(report=report).values_list("email", flat=True)) == recipients
    assert send() == (len(recipients), 0)
    message = mail.outbox[0]
    for ref in divergent:
        gap = next(o for o in report.data["objectives"] if o["ref"] == ref)["gap"]
        shown = charts.signed(gap)
        assert ref in message.body and shown in message.body and shown in html_of(message)
    email.message_from_bytes(message.message().as_bytes())  # a well-formed message


# --- the gap bar chart -------------------------------------------------------------------------


def bars_of(root):
    """The bars (not the legend's swatches) of a gap_bars chart."""
    return [
        rect
        for rect in root.iter(f"{SVG}rect")
        if rect.get("fill") in ("#a00054", "#005eb8") and float(rect.get("height")) > 10
    ]


def test_gap_bars_is_a_labelled_diverging_bar_chart():
    svg = charts.gap_bars(
        [("OBJ-01 <b>Redesign</b> & co", "-1.50"), ("OBJ-02 Forum", 0.25), ("OBJ-03 Too few", None)],
        title="Gaps, February 2026",
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title").text
    assert title == root.get("aria-label")
    assert title == (
        "Gaps, February 2026. Clinical minus managerial mean, by objective: "
        "OBJ-01 <b>Redesign</b> & co: −1.50; OBJ-02 Forum: +0.25; OBJ-03 Too few: not shown."
    )
    assert "<b>" not in svg and "&lt;b&gt;" in svg  # user text is escaped
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "−1.50" in texts and "+0.25" in texts and "not shown" in texts
    assert "−4" in texts and "+4" in texts and "0" in texts
    negative, positive = bars_of(root)
    zero = float(next(line.get("x1") for line in root.iter(f"{SVG}line") if line.get("stroke") == "#768692"))
    assert float(negative.get("x")) + float(negative.get("width")) == pytest.approx(zero)  # left of zero
    assert float(positive.get("x")) == pytest.approx(zero)  # right of zero
    assert float(negative.get("width")) == pytest.approx(6 * float(positive.get("width")), abs=0.02)
    assert "gap_bars" in charts.__all__


def test_gap_bars_without_rows_says_so():
    svg = charts.gap_bars([], title="")
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text.endswith("No data.")
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No data"]


def test_gap_bars_clamps_to_the_axis():
    root = ET.fromstring(charts.gap_bars([("Huge", 9)]))
    [bar] = bars_of(root)
    zero = float(next(line.get("x1") for line in root.iter(f"{SVG}line") if line.get("stroke") == "#768692"))
    lines = [float(line.get("x1")) for line in root.iter(f"{SVG}line")]
    assert float(bar.get("x")) == pytest.approx(zero)
    assert float(bar.get("x")) + float(bar.get("width")) == pytest.approx(max(lines))  # the +4 gridline


def test_builds_under_a_frozen_clock_keep_built_at(rated, unscoped):
    moment = datetime(2026, 3, 15, 6, 0, tzinfo=LONDON)
    with time_machine.travel(moment, tick=False):
        report = report_build(round=rated)
    assert report.built_at == moment
