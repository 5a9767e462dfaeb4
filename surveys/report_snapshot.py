"""The board report's snapshot: everything the report shows, frozen as JSON when it is built.

`report_snapshot` turns a round's analysis, its response counts and its talking points into a
plain, JSON-serialisable dict. The report's email, its web page and its PDF are all rendered
from that dict only (through `snapshot_context`), never from live data, so what the board
received stays exactly what the archive shows, however the ratings change later.

Numbers are stored as the strings the report displays (Decimal notation with their fixed
places: means and gaps 2, p and q 4, effect sizes and shares 3), blanks as null. Nothing
derived from a suppressed group is stored: the analysis already has None there, and response
counts of a suppressed row are left out here.

Key order is never relied upon (PostgreSQL's jsonb does not keep it): everything that has an
order is a list.
"""

from datetime import date

from django.utils.text import Truncator

from . import charts, divergence, talk
from .exports import number
from .models import Category, Outlook
from .presentation import CATEGORY_COLOURS, GROUP_LABELS, OUTLOOK_COLOURS

SNAPSHOT_VERSION = 2  # 2: objective and directorate ids, directorate response rows, statement means
TWO, THREE, FOUR = divergence.TWO, divergence.THREE, divergence.FOUR
STATUS_LABELS = {
    divergence.DIVERGENT: "divergent",
    divergence.WATCH: "watch",
    divergence.ALIGNED: "aligned",
    divergence.INSUFFICIENT: "insufficient",
}
GAP_LIMIT = 4  # the gap runs from −4 to +4 on a 1–5 scale


def _dec(value, places=None):
    """A Decimal as the report shows it ("-1.25", "0.0412"), None as None."""
    return None if value is None else number(value, places)


def _response_row(row):
    """A response-rate row; a suppressed row keeps its label and reason, and no numbers."""
    hidden = bool(row.suppressed)
    return {
        "key": row.key,
        "label": row.label,
        "expected": None if hidden else row.expected,
        "responded": None if hidden else row.responded,
        "rate": None if hidden else row.rate,
        "suppressed": row.suppressed,
    }


def _objective(result, history):
    objective = result.objective
    return {
        "objective_id": objective.pk,
        "directorate_id": objective.directorate_id,
        "ref": str(objective.ref),
        "title": objective.title,
        "theme": {"slug": objective.theme, "label": objective.get_theme_display()},
        "directorate": objective.directorate.name if objective.directorate_id else None,
        "groups": [
            {
                "group": group,
                "label": GROUP_LABELS[group],
                "n": result.groups[group].n,
                "mean": _dec(result.groups[group].mean, TWO),
            }
            for group in divergence.GROUPS
        ],
        "gap": _dec(result.gap, TWO),
        "p_value": _dec(result.p_value, FOUR),
        "q_value": _dec(result.q_value, FOUR),
        "effect_size": _dec(result.effect_size, THREE),
        "status": result.status,
        "trend": _dec(result.trend, TWO),
        "widening": bool(result.widening),
        "davies_pattern": talk.davies_line(result),
        "history": [[period.strftime("%Y-%m"), _dec(gap, TWO)] for period, gap in history],
    }


def _pulse(pulse):
    groups = []
    for group in divergence.GROUPS:
        stats = pulse.groups[group]
        shown = stats.n is not None
        groups.append(
            {
                "group": group,
                "label": GROUP_LABELS[group],
                "n": stats.n,
                "good_share": _dec(stats.good_share, THREE) if shown else None,
                "outlook_shares": {
                    o: _dec(stats.outlook_shares.get(o), THREE) if shown else None for o in divergence.OUTLOOKS
                },
                "category_shares": {
                    c: _dec(stats.category_shares.get(c), THREE) if shown else None for c in divergence.CATEGORIES
                },
                "statement_means": {
                    key: _dec(mean, TWO) if shown else None for key, mean in (stats.statement_means or {}).items()
                },
                "benchmark_good_share": _dec(stats.benchmark_good_share, TWO),
                "benchmark_improve_share": _dec(stats.benchmark_improve_share, TWO),
            }
        )
    return {"groups": groups, "quality_gap": _dec(pulse.quality_gap, TWO), "quality_p": _dec(pulse.quality_p, FOUR)}


def report_snapshot(analysis, responses, talking_points):
    """The JSON snapshot of a round's board report.

    `analysis`: surveys.analysis.RoundAnalysis; `responses`: surveys.selectors.round_response_counts
    of the same round; `talking_points`: surveys.talk.talking_points(analysis).
    """
    round_ = analysis.round
    trust = round_.trust
    thresholds = analysis.thresholds
    return {
        "version": SNAPSHOT_VERSION,
        "trust": {
            "code": trust.code,
            "name": trust.name,
            "min_group_size": thresholds.min_group_size,
            "min_comment_group_size": max(trust.min_comment_group_size, thresholds.min_group_size),
            "thresholds": {
                "divergent_gap": _dec(thresholds.divergent_gap),
                "watch_gap": _dec(thresholds.watch_gap),
                "q_threshold": _dec(thresholds.q_threshold),
            },
        },
        "period": round_.period.strftime("%Y-%m"),
        "round": {
            "label": round_.label,
            "opens_on": round_.opens_on.isoformat(),
            "closes_on": round_.closes_on.isoformat(),
        },
        "counts": {status: analysis.counts.get(status, 0) for status in divergence.STATUS_ORDER},
        "responses": {
            "min_size": responses["min_size"],
            "total": _response_row(responses["total"]),
            "professional_groups": [_response_row(row) for row in responses["professional_groups"]],
            "davies_groups": [_response_row(row) for row in responses["davies_groups"]],
            "directorates": [_response_row(row) for row in responses["directorates"]],
        },
        "objectives": [
            _objective(result, analysis.history.get(result.objective.pk, [])) for result in analysis.results
        ],
        "pulse": _pulse(analysis.pulse),
        "talking_points": [
            {
                "ref": point.ref,
                "title": point.title,
                "gap": _dec(point.gap, TWO),
                "status": point.status,
                "widening": bool(point.widening),
                "lines": list(point.lines),
            }
            for point in talking_points
        ],
    }


# --- Rendering: what the templates get from a snapshot -----------------------------------


def _bar_widths(gap):
    """(left %, right %) of a diverging bar cell pair for a gap on −4..+4 (each half 0..100)."""
    if gap is None:
        return 0, 0
    value = float(gap)
    width = min(100, round(abs(value) / GAP_LIMIT * 100))
    if value and not width:
        width = 1
    return (width, 0) if value < 0 else (0, width)


def _month_label(period_text):
    year, month = (int(part) for part in period_text.split("-"))
    return date(year, month, 1).strftime("%b")


def _objective_view(item):
    neg, pos = _bar_widths(item["gap"])
    groups = {cell["group"]: cell for cell in item["groups"]}
    return {
        **item,
        "cells": item["groups"],
        "mean_clinical": groups[divergence.CLINICAL]["mean"],
        "mean_managerial": groups[divergence.MANAGERIAL]["mean"],
        "davies": [groups[g] for g in divergence.DAVIES_GROUPS],
        "gap_text": charts.signed(item["gap"]),
        "trend_text": charts.signed(item["trend"]) if item["trend"] is not None else None,
        "bar_neg": neg,
        "bar_pos": pos,
        "bar_neg_rest": 100 - neg,
        "bar_pos_rest": 100 - pos,
        "attention": item["status"] == divergence.DIVERGENT or item["widening"],
        "history_labels": [_month_label(period) for period, _ in item["history"]],
        "history_gaps": [gap for _, gap in item["history"]],
        "history_title": f"{item['ref']}: gap between clinical and managerial means by month",
    }


def chart_rows(data):
    """(label, gap) for the gap bar chart: every objective with a gap, in the report's order."""
    return [
        (f"{item['ref']} {Truncator(item['title']).chars(48)}", item["gap"])
        for item in data["objectives"]
        if item["gap"] is not None
    ]


def chart_title(data):
    return f"Gap between clinical and managerial means, {data['round']['label']}"


def snapshot_context(data):
    """Template context for the report's email, page and PDF, from the snapshot only."""
    objectives = [_objective_view(item) for item in data["objectives"]]
    pulse_groups = data["pulse"]["groups"]
    return {
        "report": data,
        "trust": data["trust"],
        "report_trust": data["trust"],
        "thresholds": data["trust"]["thresholds"],
        "period": data["period"],
        "round": {
            **data["round"],
            "closes_on": date.fromisoformat(data["round"]["closes_on"]),
            "opens_on": date.fromisoformat(data["round"]["opens_on"]),
        },
        "counts": [(status, data["counts"].get(status, 0)) for status in divergence.STATUS_ORDER],
        "objective_count": len(objectives),
        "responses": data["responses"],
        "response_rows": [*data["responses"]["professional_groups"], *data["responses"]["davies_groups"]],
        "objectives": objectives,
        "attention": [item for item in objectives if item["attention"]],
        "group_labels": [GROUP_LABELS[g] for g in divergence.GROUPS],
        "davies_labels": [GROUP_LABELS[g] for g in divergence.DAVIES_GROUPS],
        "pulse": data["pulse"],
        "pulse_groups": pulse_groups,
        "benchmarked": [group for group in pulse_groups if group["benchmark_good_share"] is not None],
        "category_rows": [(group["label"], group["category_shares"]) for group in pulse_groups],
        "category_keys": [(c.value, c.label, CATEGORY_COLOURS[c.value]) for c in Category],
        "outlook_keys": [(o.value, o.label, OUTLOOK_COLOURS[o.value]) for o in Outlook],
        "talking_points": data["talking_points"],
        "chart_rows": chart_rows(data),
        "chart_title": chart_title(data),
        "status_labels": STATUS_LABELS,
    }
