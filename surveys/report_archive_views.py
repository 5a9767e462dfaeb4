"""The board report archive: every report the trust's board was sent, exactly as sent.

Any member of the trust may read them (board members who do not rate included). Pages are
rendered from each report's frozen snapshot (surveys.report_snapshot), never from live
ratings, and the PDF is the stored file."""

from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.views import View
from django.views.generic import TemplateView

from partnership.permissions import membership_can
from partnership.scoping import TrustScopedMixin

from . import charts
from .models import DivergenceReport, OutboxStatus
from .report_snapshot import snapshot_context
from .services.reports import report_filename
from .services.rounds import period_parse


def report_or_404(trust, period_text):
    try:
        period = period_parse(period_text)
    except ValueError as exc:
        raise Http404("No such report.") from exc
    report = DivergenceReport.objects.filter(trust_id=trust.pk, period=period).defer("csv", "pulse_csv").first()
    if report is None:
        raise Http404("No report for that month.")
    return report


class ReportListView(TrustScopedMixin, TemplateView):
    template_name = "surveys/report_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reports = DivergenceReport.objects.filter(trust_id=self.trust.pk).only(
            "pk", "trust_id", "period", "built_at", "pdf"
        )
        # Delivery counts are for administrators, who act on a failed send; members see the reports.
        context["show_deliveries"] = membership_can(self.membership, "reports.deliveries")
        if context["show_deliveries"]:
            reports = reports.annotate(
                sent=Count("deliveries", filter=Q(deliveries__status=OutboxStatus.SENT)),
                pending=Count(
                    "deliveries", filter=Q(deliveries__status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING])
                ),
                failed=Count("deliveries", filter=Q(deliveries__status=OutboxStatus.FAILED)),
            )
        context["reports"] = list(reports.order_by("-period"))
        return context


class ReportDetailView(TrustScopedMixin, TemplateView):
    template_name = "surveys/report_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = report_or_404(self.trust, kwargs["period"])
        snapshot = snapshot_context(report.data)
        gap_chart = charts.as_html(charts.gap_bars(snapshot["chart_rows"], title=snapshot["chart_title"]))
        del snapshot["trust"]  # the page chrome needs the live trust; the body reads report_trust
        context.update(snapshot)
        context.update(
            report_object=report,
            medium="page",
            gap_chart=gap_chart if snapshot["chart_rows"] else "",
        )
        return context


class ReportPdfView(TrustScopedMixin, View):
    def get(self, request, *args, **kwargs):
        report = report_or_404(self.trust, kwargs["period"])
        if not report.pdf:
            raise Http404("This report has no PDF.")
        try:
            file = report.pdf.open("rb")
        except FileNotFoundError as exc:
            raise Http404("This report's PDF is missing.") from exc
        response = FileResponse(
            file,
            as_attachment=True,
            filename=report_filename(report.data, "pdf"),
            content_type="application/pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response
