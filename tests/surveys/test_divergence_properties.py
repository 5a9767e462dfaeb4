"""Properties of the divergence results over generated rounds (hypothesis): suppression never
leaks and closes differencing, the gap follows the means, q ≥ p, the results do not depend on
the order of the rows, and counted rows equal repeated single rows (DESIGN.md §5)."""

import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.divergence import (
    CLINICAL,
    DAVIES_GROUPS,
    DAVIES_OF,
    GROUPS,
    INSUFFICIENT,
    MANAGERIAL,
    PROFESSIONAL_GROUPS,
    ScoreRow,
    Thresholds,
    round_results,
)

OBJECTIVES = ("A", "B", "C")
SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def counted_rows(draw):
    """A round of up to three objectives: 0–12 raters per Davies group per objective, some answering
    "can't judge", grouped as the database counts them (one row per distinct score, in any order)."""
    rows = []
    for objective in draw(st.lists(st.sampled_from(OBJECTIVES), min_size=1, max_size=3, unique=True)):
        for professional, level in DAVIES_GROUPS.values():
            size = draw(st.integers(0, 12))
            scores = draw(st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=size, max_size=size))
            for score in dict.fromkeys(scores):
                rows.append(ScoreRow(objective, professional, level, score, scores.count(score)))
    return draw(st.permutations(rows))


min_sizes = st.integers(3, 6)


def single_rows(rows):
    return [ScoreRow(r.objective, r.professional_group, r.level, r.score) for r in rows for _ in range(r.count)]


def scores_of(rows, objective, group):
    """The non-null scores of `group` (professional or Davies) for `objective`, by an independent route."""
    return [
        row.score
        for row in single_rows(rows)
        if row.objective == objective
        and row.score is not None
        and group
        in (
            row.professional_group,
            next(d for d, key in DAVIES_GROUPS.items() if key == (row.professional_group, row.level)),
        )
    ]


def expected_shown(counts, minimum):
    """The differencing rule restated for the six groups: a group is shown when it has `minimum`
    people, except a Davies group whose professional group is shown while its sibling is hidden (even
    with nobody in it: "0" would say what a small group did)."""
    shown = {g for g in GROUPS if counts[g] >= minimum}
    for professional, pair in DAVIES_OF.items():
        for group in pair:
            sibling = next(s for s in pair if s != group)
            if professional in shown and counts[sibling] < minimum:
                shown.discard(group)
    return shown


def as_tuple(result):
    groups = tuple((g, result.groups[g].n, result.groups[g].mean) for g in GROUPS)
    return (groups, result.gap, result.p_value, result.effect_size, result.q_value, result.status)


def by_objective(results):
    return {r.objective: as_tuple(r) for r in results}


@SETTINGS
@given(counted_rows(), min_sizes)
def test_suppression_never_leaks_and_closes_differencing(rows, minimum):
    for result in round_results(rows, Thresholds(min_group_size=minimum), objectives=OBJECTIVES):
        counts = {g: len(scores_of(rows, result.objective, g)) for g in GROUPS}
        shown = {g for g in GROUPS if result.groups[g].mean is not None}
        # A shown group has its n and mean; a hidden one neither (not even its n).
        assert {g: result.groups[g].n for g in GROUPS} == {g: counts[g] if g in shown else None for g in GROUPS}
        for group in GROUPS:
            if counts[group] < minimum:
                assert result.groups[group].mean is None
        assert shown == expected_shown(counts, minimum)
        for professional, pair in DAVIES_OF.items():
            # Never a shown total with exactly one shown part and one hidden part.
            hidden = [g for g in pair if g not in shown]
            if professional in shown and len(hidden) == 1:
                raise AssertionError(f"{pair} differencing leak in {result}")
        if any(counts[g] < minimum for g in PROFESSIONAL_GROUPS):
            assert (result.gap, result.p_value, result.q_value, result.effect_size) == (None, None, None, None)
            assert result.status == INSUFFICIENT
        else:
            assert None not in (result.gap, result.p_value, result.q_value, result.effect_size)
            assert result.status != INSUFFICIENT


@SETTINGS
@given(counted_rows(), min_sizes)
def test_means_are_exact_and_the_gap_follows_them(rows, minimum):
    for result in round_results(rows, Thresholds(min_group_size=minimum)):
        for group in GROUPS:
            if result.groups[group].mean is not None:
                values = scores_of(rows, result.objective, group)
                exact = Fraction(sum(values), len(values))
                rounded = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                assert result.groups[group].mean == rounded
        if result.gap is None:
            continue
        assert result.gap == result.mean_clinical - result.mean_managerial
        c = scores_of(rows, result.objective, CLINICAL)
        m = scores_of(rows, result.objective, MANAGERIAL)
        exact_difference = Fraction(sum(c), len(c)) - Fraction(sum(m), len(m))
        sign = (exact_difference > 0) - (exact_difference < 0)
        gap_sign = (result.gap > 0) - (result.gap < 0)
        assert gap_sign in (0, sign)  # rounding may bring two close means together, never swap them
        if abs(exact_difference) >= Fraction(1, 100):
            assert gap_sign == sign
        assert Decimal(-1) <= result.effect_size <= Decimal(1)


@SETTINGS
@given(counted_rows(), min_sizes)
def test_q_is_at_least_p_and_at_most_one(rows, minimum):
    for result in round_results(rows, Thresholds(min_group_size=minimum)):
        if result.p_value is None:
            assert result.q_value is None
            continue
        assert Decimal(0) <= result.p_value <= result.q_value <= Decimal(1)
        assert result.p_value.as_tuple().exponent == result.q_value.as_tuple().exponent == -4
        assert result.effect_size.as_tuple().exponent == -3


@SETTINGS
@given(counted_rows(), min_sizes, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_the_rows(rows, minimum, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    thresholds = Thresholds(min_group_size=minimum)
    assert by_objective(round_results(shuffled, thresholds)) == by_objective(round_results(rows, thresholds))
    # With the objectives given, the order of the results is theirs whatever the rows' order.
    listed = round_results(shuffled, thresholds, objectives=OBJECTIVES)
    assert [r.objective for r in listed] == list(OBJECTIVES)


@SETTINGS
@given(counted_rows(), min_sizes)
def test_counted_rows_equal_repeated_single_rows(rows, minimum):
    thresholds = Thresholds(min_group_size=minimum)
    assert by_objective(round_results(rows, thresholds)) == by_objective(round_results(single_rows(rows), thresholds))


@SETTINGS
@given(counted_rows(), min_sizes, st.integers(0, 2**32 - 1))
def test_splitting_and_merging_counts_changes_nothing(rows, minimum, seed):
    """The database may group the same ratings into differently sized counts."""
    rnd = random.Random(seed)
    split = []
    for row in rows:
        if row.count > 1:
            first = rnd.randint(1, row.count - 1)
            split.append(ScoreRow(row.objective, row.professional_group, row.level, row.score, first))
            split.append(ScoreRow(row.objective, row.professional_group, row.level, row.score, row.count - first))
        else:
            split.append(row)
    thresholds = Thresholds(min_group_size=minimum)
    assert by_objective(round_results(split, thresholds)) == by_objective(round_results(rows, thresholds))
