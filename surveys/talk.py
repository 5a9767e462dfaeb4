""" "What to talk about": the few objectives where doctors and managers see progress most
differently, each with a short, neutral prompt for a joint conversation.

Pure functions over a round's analysis (no ORM). The wording is built from the numbers only:
which side sees more progress, by how much, whether the gap is widening and, when the level
split is shown, which Davies group rates it lowest and highest. It describes and asks; it never
says who is right, and it names groups only to report what they rated.
"""

from dataclasses import dataclass
from decimal import Decimal

from . import divergence

# Plural names for sentences about what a group rated.
SIDE_NAMES = {divergence.CLINICAL: "clinicians", divergence.MANAGERIAL: "managers"}
DAVIES_NAMES = {
    "senior_clinical": "senior clinicians",
    "senior_nonclinical": "senior managers",
    "operational_clinical": "operational clinicians",
    "operational_nonclinical": "operational managers",
}

SHARED_QUESTIONS = (
    "What does each side see that the other does not?",
    "What would progress look like to both?",
)
WIDENING_QUESTION = "What has changed for each side over the last two months?"
DEFAULT_THRESHOLDS = divergence.Thresholds()
DAVIES_QUESTION = "How does this objective look from the board and from the front line?"


@dataclass(frozen=True)
class TalkingPoint:
    ref: str
    title: str
    gap: Decimal
    status: str
    widening: bool
    lines: tuple  # sentences: what the data shows, then questions to discuss


def _points(value):
    return format(abs(value), "f")


def _sentence_start(text):
    return text[:1].upper() + text[1:]


def _join(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _sides_line(result):
    clinical, managerial = result.mean_clinical, result.mean_managerial
    if result.gap == 0:
        return f"Clinicians and managers rate progress the same on average ({clinical})."
    higher, lower = (
        (divergence.CLINICAL, divergence.MANAGERIAL) if result.gap > 0 else (divergence.MANAGERIAL, divergence.CLINICAL)
    )
    means = {divergence.CLINICAL: clinical, divergence.MANAGERIAL: managerial}
    return (
        f"{_sentence_start(SIDE_NAMES[higher])} see more progress than {SIDE_NAMES[lower]}: "
        f"an average of {means[higher]} against {means[lower]}, "
        f"a gap of {_points(result.gap)} points on the 1–5 scale."
    )


def _evidence_line(result, thresholds):
    if result.status == divergence.DIVERGENT:
        q = "q < 0.0001" if result.q_value == 0 else f"q = {result.q_value}"
        return f"A difference this size is unlikely to be chance ({q})."
    if result.status == divergence.WATCH:
        return f"The gap is past the {thresholds.watch_gap}-point watch level, though not judged divergent."
    return None


def _widening_line(result):
    if not result.widening:
        return None
    if result.trend is None:
        return "The gap has widened two months running."
    previous = result.gap - result.trend
    return f"The gap has widened two months running, from {_points(previous)} last month to {_points(result.gap)} now."


def davies_line(result):
    """What the split by level shows, or None.

    Only when both Davies groups of at least one side are shown (big enough, and not hidden to
    prevent differencing); otherwise the level split says nothing a reader may see. With all
    four shown: which groups rate the objective lowest and highest (ties named together). With
    one side's pair only: how its two levels compare, within that side (naming the lowest of
    the groups shown would mislead when the other side's levels are hidden)."""
    means = {g: result.groups[g].mean for g in divergence.DAVIES_GROUPS}
    full = [side for side, pair in divergence.DAVIES_OF.items() if all(means[g] is not None for g in pair)]
    if not full:
        return None
    if len(full) == len(divergence.DAVIES_OF):
        low, high = min(means.values()), max(means.values())
        if low == high:
            return None
        lowest = [DAVIES_NAMES[g] for g, mean in means.items() if mean == low]
        highest = [DAVIES_NAMES[g] for g, mean in means.items() if mean == high]
        return f"{_sentence_start(_join(lowest))} rate it lowest ({low}); {_join(highest)} rate it highest ({high})."
    [side] = full
    lower, higher = sorted(divergence.DAVIES_OF[side], key=lambda g: (means[g], g))
    if means[lower] == means[higher]:
        return None
    return (
        f"Among {SIDE_NAMES[side]}, {DAVIES_NAMES[lower]} rate it lower ({means[lower]}) "
        f"than {DAVIES_NAMES[higher]} ({means[higher]})."
    )


def talking_point(result, thresholds=DEFAULT_THRESHOLDS):
    davies = davies_line(result)
    lines = [
        _sides_line(result),
        _evidence_line(result, thresholds),
        _widening_line(result),
        davies,
        *SHARED_QUESTIONS,
        WIDENING_QUESTION if result.widening else None,
        DAVIES_QUESTION if davies else None,
    ]
    objective = result.objective
    return TalkingPoint(
        ref=str(objective.ref),
        title=objective.title,
        gap=result.gap,
        status=result.status,
        widening=result.widening,
        lines=tuple(line for line in lines if line),
    )


def _by_gap(result):
    return (-abs(result.gap), str(result.objective.ref))


def talking_points(analysis, limit=3):
    """Up to `limit` talking points: divergent objectives first, widest gap first, then
    objectives whose gap is widening (and not divergent), widest gap first. Empty when no
    objective is divergent or widening."""
    results = [r for r in analysis.results if r.gap is not None]
    divergent = sorted((r for r in results if r.status == divergence.DIVERGENT), key=_by_gap)
    widening = sorted((r for r in results if r.widening and r.status != divergence.DIVERGENT), key=_by_gap)
    thresholds = getattr(analysis, "thresholds", None) or DEFAULT_THRESHOLDS
    return [talking_point(result, thresholds) for result in [*divergent, *widening][:limit]]
