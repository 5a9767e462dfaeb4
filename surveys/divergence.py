"""Divergence between doctors' and managers' views: pure functions, exactly DESIGN.md §5.

No ORM, no Django settings: plain rows in, plain results out, so the statistics are easy to
test against hand-computed and scipy-computed values and to benchmark.

Rounding: means and gaps are Decimal with 2 places, p and q 4 places, effect sizes 3 places,
shares 3 places, all ROUND_HALF_UP from exact values (a mean is computed as sum/n in Decimal,
never through a binary float). The gap is the difference of the two 2-place means, so that a
reader of the CSV gets the same number by subtracting the columns. The status compares the
shown (rounded) q and gap with the thresholds, for the same reason.

Suppression is anonymity: which groups are shown is decided by surveys.disclosure (the one
place it is decided); a hidden group has no n, no mean, no test and no shares here, so nothing
derived from it can reach a page, a CSV, the snapshot or an email.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from scipy.stats import false_discovery_control, mannwhitneyu

from . import disclosure
from .disclosure import (  # the vocabulary lives with the engine that splits by it
    BOARD,  # noqa: F401  (re-exported)
    CLINICAL,
    DAVIES_GROUPS,
    GROUPS,
    MANAGERIAL,
    OPERATIONAL,  # noqa: F401  (re-exported)
    PROFESSIONAL_GROUPS,
)

DAVIES_OF = {pro: [d for d, (p, _) in DAVIES_GROUPS.items() if p == pro] for pro in PROFESSIONAL_GROUPS}

DIVERGENT, WATCH, ALIGNED, INSUFFICIENT = "divergent", "watch", "aligned", "insufficient"
STATUS_ORDER = {DIVERGENT: 0, WATCH: 1, ALIGNED: 2, INSUFFICIENT: 3}

GOOD_QUALITY = {4, 5}
OUTLOOKS = ("improve", "same", "deteriorate")
CATEGORIES = ("partnership", "tension", "tolerance", "unresolved")
# The 2002 national survey (DESIGN.md §1): share rating the relationship 4 or 5.
BENCHMARK_GOOD_SHARE = {"senior_nonclinical": Decimal("0.76"), "operational_clinical": Decimal("0.37")}
# ... and the share expecting it to improve over the next 12 months (80/102 and 123/439).
BENCHMARK_IMPROVE_SHARE = {"senior_nonclinical": Decimal("0.78"), "operational_clinical": Decimal("0.28")}

TWO, THREE, FOUR = Decimal("0.01"), Decimal("0.001"), Decimal("0.0001")


@dataclass(frozen=True)
class Thresholds:
    min_group_size: int = 5
    divergent_gap: Decimal = Decimal("1.00")
    watch_gap: Decimal = Decimal("0.50")
    q_threshold: Decimal = Decimal("0.05")


@dataclass(frozen=True)
class ScoreRow:
    """`count` ratings of one objective with the same score from raters of one group and level
    (their group and level when rating). score None = can't judge. Objectives are keys (ids or
    refs), never model instances."""

    objective: object
    professional_group: str
    level: str
    score: int | None
    count: int = 1


def davies_group(professional_group, level):
    for name, key in DAVIES_GROUPS.items():
        if key == (professional_group, level):
            return name
    raise ValueError(f"unknown group/level {professional_group!r}/{level!r}")


def quantize(value, places):
    return None if value is None else Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def exact_mean(values):
    """The arithmetic mean of integers as an exact Decimal (None for no values)."""
    return Decimal(sum(values)) / Decimal(len(values)) if values else None


def visible_groups(counts, min_group_size, hidden=(), known=()):
    """The groups (of GROUPS) whose values may be shown, given each group's n: decided by the
    disclosure engine (surveys.disclosure), the one place suppression is decided."""
    return disclosure.visible_groups(counts, min_group_size, hidden=hidden, known=known)


@dataclass
class GroupStat:
    n: int | None  # None: hidden (suppressed); a hidden group's n is never published
    mean: Decimal | None  # None: hidden


@dataclass
class ObjectiveResult:
    objective: object
    groups: dict  # group name -> GroupStat, for all six GROUPS
    gap: Decimal | None
    p_value: Decimal | None
    effect_size: Decimal | None
    q_value: Decimal | None = None
    status: str = INSUFFICIENT
    raw_p: float | None = field(default=None, repr=False)
    trend: Decimal | None = None
    widening: bool = False

    @property
    def n_clinical(self):
        return self.groups[CLINICAL].n

    @property
    def n_managerial(self):
        return self.groups[MANAGERIAL].n

    @property
    def mean_clinical(self):
        return self.groups[CLINICAL].mean

    @property
    def mean_managerial(self):
        return self.groups[MANAGERIAL].mean


def scores_by_group(rows):
    """{objective: {group: [scores]}} for the six groups, null scores left out."""
    by_objective = defaultdict(lambda: {group: [] for group in GROUPS})
    for row in rows:
        groups = by_objective[row.objective]
        if row.score is None:
            continue
        groups[row.professional_group].extend([row.score] * row.count)
        groups[davies_group(row.professional_group, row.level)].extend([row.score] * row.count)
    return by_objective


def mann_whitney(clinical, managerial):
    """(two-sided p, rank-biserial r) exactly as DESIGN.md §5: scipy's default method, U of C."""
    result = mannwhitneyu(clinical, managerial, alternative="two-sided")
    p = float(result.pvalue)
    if math.isnan(p):  # defensive: scipy returns 1.0 for all-tied samples today
        p = 1.0
    # U is a multiple of 0.5, exact as a float and as a Decimal: r stays exact until rounded.
    r = 2 * Decimal(float(result.statistic)) / (len(clinical) * len(managerial)) - 1
    return p, r


def objective_result(objective, scores, thresholds, known_zero=(), shown=None):
    """The result for one objective from {group: [scores]} (q and status are set later).
    `known_zero`: groups the audience knows gave no score (nobody in them responded); `shown`:
    the groups to show, when decided for the whole round (surveys.disclosure.decide_round)."""
    counts = {group: len(values) for group, values in scores.items()}
    if shown is None:
        shown = visible_groups(counts, thresholds.min_group_size, known=known_zero)
    groups = {
        group: GroupStat(counts[group], quantize(exact_mean(scores[group]), TWO))
        if group in shown
        else GroupStat(None, None)
        for group in GROUPS
    }
    both = CLINICAL in shown and MANAGERIAL in shown
    gap = p = r = raw_p = None
    if both:
        gap = groups[CLINICAL].mean - groups[MANAGERIAL].mean
        raw_p, raw_r = mann_whitney(scores[CLINICAL], scores[MANAGERIAL])
        p, r = quantize(raw_p, FOUR), quantize(raw_r, THREE)
    return ObjectiveResult(objective, groups, gap, p, r, raw_p=raw_p)


def status_for(result, thresholds):
    if result.gap is None or result.q_value is None:
        return INSUFFICIENT
    size = abs(result.gap)
    if result.q_value < thresholds.q_threshold and size >= thresholds.divergent_gap:
        return DIVERGENT
    if size >= thresholds.watch_gap:
        return WATCH
    return ALIGNED


def round_results(rows, thresholds=Thresholds(), objectives=(), known_zero=(), shown=None):
    """Per-objective results for one trust's round, q-values across its objectives.

    `rows`: ScoreRow-like objects (objective, professional_group, level, score).
    `objectives`: objectives to include even with no ratings (rateable in the round).
    `known_zero`: groups known to have given no score (nobody in them responded in the round).
    `shown`: {objective: groups to show} when decided for the whole round.
    Returned in the order of `objectives`, then of first appearance in `rows`.
    """
    scores = scores_by_group(rows)
    order = list(dict.fromkeys([*objectives, *scores]))
    results = [
        objective_result(
            o,
            scores.get(o) or {g: [] for g in GROUPS},
            thresholds,
            known_zero,
            None if shown is None else shown.get(o, frozenset()),
        )
        for o in order
    ]
    tested = [result for result in results if result.raw_p is not None]
    if tested:
        q_values = false_discovery_control([result.raw_p for result in tested])
        for result, q in zip(tested, q_values, strict=True):
            result.q_value = quantize(min(1.0, float(q)), FOUR)
    for result in results:
        result.status = status_for(result, thresholds)
    return results


def trend(gaps):
    """(change in gap since the previous period, widening flag) from gaps oldest→newest.

    The change is blank unless both of the last two gaps are known; widening means |gap| grew
    two periods running (the last three gaps known and strictly growing in size).
    """
    change = gaps[-1] - gaps[-2] if len(gaps) >= 2 and None not in gaps[-2:] else None
    widening = len(gaps) >= 3 and None not in gaps[-3:] and abs(gaps[-3]) < abs(gaps[-2]) < abs(gaps[-1])
    return change, widening


def with_trends(results, history):
    """Set `trend` and `widening` on this round's results from `history`: {objective: [gap of
    each earlier period, oldest first]} (None where a period had no gap)."""
    for result in results:
        change, widening = trend([*history.get(result.objective, []), result.gap])
        result.trend, result.widening = change, widening
    return results


def sorted_for_attention(results):
    """Divergent first, then watch, aligned, insufficient; within each, the widest gap first."""
    return sorted(
        results,
        key=lambda r: (STATUS_ORDER[r.status], -abs(r.gap) if r.gap is not None else 0, str(r.objective)),
    )


# --- The relationship pulse ------------------------------------------------------------------


@dataclass(frozen=True)
class PulseRow:
    professional_group: str
    level: str
    quality: int | None
    outlook: str  # "" = no answer
    category: str
    statements: dict


def _share(count, total):
    return quantize(Decimal(count) / Decimal(total), THREE) if total else None


@dataclass
class PulseGroup:
    n: int | None  # None when suppressed
    good_share: Decimal | None = None
    outlook_shares: dict = field(default_factory=dict)  # outlook -> share (None when suppressed)
    category_shares: dict = field(default_factory=dict)
    statement_means: dict = field(default_factory=dict)  # statement key -> mean (2 places) or None
    benchmark_good_share: Decimal | None = None
    benchmark_improve_share: Decimal | None = None


@dataclass
class PulseSummary:
    groups: dict  # group name -> PulseGroup, all six GROUPS
    quality_gap: Decimal | None  # clinical − managerial mean quality (2-place means)
    quality_p: Decimal | None


def pulse_summary(rows, min_group_size=5, statement_keys=(), known_zero=(), shown=None):
    """DESIGN.md §5 pulse: per group n, good_share, outlook and category shares (fractions of
    that group's non-blank answers to each question, 3 places), statement means, and the
    quality gap tested like an objective. A group of fewer than `min_group_size` respondents is
    suppressed entirely; within the shown groups, each question applies the same rules to the
    people who answered it (fewer than the minimum, or revealing such a group by subtraction:
    blank), so nothing is derived from fewer people. `known_zero`: groups known to have no
    respondents (nobody in them responded in the round)."""
    members = {group: [] for group in GROUPS}
    for row in rows:
        members[row.professional_group].append(row)
        members[davies_group(row.professional_group, row.level)].append(row)
    if shown is None:  # else decided for the whole round (surveys.disclosure.decide_round)
        shown = visible_groups({g: len(m) for g, m in members.items()}, min_group_size, known=known_zero)

    def answered_by(has_answer):
        """Groups whose answers to one question may be shown: the same rules (size and
        differencing) applied to the people who answered it, within the shown groups."""
        counts = {g: sum(1 for r in m if has_answer(r)) for g, m in members.items()}
        return visible_groups(counts, min_group_size, hidden=set(GROUPS) - shown, known=known_zero)

    answered = {
        "quality": answered_by(lambda r: r.quality is not None),
        "outlook": answered_by(lambda r: bool(r.outlook)),
        "category": answered_by(lambda r: bool(r.category)),
        **{key: answered_by(lambda r, key=key: r.statements.get(key) is not None) for key in statement_keys},
    }
    groups = {}
    for group in GROUPS:
        if group not in shown:
            groups[group] = PulseGroup(
                n=None,
                outlook_shares=dict.fromkeys(OUTLOOKS),
                category_shares=dict.fromkeys(CATEGORIES),
                statement_means=dict.fromkeys(statement_keys),
                benchmark_good_share=BENCHMARK_GOOD_SHARE.get(group),
                benchmark_improve_share=BENCHMARK_IMPROVE_SHARE.get(group),
            )
            continue
        answers = members[group]
        qualities = [r.quality for r in answers if r.quality is not None]
        outlooks = [r.outlook for r in answers if r.outlook]
        categories = [r.category for r in answers if r.category]
        statement_means = {}
        for key in statement_keys:
            values = [r.statements[key] for r in answers if r.statements.get(key) is not None]
            statement_means[key] = quantize(exact_mean(values), TWO) if group in answered[key] else None
        good = _share(sum(q in GOOD_QUALITY for q in qualities), len(qualities))
        groups[group] = PulseGroup(
            n=len(answers),
            good_share=good if group in answered["quality"] else None,
            outlook_shares={
                o: _share(outlooks.count(o), len(outlooks)) if group in answered["outlook"] else None for o in OUTLOOKS
            },
            category_shares={
                c: _share(categories.count(c), len(categories)) if group in answered["category"] else None
                for c in CATEGORIES
            },
            statement_means=statement_means,
            benchmark_good_share=BENCHMARK_GOOD_SHARE.get(group),
            benchmark_improve_share=BENCHMARK_IMPROVE_SHARE.get(group),
        )
    clinical = [r.quality for r in members[CLINICAL] if r.quality is not None]
    managerial = [r.quality for r in members[MANAGERIAL] if r.quality is not None]
    gap = p = None
    if {CLINICAL, MANAGERIAL} <= answered["quality"]:
        gap = quantize(exact_mean(clinical), TWO) - quantize(exact_mean(managerial), TWO)
        p = quantize(mann_whitney(clinical, managerial)[0], FOUR)
    return PulseSummary(groups=groups, quality_gap=gap, quality_p=p)
