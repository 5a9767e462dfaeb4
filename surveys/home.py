"""The rating round on the trust home page: is a round open, how far has this person got,
and (for those who follow response rates) a link to them."""

from django.utils import timezone

from partnership.home import home_panel
from partnership.permissions import membership_can

from .analysis import latest_closed_round, round_analysis
from .models import PulseResponse, Rating, RatingRound
from .presentation import GROUP_LABELS, dashboard_rows
from .services.ratings import is_rater, objectives_rateable


@home_panel("surveys/_home_panel.html", order=5)
def round_panel(membership):
    rater = is_rater(membership)
    follows_responses = membership_can(membership, "rounds.responses")
    if not rater and not follows_responses:
        return None
    today = timezone.localdate()
    open_round = RatingRound.objects.open_on(today).first()
    context = {
        "round": open_round,
        "is_rater": rater,
        "responses_round": open_round or RatingRound.objects.filter(opens_on__lte=today).first()
        if follows_responses
        else None,
    }
    if open_round is not None and rater:
        objective_ids = set(objectives_rateable(membership).values_list("pk", flat=True))
        rated = Rating.objects.filter(round=open_round, rater=membership, objective_id__in=objective_ids)
        context.update(
            done=rated.count(),
            total=len(objective_ids),
            pulse_done=PulseResponse.objects.filter(round=open_round, rater=membership).exists(),
        )
    return context


@home_panel("surveys/_home_dashboard.html", order=7)
def dashboard_panel(membership):
    """The latest closed round's divergence table: the first thing a board member sees."""
    round_ = latest_closed_round(membership.trust)
    if round_ is None:
        return None
    analysis = round_analysis(round_)
    return {
        "analysis": analysis,
        "rows": dashboard_rows(analysis),
        "group_labels": list(GROUP_LABELS.values()),
    }
