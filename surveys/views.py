"""The monthly rating page: one form for every objective the person rates, plus the pulse."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import FormView

from objectives.models import Objective
from partnership.scoping import TrustScopedMixin

from .forms import RatingForm
from .models import SCORE_WORDS, CommentDecision, CommentReview, PulseResponse, Rating, RatingRound
from .services.comment_review import review_warnings
from .services.ratings import is_rater, objectives_rateable, ratings_save
from .services.rounds import period_parse


def previous_period(period):
    return (
        period.replace(year=period.year - 1, month=12) if period.month == 1 else period.replace(month=period.month - 1)
    )


class RateView(TrustScopedMixin, FormView):
    """GET shows the form (or, after the close date, what the person said); POST saves."""

    template_name = "surveys/rate.html"
    form_class = RatingForm

    @cached_property
    def round(self):
        today = timezone.localdate()
        if "period" in self.kwargs:
            try:
                period = period_parse(self.kwargs["period"])
            except ValueError as exc:
                raise Http404("No such round.") from exc
            round_ = RatingRound.objects.filter(period=period).first()
            if round_ is None:
                raise Http404("No such round.")
            return round_
        return RatingRound.objects.open_on(today).first() or RatingRound.objects.filter(opens_on__lte=today).first()

    @cached_property
    def objectives(self):
        if self.round is None or not is_rater(self.membership):
            return []
        if self.round.is_open:
            return list(objectives_rateable(self.membership))
        rated = Rating.objects.filter(round=self.round, rater=self.membership).values("objective_id")
        return list(Objective.objects.filter(pk__in=rated).select_related("directorate").order_by("ref"))

    @cached_property
    def existing(self):
        if self.round is None:
            return {}
        return {r.objective_id: r for r in Rating.objects.filter(round=self.round, rater=self.membership)}

    @cached_property
    def pulse(self):
        return PulseResponse.objects.filter(round=self.round, rater=self.membership).first() if self.round else None

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "objectives": self.objectives,
            "existing": self.existing,
            "pulse": self.pulse,
        }

    def post(self, request, *args, **kwargs):
        if self.round is None or not self.round.is_open or not is_rater(self.membership):
            messages.error(request, "This round is not open for your ratings, so nothing was saved.")
            return redirect(request.path)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            ratings_save(round=self.round, membership=self.membership, answers=form.answers(), pulse=form.pulse())
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        done = len(set(self.existing) | set(form.answers()))
        total = len(self.objectives)
        messages.success(self.request, f"Saved. You have rated {done} of {total} objective{'s' if total != 1 else ''}.")
        return redirect(self.request.path)

    def comment_warnings(self):
        """{objective id: warnings} for this person's saved comments held for review (issue #23)."""
        if not any(rating.comment for rating in self.existing.values()):
            return {}
        reviews = CommentReview.objects.filter(
            rating__in=[r.pk for r in self.existing.values()], decision=CommentDecision.PENDING
        ).select_related("rating")
        return {review.rating.objective_id: review_warnings(review) for review in reviews}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        round_ = self.round
        last_month = {}
        if round_ is not None:
            last_round = RatingRound.objects.filter(period=previous_period(round_.period)).first()
            if last_round is not None:
                last_month = dict(
                    Rating.objects.filter(round=last_round, rater=self.membership).values_list("objective_id", "score")
                )
        done = sum(1 for o in self.objectives if o.pk in self.existing)
        context.update(
            round=round_,
            is_rater=is_rater(self.membership),
            last_month={pk: (score, SCORE_WORDS.get(score, "Can't judge")) for pk, score in last_month.items()},
            existing=self.existing,
            pulse=self.pulse,
            done=done,
            total=len(self.objectives),
            percent=round(100 * done / len(self.objectives)) if self.objectives else 0,
            comment_warnings=self.comment_warnings(),
        )
        return context
