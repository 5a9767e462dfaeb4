"""The query layer for divergence: fetch what a round's analysis needs, hand it to the pure
functions in divergence.py, return plain data for pages, CSVs and (later) reports.

The database does the exact part: ratings are counted per (round, objective, group, level,
score), so a trust's round arrives as at most objectives × 4 × 6 rows whatever the number of
ratings, and the score lists for the Mann–Whitney test are rebuilt from those counts. The
pulse is fetched as one small row per respondent. Each function runs a fixed number of
queries, whatever the number of ratings, objectives or periods.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, time

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.utils import timezone

from objectives.models import Objective, Status

from . import divergence
from .models import PulseResponse, Rating, RatingRound
from .statements import STATEMENTS

HISTORY_PERIODS = 12
CACHE_SECONDS = 60 * 60 * 24 * 7


def thresholds_of(trust):
    return divergence.Thresholds(
        min_group_size=trust.min_group_size,
        divergent_gap=trust.divergent_gap,
        watch_gap=trust.watch_gap,
        q_threshold=trust.q_threshold,
    )


def _score_rows(round_ids):
    """{round id: [ScoreRow]} from one grouped query."""
    counted = (
        Rating.objects.filter(round_id__in=round_ids)
        .values("round_id", "objective_id", "professional_group", "level", "score")
        .annotate(n=Count("*"))  # COUNT(*): the covering index answers it without reading the table
        .order_by()
    )
    rows = {round_id: [] for round_id in round_ids}
    for row in counted:
        rows[row["round_id"]].append(
            divergence.ScoreRow(row["objective_id"], row["professional_group"], row["level"], row["score"], row["n"])
        )
    return rows


def _versions(round_ids):
    """{round id: (ratings, latest change)}: what a round's results depend on, in one query."""
    rows = (
        Rating.objects.filter(round_id__in=round_ids)
        .values("round_id")
        .annotate(n=Count("*"), last=Max("updated_at"))
        .order_by()
    )
    return {row["round_id"]: (row["n"], row["last"]) for row in rows}


def _cache_key(round_id, thresholds, version):
    count, last = version or (0, None)
    settings = f"{thresholds.min_group_size}:{thresholds.divergent_gap}:{thresholds.watch_gap}:{thresholds.q_threshold}"
    return f"divergence:v1:{round_id}:{settings}:{count}:{last.isoformat() if last else '-'}"


def round_results_by_round(rounds, thresholds):
    """{round id: {objective id: ObjectiveResult}} for the rated objectives of each round.

    Results are cached per round under a key that includes the round's number of ratings, its
    latest rating change and the trust's thresholds, so any new or changed rating, or a new
    setting, recomputes that round only; a closed round's results are otherwise reused. Two
    queries when everything is cached (rounds are given), three otherwise.
    """
    ids = [r.pk for r in rounds]
    versions = _versions(ids)
    keys = {pk: _cache_key(pk, thresholds, versions.get(pk)) for pk in ids}
    found = cache.get_many(list(keys.values()))
    results = {pk: found[keys[pk]] for pk in ids if keys[pk] in found}
    missing = [pk for pk in ids if pk not in results]
    if missing:
        rows = _score_rows(missing)
        fresh = {pk: {r.objective: r for r in divergence.round_results(rows[pk], thresholds)} for pk in missing}
        cache.set_many({keys[pk]: fresh[pk] for pk in missing}, timeout=CACHE_SECONDS)
        results.update(fresh)
    return results


def objectives_of_round(round_, rated_ids):
    """The objectives a round's table lists: every objective rated in it, plus those agreed by
    the round's close date that are still agreed (rateable then, even if nobody rated them)."""
    closed_by = timezone.make_aware(datetime.combine(round_.closes_on, time.max))
    return list(
        Objective.objects.filter(trust_id=round_.trust_id)
        .filter(
            Q(pk__in=rated_ids)
            | Q(status=Status.AGREED, agreed_at__lte=closed_by)
            | Q(status=Status.AGREED, agreed_at__isnull=True, created_at__lte=closed_by)  # imported as agreed
        )
        .select_related("directorate")
        .order_by("ref")
    )


@dataclass
class RoundAnalysis:
    round: RatingRound
    results: list  # divergence.ObjectiveResult, sorted for attention; .objective is an Objective
    history: dict  # objective id -> [(period label, gap or None)] oldest first, this round last
    periods: list  # the rounds of the history, oldest first
    pulse: divergence.PulseSummary
    thresholds: divergence.Thresholds
    counts: dict = field(default_factory=dict)  # status -> number of objectives

    def for_directorate(self, directorate_id):
        """The same analysis limited to one directorate's objectives (q-values stay trust-wide)."""
        results = [r for r in self.results if r.objective.directorate_id == directorate_id]
        return RoundAnalysis(
            self.round, results, self.history, self.periods, self.pulse, self.thresholds, _counts(results)
        )


def _counts(results):
    counts = dict.fromkeys(divergence.STATUS_ORDER, 0)
    for result in results:
        counts[result.status] += 1
    return counts


def pulse_rows(round_):
    return [
        divergence.PulseRow(**row)
        for row in PulseResponse.objects.filter(round=round_).values(
            "professional_group", "level", "quality", "outlook", "category", "statements"
        )
    ]


def round_analysis(round_):
    """Everything the dashboard, the objective pages and the CSVs show for one round.

    A fixed number of queries: the rounds of the history window, their versions, the counted
    scores of the rounds not in the cache, the objectives, the pulse rows.
    """
    trust = round_.trust
    thresholds = thresholds_of(trust)
    periods = list(
        RatingRound.objects.filter(trust_id=trust.pk, period__lte=round_.period).order_by("-period")[:HISTORY_PERIODS]
    )[::-1]
    by_round = round_results_by_round(periods, thresholds)
    current = by_round[round_.pk]
    objectives = objectives_of_round(round_, set(current))
    by_id = {o.pk: o for o in objectives}
    nobody = {group: [] for group in divergence.GROUPS}
    results = [
        replace(current[pk]) if pk in current else divergence.objective_result(pk, nobody, thresholds) for pk in by_id
    ]
    for result in results:
        result.status = divergence.status_for(result, thresholds)
    history = {pk: [] for pk in by_id}
    for period in periods[:-1]:
        earlier = by_round[period.pk]
        for pk, series in history.items():
            series.append(earlier[pk].gap if pk in earlier else None)  # None: not rated (or suppressed)
    divergence.with_trends(results, history)
    for result in results:
        history[result.objective].append(result.gap)
        result.objective = by_id[result.objective]
    results = divergence.sorted_for_attention(results)
    pulse = divergence.pulse_summary(pulse_rows(round_), thresholds.min_group_size, tuple(STATEMENTS))
    labelled = {pk: list(zip([p.period for p in periods], gaps, strict=True)) for pk, gaps in history.items()}
    return RoundAnalysis(round_, results, labelled, periods, pulse, thresholds, _counts(results))


def latest_closed_round(trust, today=None):
    today = today or timezone.localdate()
    return RatingRound.objects.filter(trust_id=trust.pk).closed_on(today).order_by("-period").first()


@dataclass
class ObjectivePeriod:
    round: RatingRound
    result: object  # divergence.ObjectiveResult, or None when not rated that period


def objective_history(objective, today=None):
    """The objective's results in each of the trust's last 12 closed rounds, oldest first.

    Statuses need each round's q-values, which depend on all of that round's objectives, so
    whole rounds are analysed (and cached: see round_results_by_round).
    """
    today = today or timezone.localdate()
    trust = objective.trust
    thresholds = thresholds_of(trust)
    rounds = list(RatingRound.objects.filter(trust_id=trust.pk).closed_on(today).order_by("-period")[:HISTORY_PERIODS])[
        ::-1
    ]
    by_round = round_results_by_round(rounds, thresholds)
    periods = [ObjectivePeriod(round_, by_round[round_.pk].get(objective.pk)) for round_ in rounds]
    return periods


def objective_comments(objective, round_, result):
    """The round's comments on the objective grouped by professional group, without names or
    times, only for groups shown in the analysis (n ≥ min_group_size). Sorted by text, so
    their order says nothing about who wrote first."""
    if result is None:
        return {}
    shown = [g for g in divergence.PROFESSIONAL_GROUPS if result.groups[g].mean is not None]
    comments = {group: [] for group in shown}
    for group, text in (
        Rating.objects.filter(round=round_, objective=objective, professional_group__in=shown)
        .exclude(comment="")
        .values_list("professional_group", "comment")
    ):
        comments[group].append(text)
    return {group: sorted(texts, key=str.casefold) for group, texts in comments.items()}
