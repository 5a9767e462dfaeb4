"""The report and pulse CSV downloads of a closed round (DESIGN.md §6), for any member of the
trust. The rows come from surveys.exports, the same functions the emailed report attaches.

The response streams (issue #7): the body is sent a row at a time as it is encoded, never built
whole. The rows themselves are computed before the response is returned, inside the view's trust
scope and request transaction (the generator runs after both have ended, so it must not query);
the bytes are exactly those of exports.write_csv(rows) encoded as UTF-8. Once the round is
reported, the download is the CSV stored with the report: the bytes the board was sent.
"""

from django.http import StreamingHttpResponse
from django.views import View

from partnership.scoping import TrustScopedMixin

from .analysis import round_analysis
from .dashboard_views import closed_round_or_404
from .exports import pulse_csv_rows, report_csv_rows, write_csv
from .models import DivergenceReport


def csv_lines(rows):
    """The UTF-8 bytes of write_csv(rows), one row at a time."""
    for row in rows:
        yield write_csv([row]).encode("utf-8")


class RoundCsvView(TrustScopedMixin, View):
    """A CSV of one closed round: 404 for a bad, unknown, open or future period."""

    rows = None  # function: RoundAnalysis -> rows
    stored = ""  # the DivergenceReport field holding this CSV as the board was sent it
    suffix = ""

    def get(self, request, *args, **kwargs):
        round_ = closed_round_or_404(self.trust, kwargs["period"])
        round_.trust = self.trust  # already loaded: spare round_analysis a query
        report = DivergenceReport.objects.filter(round_id=round_.pk).only(self.stored).first()
        if report is not None:  # frozen: exactly the bytes the board was sent
            body = iter([getattr(report, self.stored).encode("utf-8")])
        else:
            body = csv_lines(self.rows(round_analysis(round_)))
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
        # Trust codes are [A-Z0-9]{3,5} and the slug is YYYY-MM: nothing to escape.
        filename = f"{self.trust.code}-{round_.slug}{self.suffix}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response


class ReportCsvView(RoundCsvView):
    rows = staticmethod(report_csv_rows)
    stored = "csv"


class PulseCsvView(RoundCsvView):
    rows = staticmethod(pulse_csv_rows)
    stored = "pulse_csv"
    suffix = "-pulse"
