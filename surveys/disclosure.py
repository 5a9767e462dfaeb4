"""Disclosure control: which published aggregates may be shown. The only place it is decided.

Pure Python over plain data (no ORM, no Django settings), used by every output: pages, CSVs,
the report snapshot (and so the email, PDF and archive) and any API.

The model. Every figure we publish (a count of people, a sum of scores behind a mean, a count of
one answer behind a share) is a total over a set of people. People fall into *atoms*: classes
every table treats alike, such as "clinical, board level, no directorate". A *cell* is a union of
atoms, so its value is the sum of its atoms' values, and whoever sees some cells can compute
exactly the linear combinations of them (totals minus parts, one table against another).
Cells of one *measure* (the scores of one objective in one round, the round's responses, one
pulse question) share their unknowns; different measures are different unknowns.

The rules (DESIGN.md §5):

1. Primary suppression: a cell counting fewer than `min_size` people is hidden: no value, no
   share, no n. Cells of 0 people are hidden too (showing "0" would say what a small group did).
2. Complementary suppression: while any hidden cell is a linear combination of the shown cells
   of its measure (so could be recovered by arithmetic from what the same audience sees), more
   cells are hidden: the fewest and smallest shown cells whose hiding breaks every such
   combination (one cell, else two, else three; failing that the smallest shown cell overlapping
   it, and look again), until no hidden cell can be worked out. Decided over every table of a
   measure at once, never table by table.
3. Nesting: a cell hidden in a containing measure (a pulse group) is hidden in the measures
   within it (that group's answers to each question): pass it as `hidden`.
4. Bounds: a shown cell whose value is the least or the greatest possible (nobody, or every
   member, responded) says the value of each of its atoms (`Cell.at_bound`); hiding the cell
   takes that back.
5. Across measures: answers imply a response, so a group shown in one measure with every member
   counted (all answered) makes its response count known, and a group nobody in which
   responded makes its answer counts known (0). Such cells are passed as `known`: they take
   part in the arithmetic like shown cells, and are never the ones hidden.

What this does not decide: comments have their own threshold (`comments_shown`); a shown cell
whose members all gave the same answer reveals that answer, as in every survey tool.

Exact arithmetic: vectors are over the rationals (fractions.Fraction), so "can be worked out"
is decided exactly, never by floating point.
"""

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import combinations


@dataclass(frozen=True)
class Cell:
    """One published aggregate: `key` names it, `atoms` are the classes of people it adds up,
    `n` is how many people it counts (the number the threshold is compared with). `at_bound`:
    its value is the least or the greatest it could be (nobody, or everybody, responded), so
    showing it shows the value of each of its atoms too."""

    key: object
    atoms: frozenset
    n: int
    at_bound: bool = False


class _Span:
    """The rational span of 0/1 vectors over a fixed list of atoms, in reduced row echelon form."""

    def __init__(self, index):
        self.index = index  # atom -> column
        self.rows = {}  # pivot column -> row (list of Fraction) with 1 at the pivot

    def _vector(self, atoms):
        vector = [Fraction(0)] * len(self.index)
        for atom in atoms:
            vector[self.index[atom]] = Fraction(1)
        return vector

    def _reduce(self, vector):
        for pivot, row in self.rows.items():
            factor = vector[pivot]
            if factor:
                vector = [v - factor * r for v, r in zip(vector, row, strict=True)]
        return vector

    def add(self, atoms):
        vector = self._reduce(self._vector(atoms))
        pivot = next((i for i, v in enumerate(vector) if v), None)
        if pivot is None:
            return
        vector = [v / vector[pivot] for v in vector]
        for other, row in self.rows.items():
            factor = row[pivot]
            if factor:
                self.rows[other] = [r - factor * v for r, v in zip(row, vector, strict=True)]
        self.rows[pivot] = vector

    def contains(self, atoms):
        return not any(self._reduce(self._vector(atoms)))


def _span(cells, index):
    span = _Span(index)
    for cell in cells:
        span.add(cell.atoms)
        if cell.at_bound:  # nobody, or everybody: each of its atoms is known too
            for atom in cell.atoms:
                span.add({atom})
    return span


def determinable(target, shown, index):
    """True when `target`'s value is a linear combination of the `shown` cells' values."""
    return _span(shown, index).contains(target.atoms)


def publishable(cells, min_size, hidden=(), known=()):
    """The keys of the cells that may be shown, given every cell of one measure.

    `hidden`: keys hidden whatever their size (nesting, rule 3). `known`: atom sets whose value
    the audience knows from elsewhere (a group that every member answered in another measure, a
    group nobody in which responded): they count as shown and are never hidden; a hidden cell
    that they alone determine is beyond this measure's control (what the other figure says on
    its own). Deterministic: between equally small choices the one over fewer atoms (parts
    rather than their total) goes first, then the one listed first. Memoised: the same tables
    (objective after objective) are decided once.
    """
    return _publishable(tuple(cells), min_size, frozenset(hidden), frozenset(frozenset(k) for k in known))


# Complementary cells are looked for among single cells, then pairs, then triples of shown cells
# (smallest total first); past that, the smallest shown cell overlapping the exposed one goes.
LARGEST_COMPLEMENT = 3
TRIPLES_UP_TO = 16  # shown cells; beyond it triples are not tried (the fallback is still safe)


@lru_cache(maxsize=4096)
def _publishable(cells, min_size, forced, known):
    order = {cell.key: position for position, cell in enumerate(cells)}
    atoms = {a for c in cells for a in c.atoms} | {a for k in known for a in k}
    index = {atom: i for i, atom in enumerate(sorted(atoms, key=repr))}
    known_cells = [Cell(("known", i), k, 0) for i, k in enumerate(sorted(known, key=lambda k: sorted(map(repr, k))))]
    beyond = _span(known_cells, index)

    def size(cell):
        return (cell.n, len(cell.atoms), order[cell.key])

    shown = sorted((c for c in cells if c.n >= min_size and c.key not in forced), key=size)
    concealed = sorted((c for c in cells if c not in shown), key=size)
    concealed = [c for c in concealed if c.atoms and not beyond.contains(c.atoms)]
    while shown:
        span = _span([*shown, *known_cells], index)
        exposed = next((c for c in concealed if span.contains(c.atoms)), None)
        if exposed is None:
            break
        choice = _complement(exposed, shown, known_cells, index, size)
        shown = [c for c in shown if c not in choice]
        concealed = sorted([*concealed, *choice], key=size)
    return frozenset(c.key for c in shown)


def _complement(exposed, shown, known_cells, index, size):
    """The fewest, smallest shown cells whose hiding leaves `exposed` impossible to work out."""
    for count in range(1, LARGEST_COMPLEMENT + 1):
        if count == LARGEST_COMPLEMENT and len(shown) > TRIPLES_UP_TO:
            break
        options = sorted(
            combinations(shown, count),
            key=lambda group: (sum(c.n for c in group), [size(c) for c in group]),
        )
        for group in options:
            rest = [c for c in shown if c not in group]
            if not determinable(exposed, [*rest, *known_cells], index):
                return group
    overlapping = [c for c in shown if c.atoms & exposed.atoms]
    return ((overlapping or shown)[0],)


def comments_shown(group_n, min_size, min_comment_size):
    """Whether a group's comments may be shown: the group is shown (its n is published, so at
    least `min_size`) and it has at least `min_comment_size` people (never below `min_size`)."""
    return group_n is not None and group_n >= max(min_size, min_comment_size)


# --- The tables every output publishes, as cells ----------------------------------------------

CLINICAL, MANAGERIAL = "clinical", "managerial"
BOARD, OPERATIONAL = "board", "operational"
PROFESSIONAL_GROUPS = (CLINICAL, MANAGERIAL)
DAVIES_GROUPS = {
    "senior_clinical": (CLINICAL, BOARD),
    "senior_nonclinical": (MANAGERIAL, BOARD),
    "operational_clinical": (CLINICAL, OPERATIONAL),
    "operational_nonclinical": (MANAGERIAL, OPERATIONAL),
}
GROUPS = (*PROFESSIONAL_GROUPS, *DAVIES_GROUPS)


def group_atoms(group):
    """The (professional group, level) atoms of one of the six GROUPS."""
    if group in DAVIES_GROUPS:
        return frozenset({DAVIES_GROUPS[group]})
    return frozenset(key for key in DAVIES_GROUPS.values() if key[0] == group)


GROUP_ATOMS = {group: group_atoms(group) for group in GROUPS}


def group_cells(counts):
    """The six group cells (professional and Davies) of one measure from {group: n}."""
    return [Cell(group, GROUP_ATOMS[group], counts.get(group, 0)) for group in GROUPS]


def visible_groups(counts, min_size, hidden=(), known=()):
    """Of the six GROUPS, those that may be shown for one measure split by group, from each
    group's n (`hidden`: groups hidden already, e.g. in the containing measure; `known`: groups
    whose value the audience knows from elsewhere, e.g. nobody in them responded)."""
    return publishable(group_cells(counts), min_size, hidden=hidden, known=[GROUP_ATOMS[g] for g in known])
