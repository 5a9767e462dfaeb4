"""Round pages: the list with response counts and the create form, the dates form, and the
response-rate breakdown. Thin: forms in, services (services/rounds.py) and selectors out."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from partnership.permissions import membership_can
from partnership.scoping import TrustScopedMixin

from .analysis import round_responses
from .models import RatingRound
from .rounds_forms import RoundCreateForm, RoundScheduleForm
from .selectors import rounds_with_counts
from .services.frozen import frozen_reason, report_of_round
from .services.rounds import period_parse, round_get_or_create, round_schedule

OTHER_ROUNDS_SHOWN = 12


def _dates(round):
    return f"{round.opens_on.day} {round.opens_on:%b} to {round.closes_on.day} {round.closes_on:%b %Y}"


class RoundMixin(TrustScopedMixin):
    """Loads the trust's round named by <period> (YYYY-MM); 404 for a malformed or unknown one."""

    @cached_property
    def round(self):
        try:
            period = period_parse(self.kwargs["period"])
        except ValueError:
            raise Http404("No such round.") from None
        return get_object_or_404(RatingRound.objects.select_related("trust"), trust=self.trust, period=period)


class RoundListView(TrustScopedMixin, FormView):
    """GET: every round, newest first, with how many of the raters answered. POST: create one."""

    template_name = "surveys/round_list.html"
    form_class = RoundCreateForm
    required_action = "rounds.manage"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "trust": self.trust}

    def get_context_data(self, **kwargs):
        rounds, raters = rounds_with_counts(self.trust)
        return super().get_context_data(rounds=rounds, raters=raters, **kwargs)

    def form_valid(self, form):
        round = round_get_or_create(trust=self.trust, period=form.cleaned_data["period"])
        messages.success(
            self.request, f"The {round.label} round is set up: open {_dates(round)}. Change its dates if needed."
        )
        return redirect("round_list", trust_code=self.trust.code)


class RoundEditView(RoundMixin, FormView):
    """Change a round's dates: extend it, re-open a closed one, or move a scheduled one."""

    template_name = "surveys/round_form.html"
    form_class = RoundScheduleForm
    required_action = "rounds.manage"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "round": self.round}

    def get_context_data(self, **kwargs):
        report = report_of_round(self.round)
        return super().get_context_data(
            round=self.round, frozen_reason=frozen_reason(report) if report else "", **kwargs
        )

    def form_valid(self, form):
        try:
            round = round_schedule(
                round=self.round, opens_on=form.cleaned_data["opens_on"], closes_on=form.cleaned_data["closes_on"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The {round.label} round is now {round.status}: open {_dates(round)}.")
        return redirect("round_list", trust_code=self.trust.code)


class RoundResponsesView(RoundMixin, TemplateView):
    """How many people answered in one round, by group: counts only, small groups suppressed."""

    template_name = "surveys/round_responses.html"
    required_action = "rounds.responses"

    def get_context_data(self, **kwargs):
        other_rounds = RatingRound.objects.filter(trust=self.trust).exclude(pk=self.round.pk)[:OTHER_ROUNDS_SHOWN]
        report = report_of_round(self.round)
        counts = round_responses(self.round, report=report)  # a reported round's: its snapshot's
        sections = [
            {
                "id": "by-group",
                "heading": "By professional group",
                "first": "Group",
                "rows": counts["professional_groups"],
            },
            {"id": "by-davies", "heading": "By Davies group", "first": "Group", "rows": counts["davies_groups"]},
            {
                "id": "by-directorate",
                "heading": "By directorate",
                "first": "Directorate",
                "rows": counts["directorates"],
            },
        ]
        return super().get_context_data(
            round=self.round,
            counts=counts,
            sections=sections,
            other_rounds=other_rounds,
            can_manage=membership_can(self.membership, "rounds.manage"),
            report=report,
            **kwargs,
        )
