"""The query layer for divergence: fetch what a round's analysis needs, hand it to the pure
functions in divergence.py, return plain data for pages, CSVs and (later) reports.

The database does the exact part: ratings are counted per (round, objective, group, level,
score), so a trust's round arrives as at most objectives × 4 × 6 rows whatever the number of
ratings, and the score lists for the Mann–Whitney test are rebuilt from those counts. The
pulse is fetched as one small row per respondent. Each function runs a fixed number of
queries, whatever the number of ratings, objectives or periods.
"""

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, time

from django.core.cache import cache
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from objectives.models import Objective, Status

from . import disclosure, divergence, frozen
from .models import DivergenceReport, PulseResponse, Rating, RatingRound
from .selectors import (
    response_cells_by_round,
    response_cells_of,
    response_counts,
    response_table,
    round_response_counts,
)
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


def _cache_key(round_id, thresholds, version, more=()):
    count, last = version or (0, None)
    settings = f"{thresholds.min_group_size}:{thresholds.divergent_gap}:{thresholds.watch_gap}:{thresholds.q_threshold}"
    extra = hashlib.blake2b(repr(more).encode(), digest_size=8).hexdigest()  # pulse version, response cells
    return f"divergence:v3:{round_id}:{settings}:{count}:{last.isoformat() if last else '-'}:{extra}"


def _report_ids(rounds):
    """{round id: report id} of the reported ones among `rounds`: from the `report_id` annotation
    when the rounds were fetched with it (no query), else one query."""
    if all(hasattr(r, "report_id") for r in rounds):
        return {r.pk: r.report_id for r in rounds if r.report_id is not None}
    return dict(
        DivergenceReport.objects.filter(round_id__in=[r.pk for r in rounds]).order_by().values_list("round_id", "pk")
    )


def frozen_rounds(report_ids):
    """{report id: frozen.FrozenRound} read back from the snapshots, cached for good under the
    report's id (a report never changes). One query for the snapshots not in the cache, and one
    more only for version-1 snapshots (their objectives' ids by ref)."""
    keys = {pk: f"frozen:v2:{pk}" for pk in report_ids}
    found = cache.get_many(list(keys.values()))
    out = {pk: found[keys[pk]] for pk in report_ids if keys[pk] in found}
    missing = [pk for pk in report_ids if pk not in out]
    if missing:
        reports = list(DivergenceReport.objects.filter(pk__in=missing).values_list("pk", "trust_id", "data"))
        ids = {}
        old = {trust_id for _, trust_id, data in reports if data.get("version", 1) < 2}
        if old:
            ids = {
                (trust_id, ref): (pk, directorate_id)
                for trust_id, ref, pk, directorate_id in Objective.objects.filter(trust_id__in=old).values_list(
                    "trust_id", "ref", "pk", "directorate_id"
                )
            }
        fresh = {}
        for pk, trust_id, data in reports:
            by_ref = {ref: value for (trust, ref), value in ids.items() if trust == trust_id}
            fresh[pk] = frozen.frozen_round(data, by_ref)
        cache.set_many({keys[pk]: value for pk, value in fresh.items()}, timeout=None)
        out.update(fresh)
    return out


@dataclass(frozen=True)
class Decision:
    """What may be published about a round not yet reported, decided over all of it at once:
    the objectives' results, the pulse and the response counts (disclosure rules 1-4)."""

    results: dict  # objective id -> divergence.ObjectiveResult (q and status set)
    pulse: divergence.PulseSummary
    responses: dict  # as selectors.response_counts returns


RESPONSES = "responses"
PULSE = "pulse"


def _answer_atoms(cells, directorate_id=None):
    """{(group, level): [(group, level, directorate)] } of the response atoms each answer atom
    could come from (people of one directorate only, for a directorate's objective)."""
    atoms = {}
    for cell in cells:
        if directorate_id is None or cell["directorate_id"] == directorate_id:
            key = (cell["professional_group"], cell["level"])
            atoms.setdefault(key, []).append((key[0], key[1], cell["directorate_id"]))
    return atoms


def _measure(name, counts, cells, directorate_id, responders, couplings, sums=True):
    """The disclosure Measure of one answer measure split by the six groups (an objective's
    scores, the pulse), with its couplings to the response atoms."""
    expected = {(c["professional_group"], c["level"], c["directorate_id"]): c["expected"] for c in cells}
    sources = _answer_atoms(cells, directorate_id)
    populations = {}
    for atom in disclosure.DAVIES_GROUPS.values():
        davies = next(g for g, key in disclosure.DAVIES_GROUPS.items() if key == atom)
        observed = counts.get(davies, 0)
        rhs = sources.get(atom, [])
        populations[atom] = max(observed, sum(expected[a] for a in rhs))
        if rhs and observed <= sum(responders[a] for a in rhs):  # true for every snapshot taken now
            couplings.append(disclosure.Coupling((name, atom), tuple((RESPONSES, a) for a in rhs)))
    return disclosure.Measure(name, tuple(disclosure.group_cells(counts)), populations, sums=sums)


def decide_round(rows, pulse, cells, thresholds, directorate_of):
    """One round's Decision from its counted scores, pulse rows and response cells: what may be
    shown of every objective, the pulse and the response counts, decided together by
    surveys.disclosure.decide_round (the answers and the response counts constrain each other:
    nobody answers without responding). Pure."""
    scores = divergence.scores_by_group(rows)
    responders = {(c["professional_group"], c["level"], c["directorate_id"]): c["responded"] for c in cells}
    couplings = []
    measures = []
    for objective, groups in scores.items():
        counts = {group: len(values) for group, values in groups.items()}
        name = ("objective", objective)
        measures.append(_measure(name, counts, cells, directorate_of.get(objective), responders, couplings))
    pulse_counts = dict.fromkeys(disclosure.GROUPS, 0)
    for row in pulse:
        pulse_counts[row.professional_group] += 1
        pulse_counts[divergence.davies_group(row.professional_group, row.level)] += 1
    measures.append(_measure(PULSE, pulse_counts, cells, None, responders, couplings, sums=False))
    table, atoms_of = response_table(cells)
    response_measure_cells = tuple(response_cells_of(table, atoms_of))
    # Every small class of people (one joiner in a directorate, say) is protected like a cell,
    # though no table shows it: pinning its count at 0 would say that each of them gave nothing.
    response_measure_cells += tuple(
        disclosure.Cell(("people", atom), frozenset({atom}), c["expected"], value=c["responded"])
        for c in cells
        for atom in [(c["professional_group"], c["level"], c["directorate_id"])]
        if 0 < c["expected"] < thresholds.min_group_size
    )
    populations = {
        atom: count
        for atom, count in (
            (a, c["expected"]) for c in cells for a in [(c["professional_group"], c["level"], c["directorate_id"])]
        )
    }
    # Response counts yield first: an objective's gap matters more to the board than a count.
    measures.append(disclosure.Measure(RESPONSES, response_measure_cells, populations, yields=True))
    shown = disclosure.decide_round(measures, couplings, thresholds.min_group_size)
    results = divergence.round_results(
        rows, thresholds, shown={objective: shown["objective", objective] for objective in scores}
    )
    pulse_measure = next(m for m in measures if m.name == PULSE)
    nobody_there = frozenset(  # groups with no members at all: nothing in them to protect
        group
        for group in disclosure.GROUPS
        if not sum(pulse_measure.populations[atom] for atom in disclosure.GROUP_ATOMS[group])
    )
    summary = divergence.pulse_summary(
        pulse, thresholds.min_group_size, tuple(STATEMENTS), known_zero=nobody_there, shown=shown[PULSE]
    )
    responses = response_counts(cells, thresholds.min_group_size, shown=shown[RESPONSES])
    return Decision({r.objective: r for r in results}, summary, responses)


def _pulse_versions(round_ids):
    rows = (
        PulseResponse.objects.filter(round_id__in=round_ids)
        .values("round_id")
        .annotate(n=Count("*"), last=Max("updated_at"))
        .order_by()
    )
    return {row["round_id"]: (row["n"], row["last"]) for row in rows}


def _cells_digest(cells):
    """A short, stable digest of a round's response cells (who is expected, who responded)."""
    text = repr(
        sorted(
            (c["professional_group"], c["level"], c["directorate_id"] or 0, c["expected"], c["responded"])
            for c in cells
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def round_decisions(rounds, thresholds):
    """{round id: Decision} for the given rounds not yet reported.

    Cached per round under a key made of everything a decision depends on: the ratings (count,
    latest change), the pulse (count, latest change), the response cells (a digest) and the
    thresholds. Queries: ratings and pulse versions and the response cells (one each, whatever
    the number of rounds), and on a cache miss the counted scores, the pulse rows and the
    objectives' directorates.
    """
    ids = [r.pk for r in rounds]
    if not ids:
        return {}
    versions, pulse_versions = _versions(ids), _pulse_versions(ids)
    cells = response_cells_by_round(rounds[0].trust_id, ids)
    keys = {
        pk: _cache_key(pk, thresholds, versions.get(pk), (pulse_versions.get(pk), _cells_digest(cells[pk])))
        for pk in ids
    }
    found = cache.get_many(list(keys.values()))
    decisions = {pk: found[keys[pk]] for pk in ids if keys[pk] in found}
    missing = [pk for pk in ids if pk not in decisions]
    if missing:
        rows = _score_rows(missing)
        pulses = _pulse_rows(missing)
        objective_ids = {row.objective for pk in missing for row in rows[pk]}
        directorate_of = dict(Objective.objects.filter(pk__in=objective_ids).values_list("pk", "directorate_id"))
        fresh = {pk: decide_round(rows[pk], pulses[pk], cells[pk], thresholds, directorate_of) for pk in missing}
        cache.set_many({keys[pk]: fresh[pk] for pk in missing}, timeout=CACHE_SECONDS)
        decisions.update(fresh)
    return decisions


def round_results_by_round(rounds, thresholds):
    """{round id: {objective id: ObjectiveResult}} for the rated objectives of each round.

    A reported round's results are its snapshot's (surveys.frozen): published numbers never
    change, whatever happened to the ratings or the settings since. Others are decided afresh
    (round_decisions, cached).
    """
    reported = _report_ids(rounds)
    results = {}
    if reported:
        by_report = frozen_rounds(list(reported.values()))
        results = {round_id: by_report[report_id].by_objective for round_id, report_id in reported.items()}
    decisions = round_decisions([r for r in rounds if r.pk not in reported], thresholds)
    results.update({pk: decision.results for pk, decision in decisions.items()})
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
    frozen: object = None  # the frozen.FrozenRound when the round is reported, else None
    responses: dict = None  # the round's response counts, decided with its answers (disclosure rule 5)

    def for_directorate(self, directorate_id):
        """The same analysis limited to one directorate's objectives (q-values stay trust-wide)."""
        results = [r for r in self.results if r.objective.directorate_id == directorate_id]
        return replace(self, results=results, counts=_counts(results))


def _counts(results):
    counts = dict.fromkeys(divergence.STATUS_ORDER, 0)
    for result in results:
        counts[result.status] += 1
    return counts


def _pulse_rows(round_ids):
    """{round id: [PulseRow]} in one query."""
    rows = {pk: [] for pk in round_ids}
    for row in PulseResponse.objects.filter(round_id__in=round_ids).values(
        "round_id", "professional_group", "level", "quality", "outlook", "category", "statements"
    ):
        rows[row.pop("round_id")].append(divergence.PulseRow(**row))
    return rows


def pulse_rows(round_):
    return _pulse_rows([round_.pk])[round_.pk]


def round_analysis(round_):
    """Everything the dashboard, the objective pages and the CSVs show for one round.

    A fixed number of queries: the rounds of the history window, their versions, the counted
    scores of the rounds not in the cache, the objectives, the pulse rows.
    """
    trust = round_.trust
    periods = list(
        RatingRound.objects.filter(trust_id=trust.pk, period__lte=round_.period)
        .annotate(report_id=F("report__id"))
        .order_by("-period")[:HISTORY_PERIODS]
    )[::-1]
    current_report = next((p.report_id for p in periods if p.pk == round_.pk), None)
    if current_report is not None:
        return _frozen_analysis(round_, frozen_rounds([current_report])[current_report], periods)
    thresholds = thresholds_of(trust)
    reported = _report_ids(periods)
    by_report = frozen_rounds(list(reported.values())) if reported else {}
    decisions = round_decisions([p for p in periods if p.pk not in reported], thresholds)
    by_round = {pk: by_report[report_id].by_objective for pk, report_id in reported.items()}
    by_round.update({pk: decision.results for pk, decision in decisions.items()})
    decision = decisions[round_.pk]
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
    labelled = {pk: list(zip([p.period for p in periods], gaps, strict=True)) for pk, gaps in history.items()}
    return RoundAnalysis(
        round_, results, labelled, periods, decision.pulse, thresholds, _counts(results), responses=decision.responses
    )


def _frozen_analysis(round_, frozen_round, periods):
    """The RoundAnalysis of a reported round: exactly its snapshot's numbers."""
    results = [replace(result) for result in frozen_round.results]
    return RoundAnalysis(
        round_,
        results,
        frozen_round.history,
        periods,
        frozen_round.pulse,
        frozen_round.thresholds,
        _counts(results),
        frozen=frozen_round,
    )


_LOOK_UP = object()


def round_responses(round_, analysis=None, report=_LOOK_UP):
    """The round's response counts: the snapshot's once it is reported, else counted now,
    allowing for what the round's published answers say (disclosure rule 5), so that every page
    shows the same counts. `analysis` (the WHOLE round's, never a directorate's part) or `report`
    (the round's DivergenceReport or None) spare the queries that find them."""
    frozen_round = getattr(analysis, "frozen", None)
    if frozen_round is not None:
        return frozen_round.responses
    if analysis is not None and analysis.responses is not None:
        return analysis.responses
    if report is _LOOK_UP:
        report = DivergenceReport.objects.filter(round_id=round_.pk).only("pk").first()
    if report is not None:
        return frozen_rounds([report.pk])[report.pk].responses
    if round_.closes_on < timezone.localdate():  # its answers are published: decided with them
        return round_analysis(round_).responses
    return round_response_counts(round_)  # open: nothing of its answers is published yet


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
    rounds = list(
        RatingRound.objects.filter(trust_id=trust.pk)
        .closed_on(today)
        .annotate(report_id=F("report__id"))
        .order_by("-period")[:HISTORY_PERIODS]
    )[::-1]
    by_round = round_results_by_round(rounds, thresholds)
    periods = [ObjectivePeriod(round_, by_round[round_.pk].get(objective.pk)) for round_ in rounds]
    return periods


def comment_threshold(trust, round_):
    """The least group size whose comments are shown in `round_`: the snapshot's once the round
    is reported, else the trust's (never below its min_group_size)."""
    report_id = getattr(round_, "report_id", None)
    if report_id is not None:
        return frozen_rounds([report_id])[report_id].min_comment_group_size
    return max(trust.min_comment_group_size, trust.min_group_size)


def objective_comments(objective, round_, result, min_comment_size=None):
    """The round's comments on the objective grouped by professional group, without names or
    times, only for groups shown in the analysis with at least `min_comment_size` people (the
    comment threshold, DESIGN.md §5; `comment_threshold` by default). Sorted by text, so their
    order says nothing about who wrote first or when."""
    from .comment_detector import Finding, redact
    from .models import CommentDecision

    if result is None:
        return {}
    if min_comment_size is None:
        min_comment_size = comment_threshold(objective.trust, round_)
    shown = [
        g for g in divergence.PROFESSIONAL_GROUPS if disclosure.comments_shown(result.groups[g].n, 1, min_comment_size)
    ]
    comments = {group: [] for group in shown}
    # The safety review (issue #23): a flagged comment only once published (as typed) or
    # redacted; never while pending or withheld.
    for group, text, decision, found in (
        Rating.objects.filter(round=round_, objective=objective, professional_group__in=shown)
        .exclude(comment="")
        .values_list("professional_group", "comment", "comment_review__decision", "comment_review__found")
    ):
        if decision is None or decision == CommentDecision.PUBLISH:
            comments[group].append(text)
        elif decision == CommentDecision.REDACT:
            comments[group].append(redact(text, [Finding(f["kind"], f["start"], f["end"], "") for f in found]))
    return {group: sorted(texts, key=str.casefold) for group, texts in comments.items()}
