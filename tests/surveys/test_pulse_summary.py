"""The relationship pulse, hand-computed (DESIGN.md §5): per group n, the share rating the
relationship 4 or 5, the outlook and category shares as fractions of the non-blank answers,
statement means, suppression of small groups and of small answer counts, the 2002 benchmark
beside each group, and the quality gap tested like an objective. Pure: no database."""

from decimal import ROUND_HALF_UP, Decimal

from scipy.stats import mannwhitneyu

from surveys.divergence import (
    BENCHMARK_GOOD_SHARE,
    BOARD,
    CATEGORIES,
    CLINICAL,
    GROUPS,
    MANAGERIAL,
    OPERATIONAL,
    OUTLOOKS,
    PulseRow,
    pulse_summary,
)

D = Decimal
KEYS = ("involvement", "managers")


def answer(group, level, quality=None, outlook="", category="", **statements):
    return PulseRow(group, level, quality, outlook, category, statements)


def many(group, level, qualities, outlooks=None, categories=None, statements=None):
    """One respondent per quality (None: no answer); outlooks/categories/statements by position."""
    outlooks = outlooks or [""] * len(qualities)
    categories = categories or [""] * len(qualities)
    statements = statements or [{}] * len(qualities)
    return [
        PulseRow(group, level, q, o, c, s)
        for q, o, c, s in zip(qualities, outlooks, categories, statements, strict=True)
    ]


def p4(value):
    return D(float(value)).quantize(D("0.0001"), rounding=ROUND_HALF_UP)


def test_good_share_is_the_share_of_non_blank_answers_rating_4_or_5():
    # One level only: its Davies group is hidden beside its professional group (the empty sibling
    # would be worked out), so the professional group carries the same answers.
    # Operational clinicians: 8 respondents, 7 answered, 3 of them 4 or 5: 3/7 = 0.428571… -> 0.429
    rows = many(CLINICAL, OPERATIONAL, [5, 4, 4, 3, 2, 1, 3, None])
    summary = pulse_summary(rows, min_group_size=5)
    group = summary.groups[CLINICAL]
    assert group.n == 8  # respondents, answered or not
    assert group.good_share == D("0.429")
    assert summary.groups[CLINICAL].good_share == D("0.429")


def test_shares_round_half_up_to_three_places():
    # One level only: its Davies group is hidden beside its professional group (the empty sibling
    # would be worked out), so the professional group carries the same answers.
    # 16 answers, 1 good: 1/16 = 0.0625 exactly -> 0.063 (float round() gives 0.062)
    rows = many(MANAGERIAL, BOARD, [5, *[2] * 15])
    group = pulse_summary(rows, min_group_size=5).groups[MANAGERIAL]
    assert group.good_share == D("0.063")
    assert str(group.good_share) == "0.063"


def test_outlook_and_category_shares_are_fractions_of_non_blank_answers():
    # One level only: its Davies group is hidden beside its professional group (the empty sibling
    # would be worked out), so the professional group carries the same answers.
    outlooks = ["improve", "improve", "same", "deteriorate", "", "same", "improve", ""]
    categories = ["partnership", "tension", "tension", "", "unresolved", "tension", "", ""]
    rows = many(CLINICAL, BOARD, [4] * 8, outlooks=outlooks, categories=categories)
    group = pulse_summary(rows, min_group_size=5).groups[CLINICAL]
    # 6 outlooks given: improve 3/6, same 2/6 = 0.333…, deteriorate 1/6 = 0.1666… -> 0.167
    assert group.outlook_shares == {"improve": D("0.500"), "same": D("0.333"), "deteriorate": D("0.167")}
    # 5 categories given: partnership 1/5, tension 3/5, tolerance 0, unresolved 1/5
    assert group.category_shares == {
        "partnership": D("0.200"),
        "tension": D("0.600"),
        "tolerance": D("0.000"),
        "unresolved": D("0.200"),
    }
    assert group.good_share == D("1.000")


def test_a_group_of_fewer_respondents_than_the_minimum_is_suppressed_entirely():
    rows = many(CLINICAL, OPERATIONAL, [5, 4, 4, 4, 3, 2], ["improve"] * 6, ["partnership"] * 6)
    rows += many(
        MANAGERIAL,
        OPERATIONAL,
        [5, 5, 4, 4],
        ["improve"] * 4,
        ["tension"] * 4,
        [{"involvement": 4, "managers": 5}] * 4,
    )
    summary = pulse_summary(rows, min_group_size=5, statement_keys=KEYS)
    for name in (MANAGERIAL, "operational_nonclinical", "senior_nonclinical", "senior_clinical"):
        group = summary.groups[name]
        assert group.n is None  # not even the count of a group of 4 (or of nobody)
        assert group.good_share is None
        assert group.outlook_shares == dict.fromkeys(OUTLOOKS)
        assert group.category_shares == dict.fromkeys(CATEGORIES)
        assert group.statement_means == dict.fromkeys(KEYS)
    assert summary.groups[CLINICAL].n == 6
    assert summary.quality_gap is None and summary.quality_p is None


def test_a_davies_group_that_would_reveal_its_small_sibling_is_suppressed_too():
    # 7 senior managers, 2 operational managers: 9 managers shown, 7 − … would give the 2 away.
    rows = many(MANAGERIAL, BOARD, [4] * 7) + many(MANAGERIAL, OPERATIONAL, [1, 1])
    summary = pulse_summary(rows, min_group_size=5)
    assert summary.groups[MANAGERIAL].n == 9
    assert summary.groups[MANAGERIAL].good_share == D("0.778")  # 7/9
    assert summary.groups["senior_nonclinical"].n is None
    assert summary.groups["senior_nonclinical"].good_share is None
    assert summary.groups["operational_nonclinical"].n is None


def test_a_question_answered_by_fewer_than_the_minimum_has_blank_shares():
    # One level only: its Davies group is hidden beside its professional group (the empty sibling
    # would be worked out), so the professional group carries the same answers.
    # 6 respondents (shown): all rated the relationship, only 4 gave an outlook, 5 a category.
    rows = many(
        CLINICAL,
        OPERATIONAL,
        [4, 4, 2, 2, 5, 3],
        outlooks=["improve", "same", "", "", "improve", "deteriorate"],
        categories=["tension", "tension", "", "partnership", "unresolved", "tension"],
    )
    group = pulse_summary(rows, min_group_size=5).groups[CLINICAL]
    assert group.n == 6
    assert group.good_share == D("0.500")
    assert group.outlook_shares == dict.fromkeys(OUTLOOKS)  # 4 answers < 5
    assert group.category_shares["tension"] == D("0.600")  # 5 answers: shown


def test_good_share_is_blank_when_too_few_rated_the_relationship():
    # One level only: its Davies group is hidden beside its professional group (the empty sibling
    # would be worked out), so the professional group carries the same answers.
    rows = many(CLINICAL, OPERATIONAL, [4, 5, 4, 5, None, None], outlooks=["same"] * 6)
    group = pulse_summary(rows, min_group_size=5).groups[CLINICAL]
    assert group.n == 6
    assert group.good_share is None
    assert group.outlook_shares["same"] == D("1.000")


def test_statement_means():
    # One level only: its Davies group is hidden beside its professional group (the empty sibling
    # would be worked out), so the professional group carries the same answers.
    statements = [
        {"involvement": 1, "managers": 4},
        {"involvement": 1, "managers": 4},
        {"involvement": 2, "managers": 5},
        {"involvement": 2},
        {"involvement": 2, "managers": 3},
        {"involvement": 3},
        {"involvement": 3},
        {"involvement": 3, "managers": None},
    ]
    rows = many(CLINICAL, BOARD, [3] * 8, statements=statements)
    group = pulse_summary(rows, min_group_size=5, statement_keys=KEYS).groups[CLINICAL]
    # involvement: 17/8 = 2.125 -> 2.13 half-up; managers: 4 answers (< 5) -> blank
    assert group.statement_means == {"involvement": D("2.13"), "managers": None}
    rows = many(CLINICAL, BOARD, [3] * 5, statements=[{"managers": s} for s in (4, 4, 5, 3, 5)])
    group = pulse_summary(rows, min_group_size=5, statement_keys=KEYS).groups[CLINICAL]
    assert group.statement_means == {"involvement": None, "managers": D("4.20")}  # 21/5


def test_the_2002_benchmark_is_attached_to_its_groups_shown_or_not():
    assert BENCHMARK_GOOD_SHARE == {"senior_nonclinical": D("0.76"), "operational_clinical": D("0.37")}
    for rows in ([], many(MANAGERIAL, BOARD, [4] * 6) + many(CLINICAL, OPERATIONAL, [2] * 6)):
        summary = pulse_summary(rows, min_group_size=5)
        assert summary.groups["senior_nonclinical"].benchmark_good_share == D("0.76")
        assert summary.groups["operational_clinical"].benchmark_good_share == D("0.37")
        for name in (CLINICAL, MANAGERIAL, "senior_clinical", "operational_nonclinical"):
            assert summary.groups[name].benchmark_good_share is None


def test_quality_gap_and_p_are_tested_like_an_objective():
    clinical = [2, 2, 3, 1, 2, 3, 2]  # 15/7 = 2.142… -> 2.14
    managerial = [4, 4, 5, 3, 4, 4]  # 24/6 = 4.00
    rows = many(CLINICAL, OPERATIONAL, clinical) + many(MANAGERIAL, BOARD, managerial)
    summary = pulse_summary(rows, min_group_size=5)
    assert summary.quality_gap == D("-1.86")
    assert summary.quality_p == p4(mannwhitneyu(clinical, managerial, alternative="two-sided").pvalue)


def test_no_quality_gap_when_a_shown_group_has_too_few_quality_answers():
    rows = many(CLINICAL, OPERATIONAL, [2, 2, 3, 1, 2, 3, 2])
    rows += many(MANAGERIAL, BOARD, [4, 4, 5, 4, None, None])  # 6 managers, 4 rated the relationship
    summary = pulse_summary(rows, min_group_size=5)
    assert summary.groups[MANAGERIAL].n == 6
    assert summary.quality_gap is None and summary.quality_p is None


def test_no_rows_no_crash():
    summary = pulse_summary([], min_group_size=5, statement_keys=KEYS)
    assert set(summary.groups) == set(GROUPS)
    assert all(group.n is None and group.good_share is None for group in summary.groups.values())
    assert summary.quality_gap is None and summary.quality_p is None


def test_the_minimum_is_the_trusts():
    rows = many(CLINICAL, OPERATIONAL, [4, 4, 2]) + many(MANAGERIAL, OPERATIONAL, [3, 3, 3])
    assert pulse_summary(rows, min_group_size=5).groups[CLINICAL].n is None
    summary = pulse_summary(rows, min_group_size=3)
    assert summary.groups[CLINICAL].good_share == D("0.667")
    assert summary.quality_gap == D("0.33")  # 3.33 − 3.00


# --- differencing within a question ------------------------------------------------------------------------


def test_a_blank_question_share_cannot_be_worked_out_by_subtraction():
    """Clinicians: 5 seniors all rated the relationship; 5 operational respondents, of whom 4 rated it.
    The operational share is blank (4 answers < 5), but with the clinical share (9 answers) and the
    senior share (5 answers) both shown, 9·share(clinical) − 5·share(senior) gives the number of
    the 4 operational clinicians who rated it good — derived from fewer than 5 people (DESIGN.md §5:
    'a part that would reveal a suppressed group is suppressed too')."""
    rows = many(CLINICAL, BOARD, [4, 4, 4, 2, 2]) + many(CLINICAL, OPERATIONAL, [5, 5, 1, 1, None])
    summary = pulse_summary(rows, min_group_size=5)
    clinical = summary.groups[CLINICAL].good_share
    senior = summary.groups["senior_clinical"].good_share
    operational = summary.groups["operational_clinical"].good_share
    assert operational is None
    # Were both shown: clinical 5/9 = 0.556, senior 3/5 = 0.600, so 9·0.556 − 5·0.600 = 5 − 3 = 2 of the
    # 4 operational answers are good (0.500), the share that was blanked.
    assert clinical is None or senior is None


def test_a_blank_statement_mean_cannot_be_worked_out_by_subtraction():
    statements = [{"involvement": v} for v in (5, 5, 5, 5, 5)]
    rows = many(MANAGERIAL, BOARD, [3] * 5, statements=statements)
    rows += many(MANAGERIAL, OPERATIONAL, [3] * 5, statements=[{"involvement": 1}, *[{}] * 4])
    summary = pulse_summary(rows, min_group_size=5, statement_keys=("involvement",))
    # Managers: 6 answers, mean 26/6 = 4.33 shown; seniors: 5 answers, mean 5.00 shown; operational:
    # 1 answer, blank — yet 6·4.33 − 5·5.00 ≈ 1 is that one person's answer.
    assert summary.groups["operational_nonclinical"].statement_means["involvement"] is None
    means = (
        summary.groups[MANAGERIAL].statement_means["involvement"],
        summary.groups["senior_nonclinical"].statement_means["involvement"],
    )
    assert None in means
