"""The monthly board report (issue #6): build it once per closed round, freeze it, email it.

- `reports_due` lists, for every trust, its latest closed round that has no report yet.
- `report_build` builds a round's report exactly once: the analysis is frozen as a JSON
  snapshot (surveys.report_snapshot) with the report and pulse CSV texts and the PDF rendered
  from that snapshot, and a pending ReportDelivery row is written for each board-report
  recipient, all in one transaction. A report is never rebuilt: a second call (or a second
  worker racing the first) returns the existing row unchanged.
- `report_message` is the outbox's message builder (surveys.outbox.outbox_deliver): the
  board email for one claimed delivery, from the snapshot only. Its HTML is an Outlook-safe
  table of numbers with CSS-width bar cells that reads fine with images off, plus the gap
  chart as an inline PNG (multipart/related, Content-ID) with a full text alternative; the
  PDF and the report CSV are attached.
- `deliveries_create` adds deliveries for current recipients not yet delivered (the
  `build_reports --send` command); `deliveries_send` sends the due ones now.

Scheduled sending happens within REPORT_SEND_HOURS (London local time); the tasks that
decide that live in surveys/tasks.py.
"""

import logging
import re
from email import encoders
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from html import unescape

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from partnership.emails import absolute_url, email_build
from partnership.models import Membership, Trust

from .. import charts
from ..analysis import round_analysis, round_responses
from ..exports import pulse_csv_rows, report_csv_rows, write_csv
from ..models import DivergenceReport, OutboxStatus, RatingRound, ReportDelivery
from ..outbox import BATCH_SIZE, outbox_claim, outbox_deliver
from ..report_snapshot import report_snapshot, snapshot_context
from ..talk import talking_points

logger = logging.getLogger(__name__)

REPORT_SEND_HOURS = range(7, 20)  # London local: board emails go out between 07:00 and 19:59
CHART_WIDTH = 560


def report_filename(data, extension):
    """The attachment name, e.g. RAA-2026-02.pdf (trust codes are [A-Z0-9]{3,5}, periods
    YYYY-MM: nothing to escape)."""
    return f"{data['trust']['code']}-{data['period']}.{extension}"


# --- What is due -----------------------------------------------------------------------------


def reports_due(*, now=None):
    """[(trust id, round id)]: each trust's latest round that closed before today (London
    date of `now`) and has no report yet. One query, whatever the number of trusts."""
    today = timezone.localdate(now or timezone.now())
    with scopes_disabled():
        latest = (
            RatingRound.objects.filter(trust_id=OuterRef("trust_id"))
            .closed_on(today)
            .order_by("-period")
            .values("pk")[:1]
        )
        return list(
            RatingRound.objects.closed_on(today)
            .filter(pk=Subquery(latest), report__isnull=True)
            .order_by("trust_id")
            .values_list("trust_id", "pk")
        )


# --- Building --------------------------------------------------------------------------------


def report_pdf(data):
    """The board pack PDF (bytes) rendered from a snapshot with WeasyPrint."""
    from weasyprint import HTML  # heavy import: only where a PDF is made

    context = snapshot_context(data)
    context["gap_chart"] = charts.as_html(
        charts.gap_bars(context["chart_rows"], width=640, title=context["chart_title"])
    )
    html = render_to_string("surveys/report_pdf.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def _existing(round_):
    with scopes_disabled():
        return DivergenceReport.objects.select_related("trust").filter(round_id=round_.pk).first()


def report_build(*, round, now=None):
    """The round's report, built if missing (never rebuilt). Safe to call concurrently: the
    loser of a race on the unique (trust, period) returns the winner's report."""
    report = _existing(round)
    if report is not None:
        return report
    now = now or timezone.now()
    trust = Trust.objects.get(pk=round.trust_id)
    round.trust = trust
    saved = None
    try:
        with scope(trust=trust), transaction.atomic():
            analysis = round_analysis(round)
            data = report_snapshot(analysis, round_responses(round, analysis), talking_points(analysis))
            report = DivergenceReport.objects.create(
                trust=trust,
                round=round,
                period=round.period,
                built_at=now,
                data=data,
                csv=write_csv(report_csv_rows(analysis)),
                pulse_csv=write_csv(pulse_csv_rows(analysis)),
            )
            # The row exists first, so a losing racer never writes a file.
            report.pdf.save(report_filename(data, "pdf"), ContentFile(report_pdf(data)), save=True)
            saved = report.pdf.name
            deliveries_create(report=report, now=now)
    except Exception as exc:
        if saved:  # rolled back after the file was written: leave no orphan behind
            report.pdf.storage.delete(saved)
        existing = _existing(round) if isinstance(exc, IntegrityError) else None
        if existing is None:
            raise
        logger.info("Report for round %s was built by another worker", round.pk)
        return existing
    logger.info("Built report %s (%d objectives)", report, len(data["objectives"]))
    return report


def _recipients(trust_id):
    with scopes_disabled():
        return list(
            Membership.objects.filter(trust_id=trust_id, is_active=True, receives_board_report=True)
            .select_related("user")
            .order_by("pk")
        )


def deliveries_create(*, report, now=None):
    """Pending deliveries for the report's current recipients (active members with
    receives_board_report) who do not have one yet; a failed or cancelled delivery of a
    current recipient is queued again. Never touches sent ones. Returns how many are new or
    re-queued."""
    now = now or timezone.now()
    recipients = {m.user.email.lower(): m for m in _recipients(report.trust_id)}
    with scopes_disabled(), transaction.atomic():
        existing = dict(ReportDelivery.objects.filter(report=report).values_list("email", "status"))
        new = [
            ReportDelivery(trust_id=report.trust_id, report=report, membership=m, email=email, next_attempt_at=now)
            for email, m in recipients.items()
            if email not in existing
        ]
        created = ReportDelivery.objects.bulk_create(new, ignore_conflicts=True)
        requeued = ReportDelivery.objects.filter(
            report=report,
            email__in=[e for e, status in existing.items() if e in recipients],
            status__in=[OutboxStatus.FAILED, OutboxStatus.CANCELLED],
        ).update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, last_error="", claim_token="")
    return len(created) + requeued


# --- Sending ---------------------------------------------------------------------------------


class RelatedImagesEmail(EmailMultiAlternatives):
    """An email whose HTML alternative carries inline images:

        multipart/mixed
          multipart/alternative
            text/plain
            multipart/related
              text/html            (<img src="cid:...">)
              image/png            (Content-ID)
          attachments...

    Clients then show the image inside the HTML and the PDF and CSV as attachments (putting
    attachments inside multipart/related would hide them in some clients)."""

    def __init__(self, *args, related=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.related = list(related)

    def _create_alternatives(self, msg):
        encoding = self.encoding or settings.DEFAULT_CHARSET
        if not self.alternatives:
            return msg
        body_msg = msg
        msg = SafeMIMEMultipart(_subtype=self.alternative_subtype, encoding=encoding)
        if self.body:
            msg.attach(body_msg)
        for content, mimetype in self.alternatives:
            part = self._create_mime_attachment(content, mimetype)
            if mimetype == "text/html" and self.related:
                related = SafeMIMEMultipart(_subtype="related", encoding=encoding)
                related.attach(part)
                for image in self.related:
                    related.attach(image)
                part = related
            msg.attach(part)
        return msg


def _attachment(content, maintype, subtype, filename):
    """A base64 attachment: the bytes arrive exactly as stored (CSV line endings included)."""
    part = MIMEBase(maintype, subtype)
    part.set_payload(content)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _pdf_bytes(report):
    try:
        with report.pdf.open("rb") as file:
            return file.read()
    except (FileNotFoundError, ValueError):  # lost file (or none): the snapshot gives the same pack
        logger.warning("PDF of report %s missing; rendering it again from the snapshot", report.pk)
        return report_pdf(report.data)


def _svg_title(svg):
    match = re.search(r"<title>(.*?)</title>", svg, flags=re.S)
    return unescape(match.group(1)) if match else ""


def report_message(delivery):
    """The board email for a claimed ReportDelivery, or None (the row is then cancelled) when
    its report no longer exists or the person no longer receives the board report."""
    with scopes_disabled():
        report = DivergenceReport.objects.select_related("trust").filter(pk=delivery.report_id).first()
        membership = (
            Membership.objects.select_related("user").filter(pk=delivery.membership_id).first()
            if delivery.membership_id
            else None
        )
    if report is None:
        return None
    if membership is None or not membership.is_active or not membership.receives_board_report:
        return None
    data = report.data
    context = snapshot_context(data)
    svg = charts.gap_bars(context["chart_rows"], width=CHART_WIDTH, title=context["chart_title"])
    chart_cid = f"gap-chart-{data['trust']['code']}-{data['period']}@common-ground"
    context.update(
        person=membership.user,
        medium="email",
        report_url=absolute_url(reverse("report_detail", args=[data["trust"]["code"], data["period"]])),
        chart_cid=chart_cid if context["chart_rows"] else "",
        chart_alt=_svg_title(svg),
        chart_width=CHART_WIDTH,
        pdf_name=report_filename(data, "pdf"),
        csv_name=report_filename(data, "csv"),
    )
    built = email_build(template="board_report", to=delivery.email, context=context)
    related = []
    if context["chart_cid"]:
        import cairosvg  # heavy import: only where a chart is rasterised

        image = MIMEImage(cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=2), "png")
        image.add_header("Content-ID", f"<{chart_cid}>")
        image.add_header("Content-Disposition", "inline", filename="gap-chart.png")
        related.append(image)
    message = RelatedImagesEmail(
        subject=built.subject,
        body=built.body,
        to=built.to,
        headers=built.extra_headers,
        alternatives=built.alternatives,
        related=related,
    )
    message.attach(_attachment(_pdf_bytes(report), "application", "pdf", context["pdf_name"]))
    message.attach(_attachment(report.csv.encode("utf-8"), "text", "csv", context["csv_name"]))
    return message


def deliveries_send(*, report=None, now=None, batch_size=BATCH_SIZE):
    """Send the due deliveries now (of one report, or of all), batch by batch, through the
    outbox; returns (sent, failed). A failed row waits for its backoff, so the loop ends."""
    now = now or timezone.now()
    filters = {"report_id": report.pk} if report is not None else {}
    sent = failed = 0
    while True:
        rows = outbox_claim(ReportDelivery, limit=batch_size, now=now, filters=filters)
        if not rows:
            return sent, failed
        batch_sent, batch_failed = outbox_deliver(ReportDelivery, rows, report_message, now=now)
        sent, failed = sent + batch_sent, failed + batch_failed
