"""Shaping analysis results for templates: labels, colours, rows. No queries."""

from . import divergence
from .models import Category, Outlook
from .statements import STATEMENTS

GROUP_LABELS = {
    "clinical": "Clinical",
    "managerial": "Managerial",
    "senior_clinical": "Senior clinical",
    "senior_nonclinical": "Senior non-clinical",
    "operational_clinical": "Operational clinical",
    "operational_nonclinical": "Operational non-clinical",
}
CATEGORY_COLOURS = {"partnership": "#007f3b", "tension": "#78be20", "tolerance": "#ffb81c", "unresolved": "#d5281b"}
OUTLOOK_COLOURS = {"improve": "#005eb8", "same": "#aeb7bd", "deteriorate": "#d5281b"}


def dashboard_rows(analysis):
    """One row per objective for the heatmap: cells in GROUPS order, gaps for the sparkline."""
    rows = []
    for result in analysis.results:
        history = analysis.history.get(result.objective.pk, [])
        rows.append(
            {
                "result": result,
                "objective": result.objective,
                "cells": [(GROUP_LABELS[g], result.groups[g]) for g in divergence.GROUPS],
                "gaps": [gap for _, gap in history],
                "periods": [period.strftime("%b") for period, _ in history],
            }
        )
    return rows


def pulse_context(pulse):
    groups = [(GROUP_LABELS[g], g, pulse.groups[g]) for g in divergence.GROUPS]
    return {
        "groups": groups,
        "category_rows": [(label, group.category_shares) for label, _, group in groups],
        "category_keys": [(c.value, c.label, CATEGORY_COLOURS[c.value]) for c in Category],
        "outlook_rows": [(label, group.outlook_shares) for label, _, group in groups],
        "outlook_keys": [(o.value, o.label, OUTLOOK_COLOURS[o.value]) for o in Outlook],
        "statements": [
            (text, [pulse.groups[g].statement_means.get(key) for g in divergence.PROFESSIONAL_GROUPS])
            for key, text in STATEMENTS.items()
        ],
        "quality_gap": pulse.quality_gap,
        "quality_p": pulse.quality_p,
    }
