"""The rating round on the trust home page: is a round open, and how far has this person got."""

from django.utils import timezone

from partnership.home import home_panel

from .models import PulseResponse, Rating, RatingRound
from .services.ratings import is_rater, objectives_rateable


@home_panel("surveys/_home_panel.html", order=5)
def round_panel(membership):
    if not is_rater(membership):
        return None
    round_ = RatingRound.objects.open_on(timezone.localdate()).first()
    if round_ is None:
        return {"round": None}
    objective_ids = set(objectives_rateable(membership).values_list("pk", flat=True))
    rated = set(
        Rating.objects.filter(round=round_, rater=membership, objective_id__in=objective_ids).values_list(
            "objective_id", flat=True
        )
    )
    return {
        "round": round_,
        "done": len(rated),
        "total": len(objective_ids),
        "pulse_done": PulseResponse.objects.filter(round=round_, rater=membership).exists(),
    }
