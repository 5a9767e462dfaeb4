"""Reads for the round pages: who was asked, who answered. Counts only, never who.

Every function here runs a fixed number of aggregate queries, whatever the number of rounds,
people or directorates. What of a response table may be shown is decided by surveys.disclosure.
"""

from dataclasses import dataclass, replace

from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from partnership.models import Level, Membership, ProfessionalGroup, Role

from . import disclosure
from .models import PulseResponse, Rating, RatingRound

DAVIES_GROUPS = [
    # (key, label, professional group, level): DESIGN.md §1
    ("senior_clinical", "Senior clinical (board, clinical)", ProfessionalGroup.CLINICAL, Level.BOARD),
    ("senior_nonclinical", "Senior non-clinical (board, managerial)", ProfessionalGroup.MANAGERIAL, Level.BOARD),
    ("operational_clinical", "Operational clinical", ProfessionalGroup.CLINICAL, Level.OPERATIONAL),
    ("operational_nonclinical", "Operational non-clinical", ProfessionalGroup.MANAGERIAL, Level.OPERATIONAL),
]
NO_DIRECTORATE = "No directorate (trust-wide only)"


HIDDEN = "hidden"  # a row whose numbers are not shown (one reason for all: the reason itself would leak)


@dataclass(frozen=True)
class CountRow:
    """One line of a response-rate table. `suppressed` ("" = shown, or HIDDEN): show no numbers
    for this row. Why a row is hidden (too small, or protecting a smaller one) is never said:
    "fewer than N" on one row and "protecting" on its sibling would give both away."""

    key: str
    label: str
    expected: int
    responded: int
    suppressed: str = ""

    @property
    def rate(self):
        """Percentage responded (whole number), or None when nobody was expected."""
        return round(100 * self.responded / self.expected) if self.expected else None


def raters_of(trust):
    """The people expected to answer in `trust`: active members other than administrators
    (the same rule as `surveys.services.ratings.is_rater`, as a query)."""
    return Membership.objects.filter(trust_id=trust.pk, is_active=True).exclude(role=Role.ADMINISTRATOR)


def _responded_in(round_ref):
    """Condition on a rater (the outer Membership row): a Rating or a PulseResponse in the round."""
    return Exists(Rating.objects.filter(round_id=round_ref, rater_id=OuterRef("pk"))) | Exists(
        PulseResponse.objects.filter(round_id=round_ref, rater_id=OuterRef("pk"))
    )


def rater_count(trust):
    return raters_of(trust).count()


def rounds_with_counts(trust):
    """(rounds newest first, each annotated with `responded`; the number of raters).

    Two queries whatever the number of rounds. Both numbers use today's raters (active,
    non-administrator members), so a round's responded count never exceeds its expected
    count; someone who answered and has since left the trust is not counted.
    """
    responded = (
        raters_of(trust)
        .filter(_responded_in(OuterRef(OuterRef("pk"))))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    rounds = list(
        RatingRound.objects.filter(trust_id=trust.pk)
        .annotate(responded=Coalesce(Subquery(responded, output_field=IntegerField()), Value(0)))
        .order_by("-period")
    )
    return rounds, rater_count(trust)


def response_cells(round):
    """How many raters were expected and responded, per (group, level, directorate): one query."""
    return response_cells_by_round(round.trust_id, [round.pk])[round.pk]


def response_cells_by_round(trust_id, round_ids):
    """{round id: response cells} for several rounds of one trust, in one query (a count per round)."""
    if not round_ids:
        return {}
    counts = {f"responded_{pk}": Count("pk", filter=_responded_in(pk)) for pk in round_ids}
    rows = list(
        Membership.objects.filter(trust_id=trust_id, is_active=True)
        .exclude(role=Role.ADMINISTRATOR)  # raters_of(), without loading the trust
        .order_by()
        .values("professional_group", "level", "directorate_id", "directorate__name")
        .annotate(expected=Count("pk"), **counts)
    )
    fields = ("professional_group", "level", "directorate_id", "directorate__name", "expected")
    return {
        pk: [{**{f: row[f] for f in fields}, "responded": row[f"responded_{pk}"]} for row in rows] for pk in round_ids
    }


def round_response_counts(round):
    """How many of the trust's raters answered in `round`, overall and split by professional
    group, Davies group and directorate, with small groups suppressed (DESIGN.md §5).

    Returns {"total": CountRow, "professional_groups": [...], "davies_groups": [...],
    "directorates": [...], "min_size": int}. One grouped query: about 4 rows per directorate.

    Expected and responded are both split by each rater's CURRENT membership (group, level,
    directorate), not by the snapshot kept on their ratings: the two must be counted the same
    way to be comparable, and only the current membership says who is expected now.
    """
    return response_counts(response_cells(round), round.trust.min_group_size)


def response_table(cells):
    """The rows of the response tables (nothing hidden yet) and each row's atoms, from `cells`:
    ({table: [CountRow]}, {(table, key): atoms}). No queries."""
    names = {cell["directorate_id"]: cell["directorate__name"] for cell in cells if cell["directorate_id"]}

    atoms_of = {}

    def total_of(table, label, key, matches):
        chosen = [cell for cell in cells if matches(cell)]
        atoms_of[(table, key)] = frozenset(
            (cell["professional_group"], cell["level"], cell["directorate_id"]) for cell in chosen
        )
        return CountRow(
            key=key,
            label=label,
            expected=sum(cell["expected"] for cell in chosen),
            responded=sum(cell["responded"] for cell in chosen),
        )

    directorate_ids = sorted(
        {cell["directorate_id"] for cell in cells},
        key=lambda pk: (pk is None, names[pk].lower() if pk else ""),
    )
    rows = {
        "total": [total_of("total", "Whole trust", "total", lambda cell: True)],
        "professional_groups": [
            total_of("professional_groups", label, value, lambda cell, value=value: cell["professional_group"] == value)
            for value, label in ProfessionalGroup.choices
        ],
        "davies_groups": [
            total_of(
                "davies_groups",
                label,
                key,
                lambda cell, group=group, level=level: (cell["professional_group"], cell["level"]) == (group, level),
            )
            for key, label, group, level in DAVIES_GROUPS
        ],
        "directorates": [
            total_of(
                "directorates",
                names[pk] if pk else NO_DIRECTORATE,
                str(pk) if pk else "none",
                lambda cell, pk=pk: cell["directorate_id"] == pk,
            )
            for pk in directorate_ids
        ],
    }
    return rows, atoms_of


def response_cells_of(rows, atoms_of):
    """The disclosure cells of the response tables: one decision over every table of the page (a
    row of one table can be worked out from rows of another: "no directorate" against the board)."""
    return [
        disclosure.Cell(
            (table, row.key),
            atoms_of[(table, row.key)],
            row.expected,
            at_bound=bool(row.expected) and row.responded in (0, row.expected),
            value=row.responded,
        )
        for table, table_rows in rows.items()
        for row in table_rows
    ]


def response_counts(cells, min_size, shown=None):
    """round_response_counts from the counted `cells` (response_cells): no queries. `shown`: the
    (table, key) rows to show when decided for the whole round (surveys.disclosure.decide_round)."""
    rows, atoms_of = response_table(cells)
    disclosure_cells = response_cells_of(rows, atoms_of)
    if shown is None:
        shown = disclosure.publishable(disclosure_cells, min_size)
    rows = {
        table: [row if (table, row.key) in shown else replace(row, suppressed=HIDDEN) for row in table_rows]
        for table, table_rows in rows.items()
    }
    return {
        "total": rows["total"][0],
        "professional_groups": rows["professional_groups"],
        "davies_groups": rows["davies_groups"],
        "directorates": rows["directorates"],
        "min_size": min_size,
    }
