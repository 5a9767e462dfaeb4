"""manage.py build_reports --period YYYY-MM [--trust CODE] [--send]

Builds (idempotently) the board reports of one month for every trust whose round of that month
has closed, or for one trust; with --send, adds deliveries for recipients who have none yet and
sends every pending one now, whatever the hour (a person ran it by hand). Every input is checked
before anything is written.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scopes_disabled

from partnership.models import Trust
from surveys.models import DivergenceReport, OutboxStatus, RatingRound, ReportDelivery
from surveys.services.reports import deliveries_create, deliveries_send, report_build
from surveys.services.rounds import period_parse


class Command(BaseCommand):
    help = "Build the divergence (board) reports of a month; with --send, email them to the board now."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="the month of the rating round, YYYY-MM")
        parser.add_argument("--trust", help="one trust's ODS code (default: every trust with a closed round)")
        parser.add_argument("--send", action="store_true", help="email the reports now to recipients not yet sent")

    def handle(self, *args, period, trust=None, send=False, **options):
        rounds = self.rounds_to_build(period, trust)
        now = timezone.now()
        built = existing = sent = failed = queued = 0
        for round_ in rounds:
            code = round_.trust.code
            with scopes_disabled():
                already = DivergenceReport.objects.filter(round_id=round_.pk).exists()
            report = report_build(round=round_, now=now)
            objectives = len(report.data["objectives"])
            line = (
                f"{code} {report.slug}: {'already built' if already else 'built'} "
                f"({objectives} objective{'' if objectives == 1 else 's'}, "
                f"{report.data['counts'].get('divergent', 0)} divergent)"
            )
            built, existing = built + (not already), existing + already
            if send:
                added = deliveries_create(report=report, now=now)
                with scopes_disabled():  # a hand run sends now, not after any backoff
                    ReportDelivery.objects.filter(report=report, status=OutboxStatus.PENDING).update(
                        next_attempt_at=now
                    )
                report_sent, report_failed = deliveries_send(report=report, now=now)
                queued, sent, failed = queued + added, sent + report_sent, failed + report_failed
                line += f"; {report_sent} email(s) sent" + (f", {report_failed} failed" if report_failed else "")
            self.stdout.write(line)
        summary = f"Reports for {rounds[0].slug}: {built} built, {existing} already built"
        if send:
            summary += f"; {sent} email(s) sent, {failed} failed"
        self.stdout.write(summary + ".")
        if failed:
            self.stderr.write(f"{failed} email(s) failed; they are retried by the scheduled sender.")

    def rounds_to_build(self, period_text, trust_code):
        """The closed rounds to build, or CommandError (nothing is written before this passes)."""
        try:
            period = period_parse(period_text)
        except ValueError as exc:
            raise CommandError(f"{exc}.") from exc
        today = timezone.localdate()
        with scopes_disabled():
            if trust_code:
                trust = Trust.objects.filter(code=trust_code.strip().upper()).first()
                if trust is None:
                    raise CommandError(f"No trust with code {trust_code!r}.")
                round_ = RatingRound.objects.select_related("trust").filter(trust=trust, period=period).first()
                if round_ is None:
                    raise CommandError(f"{trust.code} has no rating round for {period:%Y-%m}.")
                if round_.closes_on >= today:
                    raise CommandError(
                        f"{trust.code}'s {round_.label} round has not closed yet "
                        f"(it closes on {round_.closes_on:%d %B %Y}); reports are built after it closes."
                    )
                return [round_]
            rounds = list(RatingRound.objects.select_related("trust").filter(period=period).order_by("trust__code"))
        closed = [r for r in rounds if r.closes_on < today]
        if not closed:
            if rounds:
                raise CommandError(
                    f"No trust's {period:%B %Y} round has closed yet; reports are built after it closes."
                )
            raise CommandError(f"No trust has a rating round for {period:%Y-%m}.")
        return closed
