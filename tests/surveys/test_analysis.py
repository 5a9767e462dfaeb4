"""The query layer of the divergence analysis (surveys/analysis.py): a round's analysis equals the
pure functions applied to its ratings listed by hand; a fixed number of queries whatever the size
of the trust and its history; the 12-period history; rounds without ratings, retired objectives,
people who changed group, and the directorate view keeping trust-wide q-values (DESIGN.md §5)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled
from scipy.stats import false_discovery_control

from surveys import divergence
from surveys.analysis import HISTORY_PERIODS, round_analysis, thresholds_of
from surveys.divergence import BOARD, CLINICAL, GROUPS, INSUFFICIENT, MANAGERIAL, OPERATIONAL, ScoreRow
from surveys.models import PulseResponse, Rating, RatingRound
from surveys.services.ratings import Answer, ratings_save
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory, TrustFactory

from .conftest import FEBRUARY, LONDON, MARCH

D = Decimal


def rate(round_, objective, group, level, scores):
    """Store one rating per score (None: can't judge) from anonymous raters of `group`/`level`;
    returns the same ratings as ScoreRows, listed by hand for the pure functions."""
    with scopes_disabled():
        for score in scores:
            Rating.objects.create(
                trust=round_.trust,
                round=round_,
                objective=objective,
                professional_group=group,
                level=level,
                score=score,
            )
    return [ScoreRow(objective.pk, group, level, score) for score in scores]


def rate_many(round_, objective, group, level, scores):
    """As rate(), in one INSERT (for the large trusts of the query-count test)."""
    with scopes_disabled():
        Rating.objects.bulk_create(
            Rating(
                trust=round_.trust, round=round_, objective=objective, professional_group=group, level=level, score=s
            )
            for s in scores
        )


def analyse(round_):
    with scope(trust=round_.trust):
        return round_analysis(round_)


def as_tuple(result):
    """The result as compared with the pure functions: every number of the professional groups,
    the test and the status, and the Davies groups' numbers where the analysis shows them. (The
    analysis decides the Davies cells with the whole round and who belongs where: it may show a
    Davies cell beside an empty sibling, or hide one more that the response counts would pin.)"""
    groups = tuple((g, result.groups[g].n, result.groups[g].mean) for g in ("clinical", "managerial"))
    return (groups, result.gap, result.p_value, result.effect_size, result.q_value, result.status)


def assert_same(got, pure, rows):
    assert as_tuple(got) == as_tuple(pure)
    for group in GROUPS:
        if got.groups[group].mean is not None:  # shown: exactly the pure computation of that group
            scores = [
                r.score
                for r in rows
                for _ in range(r.count)
                if r.objective == pure.objective
                and r.score is not None
                and group in (r.professional_group, divergence.davies_group(r.professional_group, r.level))
            ]
            assert got.groups[group].n == len(scores)
            assert got.groups[group].mean == divergence.quantize(divergence.exact_mean(scores), divergence.TWO)


def by_pk(results):
    return {(r.objective.pk if hasattr(r.objective, "pk") else r.objective): r for r in results}


def month(index):
    """The first of the month `index` months before March 2026 (0 = March 2026)."""
    total = 2026 * 12 + 2 - index
    return date(total // 12, total % 12 + 1, 1)


# --- the analysis is the pure functions applied to the round's ratings ----------------------------


def test_round_analysis_matches_the_pure_functions_on_the_same_ratings(trust, other_trust, march_round, february_round):
    o1, o2, o3, o4 = (ObjectiveFactory(trust=trust, status="agreed", ref=f"OBJ-{i}") for i in (1, 2, 3, 4))
    draft = ObjectiveFactory(trust=trust, status="draft", ref="OBJ-9")
    rows = []
    rows += rate(march_round, o1, CLINICAL, OPERATIONAL, [5, 4, 5, 4, 5, None])
    rows += rate(march_round, o1, CLINICAL, BOARD, [5, 5, 4, 5, 5])
    rows += rate(march_round, o1, MANAGERIAL, BOARD, [2, 3, 2, 3, 2, 1])
    rows += rate(march_round, o1, MANAGERIAL, OPERATIONAL, [3, 2])
    rows += rate(march_round, o2, CLINICAL, OPERATIONAL, [3, 3, 4, 4, 3])
    rows += rate(march_round, o2, MANAGERIAL, OPERATIONAL, [3, 4, 3, 4, 4, 4, None])
    rows += rate(march_round, o3, CLINICAL, OPERATIONAL, [4, 4])
    rows += rate(march_round, o3, MANAGERIAL, BOARD, [1, 1, 1, 1, 1])
    # o4 agreed but unrated. Noise that must not count: February's ratings, another trust's.
    rate(february_round, o1, CLINICAL, OPERATIONAL, [1] * 6)
    rate(february_round, o1, MANAGERIAL, OPERATIONAL, [5] * 6)
    other_round = round_get_or_create(trust=other_trust, period=MARCH)
    other = ObjectiveFactory(trust=other_trust, status="agreed")
    rate(other_round, other, CLINICAL, OPERATIONAL, [1] * 6)
    rate(other_round, other, MANAGERIAL, OPERATIONAL, [5] * 6)

    analysis = analyse(march_round)

    expected = divergence.round_results(rows, divergence.Thresholds(), objectives=[o1.pk, o2.pk, o3.pk, o4.pk])
    assert thresholds_of(trust) == divergence.Thresholds()
    got = by_pk(analysis.results)
    assert set(got) == {o1.pk, o2.pk, o3.pk, o4.pk}  # not the draft, nor the other trust's
    assert draft.pk not in got
    for result in expected:
        assert_same(got[result.objective], result, rows)
    assert got[o4.pk].status == INSUFFICIENT and got[o4.pk].n_clinical is None  # hidden: no count
    assert [r.objective for r in analysis.results] == [
        r.objective for r in divergence.sorted_for_attention([got[pk] for pk in got])
    ]
    assert sum(analysis.counts.values()) == 4
    assert analysis.counts[INSUFFICIENT] == sum(r.status == INSUFFICIENT for r in expected)
    # The trend against February: o1's gap then was 1.00 − 5.00 = −4.00.
    assert got[o1.pk].trend == got[o1.pk].gap - D("-4.00")
    assert analysis.history[o1.pk] == [(FEBRUARY, D("-4.00")), (MARCH, got[o1.pk].gap)]


def test_the_trusts_thresholds_are_used(trust, march_round):
    trust.min_group_size = 3
    trust.divergent_gap = D("0.60")
    trust.watch_gap = D("0.30")
    trust.save()
    objective = ObjectiveFactory(trust=trust, status="agreed")
    rows = rate(march_round, objective, CLINICAL, OPERATIONAL, [5, 5, 5, 4])
    rows += rate(march_round, objective, MANAGERIAL, OPERATIONAL, [4, 4, 4])
    analysis = analyse(march_round)
    expected = divergence.round_results(rows, thresholds_of(trust), objectives=[objective.pk])
    assert_same(analysis.results[0], expected[0], rows)
    assert analysis.results[0].mean_managerial == D("4.00")  # 3 people: shown with this trust's minimum
    assert analysis.thresholds.min_group_size == 3


# --- a fixed number of queries ---------------------------------------------------------------------------


def build_trust(code, n_objectives, n_raters, n_previous):
    """A trust with `n_objectives` agreed objectives, each rated by `n_raters` people (half
    clinical, half managerial) in March 2026 and in each of the `n_previous` months before, and a
    pulse response from each rater. Returns the March round."""
    trust = TrustFactory(code=code)
    objectives = [ObjectiveFactory(trust=trust, status="agreed") for _ in range(n_objectives)]
    march = None
    for index in range(n_previous, -1, -1):
        round_ = round_get_or_create(trust=trust, period=month(index))
        for i, objective in enumerate(objectives):
            half = n_raters // 2
            rate_many(round_, objective, CLINICAL, OPERATIONAL, [(i + k + index) % 5 + 1 for k in range(half)])
            rate_many(round_, objective, MANAGERIAL, BOARD, [(i + 2 * k) % 5 + 1 for k in range(n_raters - half)])
        with scopes_disabled():
            PulseResponse.objects.bulk_create(
                PulseResponse(
                    trust=trust,
                    round=round_,
                    professional_group=CLINICAL if k % 2 else MANAGERIAL,
                    level=OPERATIONAL,
                    quality=k % 5 + 1,
                    outlook="same",
                    category="tension",
                    statements={"involvement": 3},
                )
                for k in range(n_raters)
            )
        march = round_
    return march


def count_queries(round_):
    with scope(trust=round_.trust), CaptureQueriesContext(connection) as captured:
        analysis = round_analysis(round_)
    return len(captured.captured_queries), analysis


def test_the_number_of_queries_does_not_grow_with_the_trust(db, mid_march, django_assert_max_num_queries):
    small_round = build_trust("SML", n_objectives=3, n_raters=10, n_previous=1)
    big_round = build_trust("BIG", n_objectives=12, n_raters=60, n_previous=12)
    with scopes_disabled():  # fresh instances: the trust is not cached on either
        small_round = RatingRound.objects.get(pk=small_round.pk)
        big_round = RatingRound.objects.get(pk=big_round.pk)
    small, small_analysis = count_queries(small_round)
    big, big_analysis = count_queries(big_round)
    assert len(small_analysis.results) == 3 and len(small_analysis.periods) == 2
    assert len(big_analysis.results) == 12 and len(big_analysis.periods) == HISTORY_PERIODS
    assert all(r.status != INSUFFICIENT for r in big_analysis.results)  # every objective really computed
    # rounds of the history (with their reports), the ratings' and the pulse's versions, the response
    # cells of every round (one query: a round is decided with its response counts), then, not cached
    # yet, the counted scores, the pulse rows and the objectives' directorates; the round's objectives
    assert small == big == 8
    with scopes_disabled():
        big_round = RatingRound.objects.get(pk=big_round.pk)
    # 1 for the trust, 5 for the analysis: the decisions now come from the cache
    with django_assert_max_num_queries(6), scope(trust=big_round.trust):
        analysis = round_analysis(big_round)
        # Reading the results as the pages do costs nothing more.
        for result in analysis.results:
            str(result.objective), result.objective.directorate_id, result.objective.ref
        analysis.for_directorate(None)


# --- history -----------------------------------------------------------------------------------------------


def test_history_holds_twelve_periods_oldest_first_with_none_where_not_rated(trust, mid_march):
    steady = ObjectiveFactory(trust=trust, status="agreed", ref="OBJ-1")
    patchy = ObjectiveFactory(trust=trust, status="agreed", ref="OBJ-2")
    rounds = {index: round_get_or_create(trust=trust, period=month(index)) for index in range(14, -2, -1)}
    # index 14 = January 2025 … 0 = March 2026, −1 = April 2026 (after the round analysed)
    expected_gap = {}
    for index, round_ in rounds.items():
        # Clinicians' scores fall by one point every other month: gap = clinical mean − 2.00.
        clinical = [5 - (index % 3)] * 5 + [5] * (index % 2)
        rows = rate(round_, steady, CLINICAL, OPERATIONAL, clinical)
        rows += rate(round_, steady, MANAGERIAL, OPERATIONAL, [2] * 5)
        expected_gap[index] = divergence.round_results(rows)[0].gap
        if index % 4 == 1:  # patchy: rated in a few months only
            rate(round_, patchy, CLINICAL, OPERATIONAL, [4] * 5)
            rate(round_, patchy, MANAGERIAL, OPERATIONAL, [3] * 5)
        elif index % 4 == 2:  # rated, but managers too few: no gap that month
            rate(round_, patchy, CLINICAL, OPERATIONAL, [4] * 5)
            rate(round_, patchy, MANAGERIAL, OPERATIONAL, [3] * 2)

    analysis = analyse(rounds[0])

    periods = [month(index) for index in range(11, -1, -1)]  # April 2025 … March 2026
    assert [p.period for p in analysis.periods] == periods
    assert [period for period, _ in analysis.history[steady.pk]] == periods
    assert [gap for _, gap in analysis.history[steady.pk]] == [expected_gap[index] for index in range(11, -1, -1)]
    patchy_gaps = dict(analysis.history[patchy.pk])
    for index in range(11, -1, -1):
        assert patchy_gaps[month(index)] == (D("1.00") if index % 4 == 1 else None)
    result = by_pk(analysis.results)[steady.pk]
    assert result.gap == expected_gap[0]
    assert result.trend == expected_gap[0] - expected_gap[1]
    assert result.widening == divergence.trend([expected_gap[i] for i in (2, 1, 0)])[1]
    # A round with less history before it: as many periods as there are.
    early = analyse(rounds[13])
    assert [p.period for p in early.periods] == [month(14), month(13)]
    assert len(early.history[steady.pk]) == 2


def test_widening_from_the_stored_history(trust, mid_march):
    objective = ObjectiveFactory(trust=trust, status="agreed")
    for index, clinical in ((2, 3), (1, 4), (0, 5)):  # gaps 1.00, 2.00, 3.00
        round_ = round_get_or_create(trust=trust, period=month(index))
        rate(round_, objective, CLINICAL, OPERATIONAL, [clinical] * 5)
        rate(round_, objective, MANAGERIAL, OPERATIONAL, [2] * 5)
    result = analyse(round_).results[0]
    assert (result.gap, result.trend, result.widening) == (D("3.00"), D("1.00"), True)


# --- edge cases -----------------------------------------------------------------------------------------------


def test_a_round_with_no_ratings(trust, march_round, agreed_objective):
    objectives = [agreed_objective() for _ in range(3)]
    ObjectiveFactory(trust=trust, status="draft")
    analysis = analyse(march_round)
    assert {r.objective.pk for r in analysis.results} == {o.pk for o in objectives}
    for result in analysis.results:
        assert result.status == INSUFFICIENT
        assert {g: s.n for g, s in result.groups.items()} == dict.fromkeys(GROUPS)  # hidden: no count
        assert result.q_value is None and result.trend is None and result.widening is False
    assert analysis.counts == {"divergent": 0, "watch": 0, "aligned": 0, "insufficient": 3}
    assert all(group.n is None for group in analysis.pulse.groups.values())
    assert analysis.pulse.quality_gap is None


def test_objectives_agreed_after_a_round_closed_are_not_listed_in_it(trust, february_round, agreed_objective):
    agreed_objective()  # agreed today, 10 March: after February's round closed on the 14th of February
    earlier = agreed_objective(agreed_at=datetime(2026, 2, 1, 9, tzinfo=LONDON))
    analysis = analyse(february_round)
    assert [r.objective.pk for r in analysis.results] == [earlier.pk]


def test_an_objective_retired_mid_year(trust, mid_march):
    january = round_get_or_create(trust=trust, period=date(2026, 1, 1))
    march = round_get_or_create(trust=trust, period=MARCH)
    kept = ObjectiveFactory(trust=trust, status="agreed", ref="OBJ-1")
    retired = ObjectiveFactory(trust=trust, status="agreed", ref="OBJ-2")
    rows = rate(january, retired, CLINICAL, OPERATIONAL, [5, 5, 4, 5, 5, 4])
    rows += rate(january, retired, MANAGERIAL, OPERATIONAL, [2, 2, 3, 2, 1, 2])
    rows_kept = rate(january, kept, CLINICAL, OPERATIONAL, [3] * 5) + rate(january, kept, MANAGERIAL, BOARD, [3] * 5)
    rate(march, kept, CLINICAL, OPERATIONAL, [4] * 5)
    rate(march, kept, MANAGERIAL, BOARD, [3] * 5)
    retired.status = "retired"
    retired.save()

    this_round = analyse(march)
    assert [r.objective.pk for r in this_round.results] == [kept.pk]
    assert set(this_round.history) == {kept.pk}

    then = analyse(january)
    got = by_pk(then.results)
    assert set(got) == {kept.pk, retired.pk}
    expected = by_pk(divergence.round_results(rows + rows_kept))
    assert_same(got[retired.pk], expected[retired.pk], rows + rows_kept)
    assert got[retired.pk].status == "divergent"


def test_people_who_changed_group_count_in_the_group_they_rated_in(trust, mid_march):
    february = round_get_or_create(trust=trust, period=FEBRUARY)
    march = round_get_or_create(trust=trust, period=MARCH)
    objective = ObjectiveFactory(trust=trust, status="agreed")
    doctors = [MembershipFactory(trust=trust) for _ in range(8)]  # clinical, operational
    managers = [MembershipFactory(trust=trust, directorate_manager=True) for _ in range(6)]
    in_february = datetime(2026, 2, 10, 12, tzinfo=LONDON)
    for person in doctors:
        ratings_save(round=february, membership=person, answers={objective.pk: Answer(5)}, now=in_february)
    for person in managers:
        ratings_save(round=february, membership=person, answers={objective.pk: Answer(2)}, now=in_february)
    before = analyse(february).results[0]
    assert (before.n_clinical, before.n_managerial) == (8, 6)
    assert (before.mean_clinical, before.mean_managerial, before.gap) == (D("5.00"), D("2.00"), D("3.00"))

    # Three doctors become board-level managers (say, a clinical director turned chief operating officer).
    for person in doctors[:3]:
        person.professional_group, person.level, person.role = MANAGERIAL, BOARD, "chief_executive"
        person.save()
    for person in doctors + managers:
        ratings_save(round=march, membership=person, answers={objective.pk: Answer(4)})

    after = analyse(february).results[0]
    # The ratings keep the groups they were given in: the professional groups' results are as they
    # were. (Which Davies cells may be shown can change while a round is not yet reported, since
    # the response counts it is decided with follow today's people; a reported round is frozen.)
    assert [(g, after.groups[g]) for g in ("clinical", "managerial")] == [
        (g, before.groups[g]) for g in ("clinical", "managerial")
    ]
    assert (after.gap, after.p_value, after.status) == (before.gap, before.p_value, before.status)
    now = analyse(march).results[0]
    assert (now.n_clinical, now.n_managerial) == (5, 9)
    assert now.groups["senior_nonclinical"].n is None  # 3 < 5: not even its count
    assert now.groups["senior_nonclinical"].mean is None  # 3 < 5, and 6 operational managers hidden too
    assert now.groups["operational_nonclinical"].mean is None
    assert analyse(march).history[objective.pk][0] == (FEBRUARY, D("3.00"))


def test_the_directorate_view_keeps_trust_wide_q_values(trust, march_round, medicine, surgery):
    data = {
        ("OBJ-1", None): ([5, 5, 4, 5, 4, 5], [2, 3, 2, 1, 2, 3]),
        ("OBJ-2", None): ([3, 4, 3, 4, 3, 4], [3, 3, 4, 3, 4, 3]),
        ("OBJ-3", medicine): ([4, 4, 5, 4, 3, 4], [3, 3, 4, 2, 3, 3]),
        ("OBJ-4", medicine): ([2, 3, 4, 3, 3, 5], [3, 2, 4, 3, 2, 3]),
        ("OBJ-5", medicine): ([4, 4], [1, 1, 1, 1, 1]),  # insufficient
        ("OBJ-6", surgery): ([5, 4, 5, 5, 4, 5], [4, 3, 4, 4, 3, 5]),
    }
    objectives = {}
    for (ref, directorate), (clinical, managerial) in data.items():
        objective = ObjectiveFactory(trust=trust, status="agreed", ref=ref, directorate=directorate)
        rate(march_round, objective, CLINICAL, OPERATIONAL, clinical)
        rate(march_round, objective, MANAGERIAL, OPERATIONAL, managerial)
        objectives[ref] = objective
    full = analyse(march_round)
    medicine_view = full.for_directorate(medicine.pk)
    assert {r.objective.ref for r in medicine_view.results} == {"OBJ-3", "OBJ-4", "OBJ-5"}
    assert [r.objective.ref for r in medicine_view.results] == [
        r.objective.ref for r in full.results if r.objective.directorate_id == medicine.pk
    ]
    full_q = {r.objective.ref: r.q_value for r in full.results}
    for result in medicine_view.results:
        assert result.q_value == full_q[result.objective.ref]
    # Adjusting over Medicine's p-values alone would give different q-values.
    tested = [r for r in medicine_view.results if r.raw_p is not None]
    local_q = false_discovery_control([r.raw_p for r in tested])
    assert any(D(float(q)).quantize(D("0.0001")) != r.q_value for r, q in zip(tested, local_q, strict=True))
    assert medicine_view.counts[INSUFFICIENT] == 1
    assert sum(medicine_view.counts.values()) == 3
    assert sum(full.counts.values()) == 6
    assert medicine_view.pulse is full.pulse and medicine_view.history is full.history
    assert [r.objective.ref for r in full.for_directorate(surgery.pk).results] == ["OBJ-6"]
    # Trust-wide objectives are not any directorate's.
    assert {r.objective.ref for r in full.for_directorate(None).results} == {"OBJ-1", "OBJ-2"}


@pytest.mark.parametrize("minimum", [5, 7])
def test_suppression_in_the_analysis_follows_the_trust(trust, march_round, minimum):
    trust.min_group_size = minimum
    trust.save()
    objective = ObjectiveFactory(trust=trust, status="agreed")
    rate(march_round, objective, CLINICAL, OPERATIONAL, [5] * 6)
    rate(march_round, objective, MANAGERIAL, OPERATIONAL, [2] * 6)
    result = analyse(march_round).results[0]
    if minimum == 5:
        assert result.gap == D("3.00")
    else:
        assert (result.mean_clinical, result.gap, result.status) == (None, None, INSUFFICIENT)
