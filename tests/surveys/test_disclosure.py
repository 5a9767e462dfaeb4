"""The disclosure engine on its own (surveys/disclosure.py): hand-worked tables, the cross-table
case from the confidentiality issue, bounds, a whole round decided across measures, and a
property: no hidden cell is ever a rational combination of the shown ones (checked with numpy's
rank, an independent route)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.disclosure import (
    GROUP_ATOMS,
    Cell,
    Coupling,
    Measure,
    comments_shown,
    decide_round,
    publishable,
    visible_groups,
)

SC, SN, OC, ON = (
    ("clinical", "board"),
    ("managerial", "board"),
    ("clinical", "operational"),
    ("managerial", "operational"),
)


def cells(**sizes):
    return [Cell(group, GROUP_ATOMS[group], n) for group, n in sizes.items()]


def test_small_cells_are_hidden_and_so_is_zero():
    shown = publishable(cells(clinical=12, managerial=9, senior_clinical=0, operational_clinical=12), 5)
    # "0 senior clinicians" beside 12 = 12 would say what the medical director did: both Davies hidden.
    assert shown == {"clinical", "managerial"}


def test_the_sibling_of_a_hidden_part_is_hidden_not_the_total():
    shown = publishable(cells(clinical=8, senior_clinical=2, operational_clinical=6, managerial=7), 5)
    assert shown == {"clinical", "managerial"}


def test_two_small_parts_of_a_shown_total_protect_each_other():
    assert publishable(cells(clinical=6, senior_clinical=3, operational_clinical=3), 3) == {
        "clinical",
        "senior_clinical",
        "operational_clinical",
    }
    assert publishable(cells(clinical=6, senior_clinical=2, operational_clinical=4), 3) == {"clinical"}


def test_no_directorate_row_against_the_board_groups():
    """The confidentiality issue's case: senior non-clinical = managerial − operational managers,
    then senior clinical = "no directorate" − senior non-clinical. One table at a time misses it."""
    sc, sn, oc, on = ("c", "b", None), ("m", "b", None), ("c", "o", "med"), ("m", "o", "sur")
    table = [
        Cell("total", frozenset({sc, sn, oc, on}), 19),
        Cell("clinical", frozenset({sc, oc}), 7),
        Cell("managerial", frozenset({sn, on}), 12),
        Cell("senior_clinical", frozenset({sc}), 1),
        Cell("senior_nonclinical", frozenset({sn}), 6),
        Cell("operational_clinical", frozenset({oc}), 6),
        Cell("operational_nonclinical", frozenset({on}), 6),
        Cell("medicine", frozenset({oc}), 6),
        Cell("surgery", frozenset({on}), 6),
        Cell("none", frozenset({sc, sn}), 7),
    ]
    shown = publishable(table, 5)
    assert "senior_clinical" not in shown
    assert not in_span(table, shown, "senior_clinical")
    for key in {c.key for c in table} - shown:
        assert not in_span(table, shown, key), key


def test_a_total_of_nobody_says_every_part_on_its_own_and_is_kept():
    atoms = [("c", "b"), ("m", "b")]
    table = [
        Cell("total", frozenset(atoms), 9, at_bound=True, value=0),
        Cell("a", frozenset(atoms[:1]), 4, value=0),
        Cell("b", frozenset(atoms[1:]), 5, at_bound=True, value=0),
    ]
    # "Nobody of 9 responded" says every part is 0 by itself: hiding the parts could not change it.
    assert publishable(table, 5) == {"total", "b"}


def test_known_cells_take_part_in_the_arithmetic():
    # Known from elsewhere: nobody in the operational managers responded. Senior managers would then
    # be managerial minus 0: the total goes.
    table = cells(managerial=6, senior_nonclinical=4, operational_nonclinical=2, clinical=9)
    assert publishable(table, 5) == {"managerial", "clinical"}
    assert publishable(table, 5, known=[GROUP_ATOMS["operational_nonclinical"]]) == {"clinical"}


def test_hidden_is_hidden_whatever_its_size():
    assert publishable(cells(clinical=9, managerial=9), 5, hidden={"clinical"}) == {"managerial"}


def test_comments_need_the_comment_threshold_and_a_shown_group():
    assert comments_shown(10, 5, 10) and not comments_shown(9, 5, 10)
    assert not comments_shown(None, 5, 10)  # a hidden group
    assert comments_shown(6, 6, 3) and not comments_shown(5, 6, 3)  # never below the group size


def test_a_round_decided_as_a_whole_allows_for_responses_bounding_answers():
    """Managers scored 5 times; the 6 senior managers gave 4 responses and the one operational
    manager responded: the 5 scores must then be 4 + 1, so the Davies split is known though both
    Davies cells are hidden. The response counts yield first."""
    responses = Measure(
        "responses",
        (
            Cell("senior_nonclinical", frozenset({("m", "b", None)}), 6, value=4),
            Cell("operational_nonclinical", frozenset({("m", "o", 1)}), 1, at_bound=True, value=1),
            Cell("managerial", frozenset({("m", "b", None), ("m", "o", 1)}), 7, value=5),
        ),
        {("m", "b", None): 6, ("m", "o", 1): 1},
        yields=True,
    )
    objective = Measure(
        "objective",
        (
            Cell("managerial", frozenset({SN, ON}), 5),
            Cell("senior_nonclinical", frozenset({SN}), 4),
            Cell("operational_nonclinical", frozenset({ON}), 1),
        ),
        {SN: 6, ON: 1},
    )
    couplings = [
        Coupling(("objective", SN), (("responses", ("m", "b", None)),)),
        Coupling(("objective", ON), (("responses", ("m", "o", 1)),)),
    ]
    shown = decide_round([objective, responses], couplings, 5)
    assert shown["objective"] == {"managerial"}  # the gap the board needs stays
    assert "senior_nonclinical" not in shown["responses"]  # a count yields instead


def test_decisions_do_not_depend_on_the_order_given():
    table = cells(clinical=8, senior_clinical=2, operational_clinical=6, managerial=7, senior_nonclinical=7)
    assert publishable(table, 5) == publishable(list(reversed(table)), 5)
    assert visible_groups({"clinical": 8, "senior_clinical": 2, "operational_clinical": 6}, 5) == {"clinical"}


# --- property: nothing hidden is a combination of what is shown -----------------------------------


def in_span(table, shown, key):
    atoms = sorted({a for c in table for a in c.atoms}, key=repr)

    def vector(cell):
        return [1.0 if a in cell.atoms else 0.0 for a in atoms]

    base = [vector(c) for c in table if c.key in shown]
    target = vector(next(c for c in table if c.key == key))
    if not base:
        return not any(target)
    return np.linalg.matrix_rank(np.array(base + [target])) == np.linalg.matrix_rank(np.array(base))


@st.composite
def response_tables(draw):
    """A trust's response tables over (group, level, directorate) atoms, random sizes."""
    directorates = draw(st.integers(1, 4))
    sizes = {}
    for group in ("c", "m"):
        sizes[group, "b", None] = draw(st.integers(0, 8))
        for d in range(directorates):
            sizes[group, "o", d] = draw(st.integers(0, 8))
    atoms = [a for a, n in sizes.items() if n]

    def cell(key, chosen):
        chosen = frozenset(a for a in chosen if a in atoms)
        return Cell(key, chosen, sum(sizes[a] for a in chosen))

    table = [cell("total", atoms)]
    table += [cell(g, [a for a in atoms if a[0] == g]) for g in ("c", "m")]
    table += [cell((g, lv), [a for a in atoms if a[:2] == (g, lv)]) for g in ("c", "m") for lv in ("b", "o")]
    table += [cell(("d", d), [a for a in atoms if a[2] == d]) for d in [None, *range(directorates)]]
    return table


@settings(max_examples=300, deadline=None)
@given(response_tables(), st.integers(3, 6))
def test_no_hidden_cell_is_a_combination_of_the_shown_ones(table, minimum):
    shown = publishable(table, minimum)
    for cell in table:
        if cell.n < minimum:
            assert cell.key not in shown
    for key in {c.key for c in table if c.atoms} - shown:
        assert not in_span(table, shown, key), (key, sorted(shown, key=repr))
