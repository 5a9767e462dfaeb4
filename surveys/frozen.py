"""Reading a reported round back from its frozen snapshot: published numbers never change.

Once a round's board report is built, every live view of that round (dashboard, objective
page, CSVs, response rates, trend history of later rounds) serves the numbers of the
snapshot the board was sent, not a fresh computation: a late rating, a threshold change, a
person who left or an erased account can then never move a published figure. These pure
functions turn the snapshot JSON (surveys.report_snapshot) back into the plain results the
pages already render. No queries.

Snapshots of version 1 (built before the disclosure engine) carried n for hidden groups; a
hidden group's n is never read back: n is taken only where the group's mean is shown. A
snapshot missing a part (none is, in practice) reads back as showing nothing of it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from . import divergence
from .selectors import HIDDEN, CountRow


@dataclass(frozen=True)
class FrozenObjective:
    """An objective as the report listed it: enough for every page, CSV and talking point."""

    pk: int | None
    ref: str
    title: str
    theme: str
    theme_label: str
    directorate_id: int | None
    directorate_name: str | None

    @property
    def id(self):
        return self.pk

    @property
    def directorate(self):
        return SimpleNamespace(pk=self.directorate_id, name=self.directorate_name) if self.directorate_name else None

    def get_theme_display(self):
        return self.theme_label

    def __str__(self):
        return f"{self.ref} {self.title}"


@dataclass(frozen=True)
class FrozenRound:
    """A reported round as its snapshot says: results by objective id (None ids left out),
    results in the report's order, each objective's gap history, the pulse, the thresholds,
    the response counts and the comment threshold."""

    results: tuple  # divergence.ObjectiveResult, in the report's order
    history: dict  # objective pk -> [(period date, gap or None)]
    pulse: divergence.PulseSummary
    thresholds: divergence.Thresholds
    responses: dict  # as surveys.selectors.round_response_counts returns
    min_comment_group_size: int

    @property
    def by_objective(self):
        return {r.objective.pk: r for r in self.results if r.objective.pk is not None}


def _dec(text):
    return None if text is None else Decimal(text)


def _period(text):
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


def _groups(item):
    groups = {}
    for cell in item["groups"]:
        mean = _dec(cell["mean"])
        groups[cell["group"]] = divergence.GroupStat(cell["n"] if mean is not None else None, mean)
    return {group: groups.get(group, divergence.GroupStat(None, None)) for group in divergence.GROUPS}


def _objective(item, ids):
    """The FrozenObjective of a snapshot entry; `ids` ({ref: (pk, directorate id)}, from the
    live objectives) fills in what version 1 snapshots did not store."""
    pk, directorate_id = item.get("objective_id"), item.get("directorate_id")
    if "objective_id" not in item:
        pk, directorate_id = ids.get(item["ref"], (None, None))
    return FrozenObjective(
        pk=pk,
        ref=item["ref"],
        title=item["title"],
        theme=item["theme"]["slug"],
        theme_label=item["theme"]["label"],
        directorate_id=directorate_id,
        directorate_name=item.get("directorate"),
    )


def _result(item, objective):
    return divergence.ObjectiveResult(
        objective=objective,
        groups=_groups(item),
        gap=_dec(item["gap"]),
        p_value=_dec(item["p_value"]),
        effect_size=_dec(item["effect_size"]),
        q_value=_dec(item["q_value"]),
        status=item["status"],
        trend=_dec(item.get("trend")),
        widening=bool(item.get("widening")),
    )


def _pulse(data):
    pulse = data.get("pulse") or {"groups": []}
    groups = {}
    for item in pulse["groups"]:
        groups[item["group"]] = divergence.PulseGroup(
            n=item["n"],  # None for a hidden group, in every version
            good_share=_dec(item["good_share"]),
            outlook_shares={o: _dec(item["outlook_shares"].get(o)) for o in divergence.OUTLOOKS},
            category_shares={c: _dec(item["category_shares"].get(c)) for c in divergence.CATEGORIES},
            statement_means={k: _dec(v) for k, v in (item.get("statement_means") or {}).items()},
            benchmark_good_share=_dec(item.get("benchmark_good_share")),
            benchmark_improve_share=_dec(item.get("benchmark_improve_share")),
        )
    return divergence.PulseSummary(
        groups=groups, quality_gap=_dec(pulse.get("quality_gap")), quality_p=_dec(pulse.get("quality_p"))
    )


def _count_row(item):
    hidden = bool(item.get("suppressed")) or item.get("expected") is None
    return CountRow(
        key=item["key"],
        label=item["label"],
        expected=None if hidden else item["expected"],
        responded=None if hidden else item["responded"],
        suppressed=HIDDEN if hidden else "",
    )


def _responses(data):
    empty = {"key": "total", "label": "Whole trust", "suppressed": "hidden"}
    responses = data.get("responses") or {"total": empty, "professional_groups": [], "davies_groups": [], "min_size": 0}
    return {
        "total": _count_row(responses["total"]),
        "professional_groups": [_count_row(row) for row in responses["professional_groups"]],
        "davies_groups": [_count_row(row) for row in responses["davies_groups"]],
        # Version 1 snapshots kept no directorate rows: none are shown for those rounds.
        "directorates": [_count_row(row) for row in responses.get("directorates", [])],
        "min_size": responses["min_size"],
        "frozen": True,
    }


def _thresholds(data):
    trust = data.get("trust") or {"min_group_size": 5, "thresholds": {}}
    return divergence.Thresholds(
        min_group_size=trust["min_group_size"],
        divergent_gap=Decimal(trust["thresholds"].get("divergent_gap", "1.00")),
        watch_gap=Decimal(trust["thresholds"].get("watch_gap", "0.50")),
        q_threshold=Decimal(trust["thresholds"].get("q_threshold", "0.05")),
    )


def frozen_round(data, ids=None):
    """The FrozenRound of a snapshot (`ids`: {ref: (pk, directorate id)} for version 1)."""
    ids = ids or {}
    results, history = [], {}
    for item in data.get("objectives", []):
        objective = _objective(item, ids)
        results.append(_result(item, objective))
        if objective.pk is not None:
            history[objective.pk] = [(_period(period), _dec(gap)) for period, gap in item.get("history", [])]
    thresholds = _thresholds(data)
    return FrozenRound(
        results=tuple(results),
        history=history,
        pulse=_pulse(data),
        thresholds=thresholds,
        responses=_responses(data),
        min_comment_group_size=(data.get("trust") or {}).get(
            "min_comment_group_size", max(10, thresholds.min_group_size)
        ),
    )
