"""Objectives on the trust home page: what awaits this person's sign-off, and the counts."""

from django.db.models import Count, Prefetch

from partnership.home import home_panel

from . import rules
from .models import Objective, SignOff, Status
from .services import objectives_visible_filter


@home_panel("objectives/_home_panel.html", order=10)
def objectives_panel(membership):
    visible = Objective.objects.filter(objectives_visible_filter(membership))
    counts = dict(visible.values_list("status").annotate(n=Count("id")).order_by())
    proposed = visible.filter(status=Status.PROPOSED).prefetch_related(
        Prefetch("signoffs", queryset=SignOff.objects.only("objective_id", "side"))
    )
    awaiting = [
        objective
        for objective in proposed.select_related("directorate")
        if rules.can_sign_off(membership, objective, {s.side for s in objective.signoffs.all()})
    ]
    return {
        "awaiting": awaiting,
        "counts": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
        "can_create": rules.can_create_any(membership),
    }
