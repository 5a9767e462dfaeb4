"""Divergence, hand-computed (DESIGN.md §5): means and gaps, counts, the Mann–Whitney p and
effect size against scipy, Benjamini–Hochberg q-values, the status thresholds, suppression of
small groups and of Davies sub-groups that would be revealed by subtraction, trends and the
order of attention. Pure functions: no database."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from scipy.stats import false_discovery_control, mannwhitneyu

from surveys.divergence import (
    ALIGNED,
    BOARD,
    CLINICAL,
    DIVERGENT,
    GROUPS,
    INSUFFICIENT,
    MANAGERIAL,
    OPERATIONAL,
    WATCH,
    GroupStat,
    ObjectiveResult,
    ScoreRow,
    Thresholds,
    round_results,
    sorted_for_attention,
    status_for,
    trend,
    visible_groups,
    with_trends,
)

D = Decimal


def rows(objective, group, level, scores):
    return [ScoreRow(objective, group, level, score) for score in scores]


def pair(clinical, managerial, objective="A", clinical_level=OPERATIONAL, managerial_level=OPERATIONAL):
    """Rows of one objective: `clinical` scores from clinicians, `managerial` from managers."""
    return rows(objective, CLINICAL, clinical_level, clinical) + rows(
        objective, MANAGERIAL, managerial_level, managerial
    )


def only(results):
    assert len(results) == 1
    return results[0]


def p4(value):
    return D(float(value)).quantize(D("0.0001"), rounding=ROUND_HALF_UP)


def r3(statistic, n_c, n_m):
    """The rank-biserial r computed exactly (U is a multiple of 0.5), rounded half-up to 3 places."""
    exact = 2 * D(float(statistic)) / D(n_c * n_m) - 1
    return exact.quantize(D("0.001"), rounding=ROUND_HALF_UP)


def scipy_p_r(clinical, managerial):
    test = mannwhitneyu(clinical, managerial, alternative="two-sided")
    return p4(test.pvalue), r3(test.statistic, len(clinical), len(managerial))


# --- means, gap, counts ---------------------------------------------------------------------------


def test_means_round_half_up_and_the_gap_is_the_difference_of_the_shown_means():
    clinical = [1, 1, 2, 2, 2, 3, 3, 3]  # 17 / 8 = 2.125 exactly -> 2.13 half-up (float round() gives 2.12)
    managerial = [1, 1, 1, 1, 2, 2]  # 8 / 6 = 1.3333… -> 1.33
    result = only(round_results(pair(clinical, managerial)))
    assert result.mean_clinical == D("2.13")
    assert result.mean_managerial == D("1.33")
    # 2.13 − 1.33 = 0.80 (the exact difference 2.125 − 1.3333… = 0.7917 would round to 0.79):
    # a reader subtracting the two columns gets the gap shown.
    assert result.gap == D("0.80")
    assert str(result.mean_clinical) == "2.13" and str(result.gap) == "0.80"  # always 2 places


def test_means_are_exact_not_binary_floats():
    # 40 clinicians, 37 ones and 3 twos: 43/40 = 1.075 exactly -> 1.08. As a float 43/40 is
    # 1.07499999999999995559…, which would round to 1.07.
    data = [
        ScoreRow("A", CLINICAL, OPERATIONAL, 1, 37),
        ScoreRow("A", CLINICAL, OPERATIONAL, 2, 3),
        ScoreRow("A", MANAGERIAL, OPERATIONAL, 1, 40),
    ]
    result = only(round_results(data))
    assert result.mean_clinical == D("1.08")
    assert result.gap == D("0.08")


def test_gap_is_negative_when_managers_see_more_progress():
    result = only(round_results(pair([2, 2, 2, 2, 2], [3, 3, 3, 4, 4])))  # 2.00 − 3.40
    assert result.gap == D("-1.40")


def test_counts_leave_out_cant_judge():
    clinical = [4, 4, 5, 3, 4, None, None, None]  # 5 scores, 3 "can't judge"
    managerial = [2, None, 3, 3, 2, 2, 1]  # 6 scores
    result = only(round_results(pair(clinical, managerial)))
    assert (result.n_clinical, result.n_managerial) == (5, 6)
    assert result.mean_clinical == D("4.00")  # 20 / 5: the blanks are not zeros
    assert result.mean_managerial == D("2.17")  # 13 / 6 = 2.1666…
    p, r = scipy_p_r([4, 4, 5, 3, 4], [2, 3, 3, 2, 2, 1])
    assert (result.p_value, result.effect_size) == (p, r)


# --- Mann–Whitney p and effect size ------------------------------------------------------------------


def test_p_value_and_effect_size_are_scipys_mann_whitney():
    clinical = [4, 5, 5, 3, 4, 5]
    managerial = [2, 3, 1, 2, 3, 4, 2]
    # U_C by hand, C sorted 3 4 4 5 5 5, M sorted 1 2 2 2 3 3 4 (a win counts 1, a tie ½):
    #   3: beats 1,2,2,2 (4) + ties 3,3 (1)   = 5
    #   4: beats 1,2,2,2,3,3 (6) + ties 4 (½) = 6.5, twice = 13
    #   5: beats all 7                        = 7, three times = 21
    # U_C = 39, r = 2·39/(6·7) − 1 = 36/42 = 0.857142… -> 0.857
    test = mannwhitneyu(clinical, managerial, alternative="two-sided")
    assert float(test.statistic) == 39.0
    result = only(round_results(pair(clinical, managerial)))
    assert result.effect_size == D("0.857")
    assert result.p_value == p4(test.pvalue)
    assert result.p_value.as_tuple().exponent == -4


def test_effect_size_is_negative_when_managers_rate_higher():
    clinical, managerial = [1, 2, 2, 3, 1], [4, 5, 3, 4, 4]
    result = only(round_results(pair(clinical, managerial)))
    assert result.effect_size == scipy_p_r(clinical, managerial)[1]
    assert result.effect_size < 0


@pytest.mark.parametrize(
    ("clinical", "managerial", "expected"),
    [
        # C = 3 5 5 5 5 5 5 5 (8), M = 1 3 5 5 5 5 5 5 5 5 (10):
        #   3: beats 1 (1) + ties 3 (½) = 1.5; each 5: beats 1,3 (2) + ties eight 5s (4) = 6, ×7 = 42
        #   U_C = 43.5, r = 87/80 − 1 = 7/80 = 0.0875 exactly -> 0.088 half-up
        ([3, *[5] * 7], [1, 3, *[5] * 8], D("0.088")),
        # C as above, M = 1 5 5 5 5 5 5 5 5 5 (10):
        #   3: beats 1 = 1; each 5: beats 1 (1) + ties nine 5s (4.5) = 5.5, ×7 = 38.5
        #   U_C = 39.5, r = 79/80 − 1 = −1/80 = −0.0125 exactly -> −0.013 (half away from zero, so that
        #   swapping the groups only flips the sign)
        ([3, *[5] * 7], [1, *[5] * 9], D("-0.013")),
    ],
)
def test_effect_size_rounds_half_up_from_the_exact_value(clinical, managerial, expected):
    """The module rounds 'ROUND_HALF_UP from exact values'; r is a ratio of integers and half-integers
    so its exact value is known. Computed through binary floats 0.0875 becomes 0.08749999999999991."""
    result = only(round_results(pair(clinical, managerial)))
    assert result.effect_size == expected
    assert r3(mannwhitneyu(clinical, managerial).statistic, len(clinical), len(managerial)) == expected


def test_identical_scores_in_both_groups_give_p_one_and_no_effect():
    result = only(round_results(pair([3] * 6, [3] * 7)))
    assert result.gap == D("0.00")
    assert result.p_value == D("1.0000")
    assert result.q_value == D("1.0000")
    assert result.effect_size == D("0.000")
    assert result.status == ALIGNED


def test_all_scores_tied_but_different_between_groups():
    # No variation inside either group: scipy's asymptotic p with the tie correction; U_C = 36 = n_C·n_M.
    result = only(round_results(pair([4] * 6, [2] * 6)))
    test = mannwhitneyu([4] * 6, [2] * 6, alternative="two-sided")
    assert result.p_value == p4(test.pvalue)
    assert result.effect_size == D("1.000")
    assert result.gap == D("2.00")


# --- q-values ---------------------------------------------------------------------------------------------


def test_q_values_are_benjamini_hochberg_over_the_raw_p_values_of_the_tested_objectives():
    data = {
        "A": ([5, 5, 4, 5, 4, 5, 4], [2, 3, 2, 1, 2, 3]),
        "B": ([3, 4, 3, 4, 3, 2], [3, 3, 2, 3, 4, 2, 2]),
        "C": ([4, 4, 3, 5, 4, 4], [3, 3, 4, 2, 3, 3]),
        "D": ([4, 4, 4, 4], [1, 1, 1, 1, 1, 1]),  # clinicians 4 < 5: not tested, not in the adjustment
    }
    all_rows = [row for objective, (c, m) in data.items() for row in pair(c, m, objective)]
    results = {r.objective: r for r in round_results(all_rows)}
    raw = [float(mannwhitneyu(*data[o], alternative="two-sided").pvalue) for o in "ABC"]
    q = false_discovery_control(raw)
    for objective, raw_p, q_value in zip("ABC", raw, q, strict=True):
        assert results[objective].p_value == p4(raw_p)
        assert results[objective].q_value == p4(q_value)
        assert results[objective].q_value >= results[objective].p_value
    assert results["D"].p_value is None and results["D"].q_value is None
    assert results["D"].status == INSUFFICIENT


def test_q_values_adjust_the_raw_not_the_rounded_p_values():
    # Adjusting the 4-place p's could differ in the 4th place from adjusting the raw ones.
    data = {o: ([5, 4, 5, 4, 3, 5 - i % 2], [3, 2, 4, 3, 3, 2 + i % 3]) for i, o in enumerate("ABCDEFG")}
    all_rows = [row for objective, (c, m) in data.items() for row in pair(c, m, objective)]
    results = round_results(all_rows)
    raw = [float(mannwhitneyu(*data[r.objective], alternative="two-sided").pvalue) for r in results]
    assert [r.q_value for r in results] == [p4(q) for q in false_discovery_control(raw)]


def test_one_objective_only_its_q_is_its_p():
    result = only(round_results(pair([5, 4, 5, 4, 5], [3, 2, 4, 3, 3])))
    assert result.q_value == result.p_value


# --- status -----------------------------------------------------------------------------------------------


def test_gap_of_exactly_one_with_small_q_is_divergent():
    result = only(round_results(pair([4] * 10, [3] * 10)))  # 4.00 − 3.00, p ≈ 0.00001
    assert result.gap == D("1.00")
    assert result.q_value < D("0.05")
    assert result.status == DIVERGENT


def test_gap_of_exactly_minus_one_with_small_q_is_divergent():
    result = only(round_results(pair([3] * 10, [4] * 10)))
    assert result.gap == D("-1.00")
    assert result.status == DIVERGENT


def test_gap_just_under_one_with_small_q_is_watch():
    # 99 fours and a three: 399/100 = 3.99; managers all 3: gap 0.99
    clinical = [ScoreRow("A", CLINICAL, OPERATIONAL, 4, 99), ScoreRow("A", CLINICAL, OPERATIONAL, 3, 1)]
    managerial = [ScoreRow("A", MANAGERIAL, OPERATIONAL, 3, 100)]
    result = only(round_results(clinical + managerial))
    assert result.gap == D("0.99")
    assert result.q_value < D("0.05")
    assert result.status == WATCH


def test_gap_of_exactly_half_is_watch_and_just_under_is_aligned():
    watch = only(round_results(pair([3, 4] * 5, [3] * 10)))  # 3.50 − 3.00
    assert watch.gap == D("0.50")
    assert watch.status == WATCH
    # 49 fours and 51 threes: 349/100 = 3.49; gap 0.49
    rows_ = [
        ScoreRow("A", CLINICAL, OPERATIONAL, 4, 49),
        ScoreRow("A", CLINICAL, OPERATIONAL, 3, 51),
        ScoreRow("A", MANAGERIAL, OPERATIONAL, 3, 100),
    ]
    aligned = only(round_results(rows_))
    assert aligned.gap == D("0.49")
    assert aligned.status == ALIGNED


def test_q_of_exactly_0_05_is_not_divergent():
    # Found by search: scipy's p for these is 0.0500056…, shown 0.0500; the gap 5.00 − 3.83 = 1.17 is wide.
    clinical, managerial = [3, 5, 5, 5, 5, 5], [3, 3, 3, 3, 4, 5]
    result = only(round_results(pair(clinical, managerial)))
    assert result.gap == D("1.17")  # 28/6 = 4.666… -> 4.67; 21/6 = 3.5 -> 3.50
    assert result.q_value == D("0.0500")
    assert result.status == WATCH


def test_status_compares_the_shown_q_not_the_raw_one():
    # scipy's p is 0.049986… (< 0.05) but the q shown is 0.0500: a reader sees 0.0500 and "not divergent".
    clinical, managerial = [3, 3, 4, 4, 4, 5], [2, 2, 2, 2, 3, 3, 4, 4]
    assert float(mannwhitneyu(clinical, managerial).pvalue) < 0.05
    result = only(round_results(pair(clinical, managerial)))
    assert result.q_value == D("0.0500")
    assert abs(result.gap) >= 1
    assert result.status == WATCH


@pytest.mark.parametrize(
    ("gap", "q", "expected"),
    [
        ("1.00", "0.0499", DIVERGENT),
        ("-1.00", "0.0499", DIVERGENT),
        ("1.00", "0.0500", WATCH),
        ("0.99", "0.0001", WATCH),
        ("0.50", "0.9000", WATCH),
        ("-0.50", "0.9000", WATCH),
        ("0.49", "0.0001", ALIGNED),
        ("0.00", "1.0000", ALIGNED),
    ],
)
def test_status_boundaries(gap, q, expected):
    result = ObjectiveResult("A", {}, D(gap), D("0.01"), D("0.5"), q_value=D(q))
    assert status_for(result, Thresholds()) == expected


def test_custom_thresholds():
    thresholds = Thresholds(min_group_size=3, divergent_gap=D("0.80"), watch_gap=D("0.30"), q_threshold=D("0.0100"))
    data = {
        "big": ([5, 5, 5, 5, 5, 5, 5, 5], [4, 4, 4, 4, 4, 4, 4, 4, 4, 4]),  # gap 1.00, q tiny
        "mid": ([4, 4, 4, 4, 4, 4, 4, 4, 4, 4], [3, 3, 3, 4, 4, 4, 4, 4, 4, 4]),  # 4.00 − 3.70 = 0.30
        "small": ([4, 4, 3], [4, 3, 4]),  # n 3 = min 3: shown, gap 0.00
    }
    results = {
        r.objective: r for r in round_results([r for o, (c, m) in data.items() for r in pair(c, m, o)], thresholds)
    }
    assert results["big"].status == DIVERGENT
    assert results["mid"].gap == D("0.30") and results["mid"].status == WATCH
    assert results["small"].mean_clinical == D("3.67") and results["small"].status == ALIGNED
    # The default thresholds: "mid" is aligned (0.30 < 0.50) and "small" is suppressed (3 < 5).
    default = {r.objective: r for r in round_results([r for o, (c, m) in data.items() for r in pair(c, m, o)])}
    assert default["mid"].status == ALIGNED
    assert default["small"].status == INSUFFICIENT and default["small"].mean_clinical is None


def test_the_q_threshold_is_the_trusts():
    clinical, managerial = [5, 5, 4, 5, 4, 5, 4], [3, 4, 3, 4, 4, 5, 3]
    # 32/7 = 4.571… -> 4.57, 26/7 = 3.714… -> 3.71, gap 0.86; scipy's p ≈ 0.047, between 0.01 and 0.05
    p = float(mannwhitneyu(clinical, managerial).pvalue)
    assert 0.01 < p < 0.05
    strict = only(round_results(pair(clinical, managerial), Thresholds(divergent_gap=D("0.80"), q_threshold=D("0.01"))))
    loose = only(round_results(pair(clinical, managerial), Thresholds(divergent_gap=D("0.80"))))
    assert strict.gap == loose.gap == D("0.86")
    assert strict.status == WATCH
    assert loose.status == DIVERGENT


# --- suppression --------------------------------------------------------------------------------------------


def test_insufficient_when_either_group_is_below_the_minimum():
    result = only(round_results(pair([5, 5, 5, 5, 5], [1, 1, 1, 1])))  # managers 4 < 5
    assert result.status == INSUFFICIENT
    assert result.mean_clinical == D("5.00")  # 5 clinicians may be shown
    assert result.mean_managerial is None
    assert (result.gap, result.p_value, result.q_value, result.effect_size) == (None, None, None, None)
    assert result.n_managerial is None  # a hidden group's n is never published (not "n 4")


def test_a_group_that_all_answered_cant_judge_is_hidden_and_insufficient():
    result = only(round_results(pair([4, 4, 4, 4, 4], [None] * 9)))
    assert result.n_managerial is None  # not "n 0": that would say what every manager answered
    assert result.mean_managerial is None
    assert result.status == INSUFFICIENT
    assert result.q_value is None and result.effect_size is None


def test_objectives_given_without_rows_are_listed_as_insufficient_with_no_counts():
    results = round_results(pair([5, 4, 5, 4, 5], [2, 3, 2, 3, 2], "B"), objectives=["A", "B", "C"])
    assert [r.objective for r in results] == ["A", "B", "C"]
    for result in (results[0], results[2]):
        assert result.status == INSUFFICIENT
        assert {group: stat.n for group, stat in result.groups.items()} == dict.fromkeys(GROUPS)
        assert all(stat.mean is None for stat in result.groups.values())
        assert (result.gap, result.p_value, result.q_value, result.effect_size) == (None, None, None, None)
    assert results[1].q_value == results[1].p_value  # the only tested objective: BH over one p


def test_objectives_given_come_first_then_others_in_order_of_appearance():
    data = pair([4] * 5, [4] * 5, "Z") + pair([4] * 5, [4] * 5, "Y")
    assert [r.objective for r in round_results(data, objectives=["X", "Y"])] == ["X", "Y", "Z"]


def test_davies_groups_get_the_same_means_and_suppression():
    data = pair([5, 5, 4, 4, 4], [3, 3, 3, 2, 2], clinical_level=BOARD, managerial_level=BOARD)
    data += pair([2, 2, 2, 3, 3, 3], [1, 1, 1], clinical_level=OPERATIONAL, managerial_level=OPERATIONAL)
    result = only(round_results(data))
    groups = result.groups
    assert groups["senior_clinical"] == GroupStat(5, D("4.40"))
    assert groups["operational_clinical"] == GroupStat(6, D("2.50"))
    assert groups[CLINICAL] == GroupStat(11, D("3.36"))  # 37 / 11 = 3.3636…
    # Managers: board 5 shown alone would let operational (3 people) be worked out from the total of 8
    # -> both Davies managerial groups hidden, the professional group shown.
    assert groups[MANAGERIAL] == GroupStat(8, D("2.00"))  # (13 + 3) / 8
    assert groups["senior_nonclinical"].mean is None
    assert groups["operational_nonclinical"].mean is None


def test_a_hidden_sibling_with_nobody_scoring_still_hides_the_other():
    data = pair([4, 4, 4, 5, 5, 5], [2, 2, 2, 3, 3], clinical_level=OPERATIONAL, managerial_level=BOARD)
    # Senior clinicians: two can't judge only. Showing operational clinicians (6) beside clinicians (6)
    # would say that no senior clinician gave a score: "n 0" is something a small group did.
    data += rows("A", CLINICAL, BOARD, [None, None])
    result = only(round_results(data))
    assert result.groups[CLINICAL] == GroupStat(6, D("4.50"))
    assert result.groups["senior_clinical"] == GroupStat(None, None)
    assert result.groups["operational_clinical"] == GroupStat(None, None)
    assert result.groups["senior_nonclinical"] == GroupStat(None, None)
    assert result.groups["operational_nonclinical"] == GroupStat(None, None)


def test_a_hidden_sibling_with_people_in_it_hides_both_siblings():
    data = pair([4, 4, 4, 5, 5, 5], [2, 2, 2, 3, 3]) + rows("A", CLINICAL, BOARD, [1, 1])
    result = only(round_results(data))
    assert result.groups[CLINICAL] == GroupStat(8, D("3.63"))  # 29 / 8 = 3.625 -> 3.63 half-up
    assert result.groups["senior_clinical"] == GroupStat(None, None)
    # 6 operational clinicians would be shown (4.50), but 29 − 6·4.50 = 2 would give the 2 seniors' scores.
    assert result.groups["operational_clinical"] == GroupStat(None, None)
    assert result.status != INSUFFICIENT  # the professional groups are still compared


def test_two_small_siblings_whose_total_is_large_enough_show_only_the_total():
    data = rows("A", CLINICAL, BOARD, [3, 3, 3]) + rows("A", CLINICAL, OPERATIONAL, [5, 5, 5])
    data += rows("A", MANAGERIAL, OPERATIONAL, [3] * 5)
    result = only(round_results(data))
    assert result.groups[CLINICAL] == GroupStat(6, D("4.00"))
    assert result.groups["senior_clinical"].mean is None
    assert result.groups["operational_clinical"].mean is None


def test_visible_groups():
    counts = {CLINICAL: 8, "senior_clinical": 2, "operational_clinical": 6, MANAGERIAL: 5, "senior_nonclinical": 5}
    # Managers: 5 seniors and 0 operational; showing the seniors beside the total would say that no
    # operational manager scored.
    assert visible_groups(counts, 5) == {CLINICAL, MANAGERIAL}
    assert visible_groups({CLINICAL: 4, "senior_clinical": 4}, 5) == set()
    # Operational clinicians 0: showing the seniors beside the total would say so.
    assert visible_groups({CLINICAL: 4, "senior_clinical": 4}, 3) == {CLINICAL}
    assert visible_groups({}, 5) == set()


# --- trend -----------------------------------------------------------------------------------------------------


def test_trend_is_this_gap_minus_the_last():
    assert trend([D("0.50"), D("0.80")]) == (D("0.30"), False)
    assert trend([D("-0.50"), D("0.25")]) == (D("0.75"), False)
    assert trend([D("1.20"), D("0.40")]) == (D("-0.80"), False)


def test_trend_is_blank_when_either_gap_is_blank():
    assert trend([None, D("0.80")]) == (None, False)
    assert trend([D("0.80"), None]) == (None, False)
    assert trend([D("0.80")]) == (None, False)
    assert trend([None]) == (None, False)


@pytest.mark.parametrize(
    ("gaps", "widening"),
    [
        (["0.50", "0.80", "1.20"], True),
        (["-0.50", "-0.80", "-1.20"], True),  # by size, not sign
        (["0.50", "-0.80", "1.20"], True),
        (["0.50", "0.80", "0.80"], False),  # not strictly
        (["0.80", "0.80", "1.20"], False),
        (["0.50", "1.20", "0.80"], False),
        (["1.20", "0.80", "0.50"], False),
        (["0.50", "0.80"], False),  # one period of growth only
        ([None, "0.80", "1.20"], False),
        (["0.50", None, "1.20"], False),
        (["0.50", "0.80", None], False),
        (["2.00", "0.50", "0.80", "1.20"], True),  # only the last two periods matter
        (["0.50", "0.80", "1.20", "1.00"], False),
    ],
)
def test_widening_when_the_size_of_the_gap_grew_two_periods_running(gaps, widening):
    assert trend([None if g is None else D(g) for g in gaps])[1] is widening


def test_with_trends_uses_the_history_of_each_objective():
    results = [
        ObjectiveResult("A", {}, D("1.20"), None, None),
        ObjectiveResult("B", {}, D("0.30"), None, None),
        ObjectiveResult("C", {}, None, None, None),
    ]
    history = {"A": [D("0.50"), D("0.80")], "B": [D("0.60"), None], "C": [D("0.10"), D("0.20")]}
    with_trends(results, history)
    assert [(r.trend, r.widening) for r in results] == [(D("0.40"), True), (None, False), (None, False)]
    fresh = with_trends([ObjectiveResult("N", {}, D("1.00"), None, None)], {})
    assert (fresh[0].trend, fresh[0].widening) == (None, False)


# --- order of attention -------------------------------------------------------------------------------------


def test_sorted_for_attention_divergent_watch_aligned_insufficient_widest_gap_first():
    def made(objective, status, gap):
        return ObjectiveResult(objective, {}, None if gap is None else D(gap), None, None, status=status)

    results = [
        made("i1", INSUFFICIENT, None),
        made("a1", ALIGNED, "0.10"),
        made("w1", WATCH, "0.60"),
        made("d1", DIVERGENT, "1.10"),
        made("w2", WATCH, "-0.90"),
        made("d2", DIVERGENT, "-1.50"),
        made("a2", ALIGNED, "-0.40"),
        made("d3", DIVERGENT, "1.10"),  # same size as d1: by objective
        made("i0", INSUFFICIENT, None),
    ]
    assert [r.objective for r in sorted_for_attention(results)] == [
        "d2",
        "d1",
        "d3",
        "w2",
        "w1",
        "a2",
        "a1",
        "i0",
        "i1",
    ]
