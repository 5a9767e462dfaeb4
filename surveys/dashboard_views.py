"""The divergence dashboard: for a closed round, where doctors and managers see the same
objective differently, whether the gap is real and growing, and which Davies group drives it."""

import re

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from partnership.models import Directorate
from partnership.scoping import TrustScopedMixin

from . import divergence
from .analysis import latest_closed_round, round_analysis, round_responses
from .models import RatingRound
from .presentation import GROUP_LABELS, dashboard_rows, pulse_context
from .services.rounds import period_parse
from .talk import talking_points


def closed_round_or_404(trust, period_text):
    """The trust's round for YYYY-MM if it has closed; 404 for a bad, unknown, open or future one."""
    try:
        period = period_parse(period_text)
    except ValueError as exc:
        raise Http404("No such round.") from exc
    round_ = RatingRound.objects.filter(trust_id=trust.pk, period=period).closed_on(timezone.localdate()).first()
    if round_ is None:
        raise Http404("No closed round for that month.")
    return round_


class DashboardView(TrustScopedMixin, TemplateView):
    template_name = "surveys/dashboard.html"

    def get(self, request, *args, **kwargs):
        # The round/directorate picker submits ?round=YYYY-MM&directorate=ID: go to its canonical URL.
        chosen = request.GET.get("round", "")
        if chosen and "period" not in kwargs:
            try:
                chosen = period_parse(chosen).strftime("%Y-%m")
            except ValueError as exc:
                raise Http404("No such round.") from exc
            directorate = request.GET.get("directorate", "")
            if re.fullmatch(r"[0-9]{1,9}", directorate):
                return redirect("dashboard_directorate", self.trust.code, chosen, int(directorate))
            return redirect("dashboard_period", self.trust.code, chosen)
        return super().get(request, *args, **kwargs)

    @cached_property
    def round(self):
        if "period" in self.kwargs:
            return closed_round_or_404(self.trust, self.kwargs["period"])
        return latest_closed_round(self.trust)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        directorate = None
        if "directorate_id" in self.kwargs:
            directorate = get_object_or_404(Directorate, pk=self.kwargs["directorate_id"])
        whole = round_analysis(self.round) if self.round else None
        analysis = whole.for_directorate(directorate.pk) if whole and directorate else whole
        context.update(
            analysis=analysis,
            rows=dashboard_rows(analysis) if analysis else [],
            talking_points=talking_points(analysis) if analysis else [],
            group_labels=[GROUP_LABELS[g] for g in divergence.GROUPS],
            pulse=pulse_context(analysis.pulse) if analysis else None,
            responses=round_responses(self.round, whole) if self.round else None,
            directorate=directorate,
            directorates=list(Directorate.objects.order_by("name")),
            closed_rounds=list(
                RatingRound.objects.closed_on(timezone.localdate())
                .order_by("-period")
                .values_list("period", flat=True)[:24]
            ),
        )
        return context
