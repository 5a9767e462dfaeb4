"""An automated adversary for the confidentiality tests (DESIGN.md §8).

It knows everything a member can know about the people (who is in which professional group,
level and directorate, who may rate which objective) and it holds every figure the product
publishes about a round. It writes those figures as linear constraints over integer unknowns:

- x[p, o, v] = 1 when person p scored objective o with v (1–5); at most one v; all 0 when p gave
  no score (can't judge, or did not rate);
- r[p] = 1 when p responded in the round (a rating of any kind, or the pulse); every answer
  implies it;
- y[p] = 1 when p answered the pulse; q[p, v], u[p, k], c[p, k] their quality (1–5), outlook and
  category, each at most one and only when y[p].

A shown group's n and 2-place mean give n = Σ answered and n·(mean ± 0.005) ∋ Σ scores; a
3-place share s of a question answered by m people gives |count − s·m| ≤ 0.0005·m; a shown
response row gives Σ r = responded. For every individual answer and every hidden cell it then
asks scipy.optimize.milp (HiGHS) for the least and the greatest value compatible with all of
that: a value is determined exactly when the two are equal.

Not modelled (functions of two shown groups only): p, q, effect size, status, trend, the
pulse's quality gap.

What counts as a leak. A determined value is reported as a leak only when no single published
figure determines it on its own: a shown group in which everyone gave the same answer, or in
which every member answered, reveals that by itself, as in every survey tool (the README says
so), and no suppression of *other* cells could prevent it.

Speed: the true world is always feasible, so a value is undetermined as soon as one feasible
world gives it another value. People of the same class (same group, level, directorate and
objectives) are interchangeable, so two of them with different true answers are both
undetermined without any solve; a few random feasible worlds clear most of the rest; only what
remains gets its own two solves.
"""

import random
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy.optimize import LinearConstraint, milp

SCORES = (1, 2, 3, 4, 5)
OUTLOOKS = ("improve", "same", "deteriorate")
CATEGORIES = ("partnership", "tension", "tolerance", "unresolved")
HALF_CENT = Fraction(1, 200)  # a 2-place mean is exact to ± 0.005
HALF_MILLI = Fraction(1, 2000)  # a 3-place share to ± 0.0005


@dataclass(frozen=True)
class Person:
    key: object
    professional_group: str
    level: str
    directorate: object  # a key or None
    objectives: frozenset  # the objectives this person may rate in the round


@dataclass
class Truth:
    """What really happened in the round (the adversary never sees it; it checks against it)."""

    scores: dict = field(default_factory=dict)  # (person key, objective) -> 1..5 (absent: no score)
    responded: set = field(default_factory=set)  # person keys
    pulse: dict = field(default_factory=dict)  # person key -> (quality or None, outlook, category)


@dataclass
class Figure:
    """One published figure (or figures of one cell) as constraints: rows of (coeffs, lo, hi)."""

    label: str
    rows: list


class Model:
    """The unknowns of one round and the structural constraints every world satisfies."""

    def __init__(self, people):
        self.people = list(people)
        self.names = []
        self.x, self.r, self.y, self.q, self.u, self.c = {}, {}, {}, {}, {}, {}
        for person in self.people:
            p = person.key
            self.r[p] = self._var(("r", p))
            self.y[p] = self._var(("y", p))
            for o in sorted(person.objectives, key=repr):
                for v in SCORES:
                    self.x[p, o, v] = self._var(("x", p, o, v))
            for v in SCORES:
                self.q[p, v] = self._var(("q", p, v))
            for k in OUTLOOKS:
                self.u[p, k] = self._var(("u", p, k))
            for k in CATEGORIES:
                self.c[p, k] = self._var(("c", p, k))
        self.structure = []
        for person in self.people:
            p = person.key
            for o in person.objectives:
                scored = {self.x[p, o, v]: 1 for v in SCORES}
                self.structure.append((scored, 0, 1))
                self.structure.append(({**scored, self.r[p]: -1}, -1, 0))  # a score implies a response
            self.structure.append(({self.y[p]: 1, self.r[p]: -1}, -1, 0))  # the pulse implies a response
            for table in (self.q, self.u, self.c):
                answer = {table[p, k]: 1 for (who, k) in table if who == p}
                self.structure.append(({**answer, self.y[p]: -1}, -1, 0))  # only with a pulse row
            # A stored pulse row has at least one answer (an empty one is never saved).
            some = {table[p, k]: -1 for table in (self.q, self.u, self.c) for (who, k) in table if who == p}
            self.structure.append(({**some, self.y[p]: 1}, -len(some), 0))

    def _var(self, name):
        self.names.append(name)
        return len(self.names) - 1

    # --- expressions ------------------------------------------------------------------------

    def members(self, predicate):
        return [person for person in self.people if predicate(person)]

    def answered(self, people, objective):
        return {self.x[p.key, objective, v]: 1 for p in people if objective in p.objectives for v in SCORES}

    def score_sum(self, people, objective):
        return {self.x[p.key, objective, v]: v for p in people if objective in p.objectives for v in SCORES}

    def score_of(self, person, objective):
        return {self.x[person.key, objective, v]: v for v in SCORES}

    def pulse_count(self, table, people, options):
        return {table[p.key, k]: 1 for p in people for k in options}

    # --- figures ----------------------------------------------------------------------------

    def mean_figure(self, label, people, objective, n, mean):
        rows = [(self.answered(people, objective), n, n)]
        if n and mean is not None:
            total = Fraction(mean) * n
            rows.append((self.score_sum(people, objective), total - HALF_CENT * n, total + HALF_CENT * n))
        return Figure(label, rows)

    def share_rows(self, count, answered, share):
        """|count − share·answered| ≤ 0.0005·answered, as two rows."""
        share = Fraction(share)
        low = {**count}
        high = {**count}
        for var, weight in answered.items():
            low[var] = low.get(var, 0) - (share - HALF_MILLI) * weight
            high[var] = high.get(var, 0) - (share + HALF_MILLI) * weight
        return [(low, 0, np.inf), (high, -np.inf, 0)]

    def pulse_figure(self, label, people, n, good_share, outlook_shares, category_shares):
        rows = [({self.y[p.key]: 1 for p in people}, n, n)]
        if good_share is not None:
            rows += self.share_rows(
                self.pulse_count(self.q, people, (4, 5)), self.pulse_count(self.q, people, SCORES), good_share
            )
        for table, options, shares in ((self.u, OUTLOOKS, outlook_shares), (self.c, CATEGORIES, category_shares)):
            for option, share in (shares or {}).items():
                if share is not None:
                    rows += self.share_rows(
                        self.pulse_count(table, people, (option,)), self.pulse_count(table, people, options), share
                    )
        return Figure(label, rows)

    def response_figure(self, label, people, responded):
        return Figure(label, [({self.r[p.key]: 1 for p in people}, responded, responded)])

    # --- the truth as a point --------------------------------------------------------------

    def point(self, truth):
        x = np.zeros(len(self.names))
        for (p, o), v in truth.scores.items():
            x[self.x[p, o, v]] = 1
        for p in truth.responded:
            x[self.r[p]] = 1
        for p, (quality, outlook, category) in truth.pulse.items():
            x[self.y[p]] = 1
            if quality is not None:
                x[self.q[p, quality]] = 1
            if outlook:
                x[self.u[p, outlook]] = 1
            if category:
                x[self.c[p, category]] = 1
        return x


def _value(coeffs, x):
    return sum(weight * x[var] for var, weight in coeffs.items())


class Solver:
    def __init__(self, model, figures):
        self.model = model
        self.figures = list(figures)
        self.size = len(model.names)

    def _constraints(self, figures, extra=()):
        rows = [*self.model.structure, *(row for figure in figures for row in figure.rows), *extra]
        if not rows:
            return []
        matrix = np.zeros((len(rows), self.size))
        low, high = np.zeros(len(rows)), np.zeros(len(rows))
        for i, (coeffs, lo, hi) in enumerate(rows):
            for var, weight in coeffs.items():
                matrix[i, var] += float(weight)
            low[i], high[i] = float(lo), float(hi)
        return [LinearConstraint(matrix, low - 1e-9, high + 1e-9)]

    def optimum(self, coeffs, sense, figures=None, extra=()):
        """The least (sense 1) or greatest (sense −1) value of the expression, or None if infeasible."""
        cost = np.zeros(self.size)
        for var, weight in coeffs.items():
            cost[var] = sense * float(weight)
        result = milp(
            cost,
            constraints=self._constraints(self.figures if figures is None else figures, extra),
            integrality=np.ones(self.size),
            bounds=(0, 1),
        )
        if result.status != 0:
            return None
        return sense * result.fun, result.x

    def random_world(self, rng):
        cost = {i: rng.uniform(-1, 1) for i in range(self.size)}
        found = self.optimum(cost, 1)
        return None if found is None else np.round(found[1])

    def differs(self, coeffs, true_value, figures=None, extra=()):
        """True when some world under `figures` gives the expression another value."""
        for sense in (-1, 1):
            found = self.optimum(coeffs, sense, figures, extra)
            if found is not None and abs(found[0] - true_value) > 1e-6:
                return True
        return False


@dataclass(frozen=True)
class Target:
    label: str
    coeffs: dict
    # For a mean: the group's answered expression (n), so that "mean determined" is asked as
    # "is Σ − m·n always 0 when n ≥ 1", which is linear.
    count: dict | None = None


def find_leaks(model, figures, truth, targets, *, seed=0, worlds=4):
    """The targets whose value every world compatible with `figures` agrees on, and that no
    single figure determines alone. [] when nothing leaks."""
    solver = Solver(model, figures)
    x0 = model.point(truth)
    violated = [
        f.label for f in figures for coeffs, lo, hi in f.rows if not lo - 1e-6 <= _value(coeffs, x0) <= hi + 1e-6
    ]
    assert not violated, f"the published figures do not describe what happened: {violated[:5]}"
    rng = random.Random(seed)
    alternatives = [w for w in (solver.random_world(rng) for _ in range(worlds)) if w is not None]

    def expression(target):
        if target.count is None:
            return target.coeffs, _value(target.coeffs, x0), ()
        n0 = _value(target.count, x0)
        if n0 == 0:
            return None
        mean = Fraction(_value(target.coeffs, x0)) / Fraction(n0)
        coeffs = {**target.coeffs}
        for var, weight in target.count.items():
            coeffs[var] = coeffs.get(var, 0) - mean * weight
        return coeffs, 0.0, [(target.count, 1, np.inf)]

    leaks = []
    for target in targets:
        built = expression(target)
        if built is None:
            continue
        coeffs, true_value, extra = built
        counted = [w for w in alternatives if target.count is None or _value(target.count, w) >= 1]
        if any(abs(_value(coeffs, w) - true_value) > 1e-6 for w in counted):
            continue
        if solver.differs(coeffs, true_value, extra=extra):
            continue
        # Determined. The caveat: one shown figure on its own already says it.
        if any(not solver.differs(coeffs, true_value, figures=[figure], extra=extra) for figure in figures):
            continue
        leaks.append(f"{target.label} (from {_why(solver, figures, coeffs, true_value, extra)})")
    return leaks


def _why(solver, figures, coeffs, true_value, extra):
    """A minimal set of figures that still determine the value: the explanation of a leak."""
    needed = list(figures)
    for figure in list(needed):
        rest = [f for f in needed if f is not figure]
        if not solver.differs(coeffs, true_value, figures=rest, extra=extra):
            needed = rest
    return ", ".join(f.label for f in needed)


def exchangeable_undetermined(people, truth):
    """(person, objective) pairs that two interchangeable people answered differently: undetermined
    without a solve (swapping the two gives another world with every published figure equal)."""
    classes = {}
    for person in people:
        key = (person.professional_group, person.level, person.directorate, person.objectives)
        classes.setdefault(key, []).append(person)
    clear = set()
    for members in classes.values():
        for objective in members[0].objectives:
            values = {truth.scores.get((m.key, objective), 0) for m in members}
            if len(values) > 1:
                clear.update((m.key, objective) for m in members)
    return clear
