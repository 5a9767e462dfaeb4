"""Published numbers never change: once a round's board report is built, the round is frozen.

The report's snapshot is what the board was sent; every later view of that round serves it
(surveys.analysis reads it back), so nothing may be added to or changed in a reported round:
it cannot be re-opened or extended, nobody can rate in it, and imports refuse its rows with a
per-line error naming the report. These are the checks every write path calls.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scopes_disabled

from ..models import DivergenceReport


def _built_on(report):
    return timezone.localtime(report.built_at).strftime("%-d %B %Y")


def frozen_reason(report):
    """Why a reported round cannot change, in one sentence naming the report."""
    return (
        f"the {report.period:%B %Y} board report was built on {_built_on(report)}, so that round's "
        "published results are frozen"
    )


def reports_of_periods(trust, periods):
    """{period: DivergenceReport} of the trust's reported rounds among `periods` (one query)."""
    with scopes_disabled():
        reports = DivergenceReport.objects.filter(trust_id=trust.pk, period__in=list(periods)).only(
            "pk", "period", "built_at", "trust_id", "round_id"
        )
        return {report.period: report for report in reports}


def report_of_round(round_):
    with scopes_disabled():
        return DivergenceReport.objects.filter(round_id=round_.pk).only("pk", "period", "built_at").first()


def round_ensure_not_reported(round_, doing="changed"):
    """ValidationError when the round's report has been built."""
    report = report_of_round(round_)
    if report is not None:
        reason = frozen_reason(report)
        raise ValidationError(f"{reason[0].upper()}{reason[1:]}: it cannot be {doing}.", code="round_reported")


def reported_period_message(report):
    return f"period {report.period:%Y-%m}: {frozen_reason(report)}; ratings and answers for it cannot be imported"
