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
    value: int | None = None  # the count it publishes, when not n (a response row: n asked, value responded)
    keep: int = 0  # how much it matters to keep it shown (a professional group's mean: the gap depends on it)

    @property
    def published(self):
        return self.n if self.value is None else self.value


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
TRIPLES_UP_TO = 9  # candidate cells; beyond it triples are not tried (the fallback is still safe)


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

    def said_alone(cell):  # by one shown figure on its own (a total of 0, say): beyond suppression
        return any(_span([s, *known_cells], index).contains(cell.atoms) for s in shown if s.at_bound)

    while shown:
        span = _span([*shown, *known_cells], index)
        exposed = next((c for c in concealed if span.contains(c.atoms) and not said_alone(c)), None)
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
    """The six group cells (professional and Davies) of one measure from {group: n}. The
    professional groups matter most (the gap is theirs), then the Davies groups."""
    return [
        Cell(group, GROUP_ATOMS[group], counts.get(group, 0), keep=2 if group in PROFESSIONAL_GROUPS else 1)
        for group in GROUPS
    ]


def visible_groups(counts, min_size, hidden=(), known=()):
    """Of the six GROUPS, those that may be shown for one measure split by group, from each
    group's n (`hidden`: groups hidden already, e.g. in the containing measure; `known`: groups
    whose value the audience knows from elsewhere, e.g. nobody in them responded)."""
    return publishable(group_cells(counts), min_size, hidden=hidden, known=[GROUP_ATOMS[g] for g in known])


# --- One round, decided as a whole ---------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One measure of a round: its cells (atoms local to it) and each atom's population (how many
    people could be counted in it)."""

    name: object
    cells: tuple
    populations: dict  # atom -> population
    yields: bool = False  # hidden first when a cell of another measure must be protected (response counts)
    sums: bool = False  # its cells publish a sum too (a mean): a pinned count does not give the sum


MAX_DERIVED = 400  # differences of shown cells taken into the bounds, per measure


@dataclass(frozen=True)
class Coupling:
    """An answer never comes without a response: the count of `lhs` ((measure, atom)) is at most
    the sum of the counts of `rhs` ((measure, atom) pairs: the responders it could come from)."""

    lhs: tuple
    rhs: tuple


class _Bounds:
    """Interval bounds of every (measure, atom) count, tightened by the published equalities and
    the couplings (constraint propagation over integers; exact, never rounding)."""

    def __init__(self, measures, couplings):
        self.start = {}
        for measure in measures:
            for atom, population in measure.populations.items():
                self.start[measure.name, atom] = (0, population)
        self.couplings = couplings

    def propagate(self, equalities):
        """{variable: (lo, hi)} under `equalities` ([(variables, value)]) and the couplings."""
        lo = {v: b[0] for v, b in self.start.items()}
        hi = {v: b[1] for v, b in self.start.items()}
        covering = {}
        for _ in range(64):
            changed = False
            for variables, value in equalities:
                low_sum = sum(lo[v] for v in variables)
                high_sum = sum(hi[v] for v in variables)
                for v in variables:
                    top = value - (low_sum - lo[v])
                    if top < hi[v]:
                        high_sum -= hi[v] - top
                        hi[v], changed = top, True
                    bottom = value - (high_sum - hi[v])
                    if bottom > lo[v]:
                        low_sum += bottom - lo[v]
                        lo[v], changed = bottom, True
            for coupling in self.couplings:
                top = sum(hi[v] for v in coupling.rhs)
                rhs = set(coupling.rhs)
                for variables, value in covering.setdefault(coupling, [eq for eq in equalities if rhs <= set(eq[0])]):
                    # A published total over the responders (and maybe others) bounds them as a whole.
                    top = min(top, value - sum(lo[v] for v in variables if v not in rhs))
                if top < hi[coupling.lhs]:
                    hi[coupling.lhs], changed = top, True
                need = lo[coupling.lhs]
                if need:
                    every = sum(hi[v] for v in coupling.rhs)
                    for v in coupling.rhs:
                        bottom = need - (every - hi[v])
                        if bottom > lo[v]:
                            lo[v], changed = bottom, True
                    # ... and the rest of a published total that holds them gets what they leave.
                    for variables, value in covering[coupling]:
                        rest = [v for v in variables if v not in rhs]
                        low_rest = sum(lo[x] for x in rest)
                        for v in rest:
                            ceiling = value - need - (low_rest - lo[v])
                            if ceiling < hi[v]:
                                hi[v], changed = ceiling, True
            if not changed:
                break
        return lo, hi


def decide_round(measures, couplings, min_size):
    """{measure name: keys shown} for every measure of a round, decided together.

    Rules 1, 2 and 4 within each measure, and across measures through the couplings (rule 5):
    after every choice the published figures' bounds are propagated, and an atom whose count is
    then pinned counts as known. A hidden cell that one shown figure on its own (with what
    everyone knows: who belongs to which group) pins down is what that figure says by itself
    and is accepted; anything that takes two or more figures is prevented, by hiding the
    fewest, smallest cells (of its own measure, or of the response counts it is coupled with).
    """
    measures = list(measures)
    by_name = {m.name: m for m in measures}
    bounds = _Bounds(measures, couplings)
    index = {m.name: {atom: i for i, atom in enumerate(sorted(m.populations, key=repr))} for m in measures}
    linked = {m.name: set() for m in measures}
    for coupling in couplings:
        for other, _atom in coupling.rhs:
            linked[coupling.lhs[0]].add(other)
            linked[other].add(coupling.lhs[0])
    coupled = {name: sorted(others, key=repr) for name, others in linked.items()}  # never hash order
    shown = {m.name: [c for c in m.cells if c.n >= min_size] for m in measures}
    accepted = set()

    def equalities(cells_by_measure):
        """The published figures as equalities, with what subtraction gives: for shown cells one
        inside another, their difference (bounds alone would miss that total − board is at most
        everyone else)."""
        found = []
        for name, cells in cells_by_measure.items():
            memo = (repr(name), frozenset(repr(c.key) for c in cells))
            if memo in derived:
                found += derived[memo]
                continue
            known = {cell.atoms: cell.published for cell in cells}
            frontier = list(known.items())
            while frontier and len(known) < MAX_DERIVED:
                fresh = []
                for inner, value in frontier:
                    for outer, total in list(known.items()):
                        if inner < outer and (outer - inner) not in known:
                            known[outer - inner] = total - value
                            fresh.append((outer - inner, total - value))
                        elif outer < inner and (inner - outer) not in known:
                            known[inner - outer] = value - total
                            fresh.append((inner - outer, value - total))
                frontier = fresh
            derived[memo] = [([(name, atom) for atom in atoms], value) for atoms, value in known.items()]
            found += derived[memo]
        return found

    analysed, derived = {}, {}

    def analysis_of(cells_by_measure):
        """(lo, hi, {measure: span}) of a state of what is shown, computed once per state."""
        key = tuple(sorted((repr(n), tuple(sorted(repr(c.key) for c in cs))) for n, cs in cells_by_measure.items()))
        if key not in analysed:
            lo, hi = bounds.propagate(equalities(cells_by_measure))
            analysed[key] = (lo, hi, {})
        return analysed[key]

    def determined(name, cell, cells_by_measure):
        """What of `cell` of measure `name` the figures shown give away: {"count"} when its count
        is pinned by the bounds, {"sum"} (with the count) when it is a combination of shown cells
        and atoms known to be empty (or, for a measure without sums, pinned)."""
        lo, hi, spans = analysis_of(cells_by_measure)
        found = set()
        if all(lo[name, a] == hi[name, a] for a in cell.atoms):
            found.add("count")
        if name not in spans:
            populations = by_name[name].populations
            pinned = [a for a in populations if lo[name, a] == hi[name, a]]
            known = pinned if not by_name[name].sums else [a for a in pinned if hi[name, a] == 0]
            fixed = [Cell(("fixed", atom), frozenset({atom}), 0) for atom in known]
            spans[name] = _span([*cells_by_measure.get(name, ()), *fixed], index[name])
        if spans[name].contains(cell.atoms):
            found |= {"count", "sum"}
        return found

    neighbours = {}
    for coupling in couplings:
        for var in coupling.rhs:
            neighbours.setdefault(coupling.lhs, set()).add(var)
            neighbours.setdefault(var, set()).add(coupling.lhs)

    def said_alone(name, cell, kinds):
        """Pinned by structure plus at most one shown figure: beyond what suppression decides.
        Only figures that share people with the cell (its atoms, or the response atoms coupled
        with them) can say anything about it on their own."""
        nothing = {m.name: [] for m in measures}
        if kinds <= determined(name, cell, nothing):
            return True
        near = {(name, atom) for atom in cell.atoms}
        near |= {v for var in list(near) for v in neighbours.get(var, ())}
        for other in [name, *coupled[name]]:
            for figure in shown[other]:
                if not any((other, atom) in near for atom in figure.atoms):
                    continue
                if kinds <= determined(name, cell, {**nothing, other: [figure]}):
                    return True
        return False

    def size(cell):
        return (cell.n, len(cell.atoms), repr(cell.key))

    for _ in range(10_000):
        exposed = None
        for measure in measures:
            hidden = sorted((c for c in measure.cells if c not in shown[measure.name]), key=size)
            for cell in hidden:
                if (measure.name, cell.key) in accepted or not cell.atoms:
                    continue
                kinds = determined(measure.name, cell, shown)
                # What one figure says alone (a complete group's count, say) is not ours to hide.
                kinds -= {kind for kind in kinds if said_alone(measure.name, cell, {kind})}
                if not kinds:
                    accepted.add((measure.name, cell.key))
                    continue
                exposed = (measure.name, cell, kinds)
                break
            if exposed:
                break
        if exposed is None:
            break
        name, cell, kinds = exposed
        candidates = sorted(
            [(other, c) for other in [name, *coupled[name]] for c in shown[other]],
            key=lambda pair: (not by_name[pair[0]].yields, size(pair[1])),
        )
        choice = None
        # Who the exposed cell's figures involve: its measure's people, and the responders they are.
        near = {(name, atom) for atom in by_name[name].populations}
        near |= {v for var in list(near) for v in neighbours.get(var, ())}

        def worth(pair):  # what hiding it costs: cells that matter most last, counts first
            measure, c = pair
            return (c.keep, not by_name[measure].yields, c.n, len(c.atoms), repr(c.key))

        close = sorted(
            (pair for pair in candidates if pair[0] == name or any((pair[0], a) in near for a in pair[1].atoms)),
            key=worth,
        )[:12]  # cells sharing people with the exposed one: the ones worth trying in twos and threes
        for count in (1, 2, 3):
            if count == 3 and len(close) > TRIPLES_UP_TO:
                break
            options = sorted(
                combinations(close, count),
                key=lambda g: (
                    sum(c.keep for _, c in g),
                    sum(not by_name[m].yields for m, _ in g),
                    [worth(p) for p in g],
                ),
            )
            for group in options:
                trial = {k: [c for c in v if (k, c) not in group] for k, v in shown.items()}
                if not kinds & determined(name, cell, trial):
                    choice = group
                    break
            if choice:
                break
        if choice is None:
            for pair in sorted(candidates, key=worth):
                trial = {k: [c for c in v if (k, c) != pair] for k, v in shown.items()}
                if not kinds & determined(name, cell, trial):
                    choice = (pair,)
                    break
        if choice is None:
            overlapping = [(name, c) for c in sorted(shown[name], key=size) if c.atoms & cell.atoms]
            if not overlapping:
                accepted.add((name, cell.key))
                continue
            choice = (overlapping[0],)
        for other, c in choice:
            shown[other] = [s for s in shown[other] if s is not c]
        accepted.clear()  # what one figure said alone may have been that figure: look again
    return {name: frozenset(c.key for c in cells) for name, cells in shown.items()}
