"""The ratings section of an objective's page: gap history, the per-group table by period,
and the latest closed round's comments (anonymous, shown groups only)."""

from objectives.panels import detail_panel

from . import divergence
from .analysis import comment_threshold, objective_comments, objective_history
from .presentation import GROUP_LABELS


@detail_panel("surveys/_objective_panel.html", order=10)
def ratings_panel(objective, membership):
    periods = objective_history(objective)
    if not periods:
        return None
    latest = periods[-1]
    threshold = comment_threshold(objective.trust, latest.round)
    comments = objective_comments(objective, latest.round, latest.result, threshold)
    return {
        "periods": periods,
        "labels": [p.round.period.strftime("%b %y") for p in periods],
        "gaps": [p.result.gap if p.result else None for p in periods],
        "groups": [(GROUP_LABELS[g], g) for g in divergence.GROUPS],
        "table": [
            (p.round, [p.result.groups[g] if p.result else None for g in divergence.GROUPS], p.result)
            for p in reversed(periods)
        ],
        "latest": latest,
        "comments": [(GROUP_LABELS[g], texts) for g, texts in comments.items()],
        "min_group_size": objective.trust.min_group_size,
        "min_comment_group_size": threshold,
    }
