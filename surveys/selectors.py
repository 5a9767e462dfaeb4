"""Reads for the round pages: who was asked, who answered. Counts only, never who.

Every function here runs a fixed number of aggregate queries, whatever the number of rounds,
people or directorates. Results finer than the whole trust go through `suppress_rows`.
"""

from dataclasses import dataclass, replace

from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from partnership.models import Level, Membership, ProfessionalGroup, Role

from .models import PulseResponse, Rating, RatingRound

DAVIES_GROUPS = [
    # (key, label, professional group, level): DESIGN.md §1
    ("senior_clinical", "Senior clinical (board, clinical)", ProfessionalGroup.CLINICAL, Level.BOARD),
    ("senior_nonclinical", "Senior non-clinical (board, managerial)", ProfessionalGroup.MANAGERIAL, Level.BOARD),
    ("operational_clinical", "Operational clinical", ProfessionalGroup.CLINICAL, Level.OPERATIONAL),
    ("operational_nonclinical", "Operational non-clinical", ProfessionalGroup.MANAGERIAL, Level.OPERATIONAL),
]
NO_DIRECTORATE = "No directorate (trust-wide only)"


SMALL = "small"  # fewer than min_group_size people
DIFFERENCING = "differencing"  # big enough, but hidden so that a small row cannot be worked out


@dataclass(frozen=True)
class CountRow:
    """One line of a response-rate table. `suppressed` ("" = shown, SMALL or DIFFERENCING):
    show no numbers for this row."""

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


def suppress_rows(rows, min_size):
    """Mark rows to suppress: a partition of a total that is itself shown.

    A row whose expected count is below `min_size` is suppressed. Then, against differencing
    (the total minus the shown rows gives the suppressed rows together), more rows are
    suppressed, smallest first, until the suppressed rows together cover at least `min_size`
    people — or nobody at all (rows of 0 people hide nobody). With exactly one small row
    this suppresses the smallest other row too. Rows already marked stay suppressed.
    Pure: returns new rows in the same order, `suppressed` set to SMALL or DIFFERENCING.
    """
    reasons = [row.suppressed or (SMALL if row.expected < min_size else "") for row in rows]
    hidden = [bool(reason) for reason in reasons]

    def hidden_people():
        return sum(row.expected for row, hide in zip(rows, hidden, strict=True) if hide)

    while 0 < hidden_people() < min_size:
        shown = [index for index, hide in enumerate(hidden) if not hide]
        if not shown:
            break
        smallest = min(shown, key=lambda index: (rows[index].expected, index))
        hidden[smallest] = True
        reasons[smallest] = DIFFERENCING
    return [replace(row, suppressed=reason) for row, reason in zip(rows, reasons, strict=True)]


def _suppress_davies(davies, groups, min_size):
    """Davies groups split the trust four ways and each professional group two ways
    (senior + operational clinical = clinical). So they are suppressed against the total and
    against every professional group shown, repeated until nothing changes."""
    shown_groups = [group.key for group in groups if not group.suppressed]
    by_key = {row.key: row for row in davies}
    while True:
        before = {row.key: bool(row.suppressed) for row in by_key.values()}
        for row in suppress_rows(list(by_key.values()), min_size):
            by_key[row.key] = row
        for group in shown_groups:
            pair = [by_key[key] for key, _, pg, _ in DAVIES_GROUPS if pg == group]
            for row in suppress_rows(pair, min_size):
                by_key[row.key] = row
        if {row.key: bool(row.suppressed) for row in by_key.values()} == before:
            return [by_key[key] for key, *_ in DAVIES_GROUPS]


def round_response_counts(round):
    """How many of the trust's raters answered in `round`, overall and split by professional
    group, Davies group and directorate, with small groups suppressed (DESIGN.md §5).

    Returns {"total": CountRow, "professional_groups": [...], "davies_groups": [...],
    "directorates": [...], "min_size": int}. One grouped query: about 4 rows per directorate.

    Expected and responded are both split by each rater's CURRENT membership (group, level,
    directorate), not by the snapshot kept on their ratings: the two must be counted the same
    way to be comparable, and only the current membership says who is expected now.
    """
    trust = round.trust
    min_size = trust.min_group_size
    cells = list(
        raters_of(trust)
        .order_by()
        .values("professional_group", "level", "directorate_id", "directorate__name")
        .annotate(expected=Count("pk"), responded=Count("pk", filter=_responded_in(round.pk)))
    )
    names = {cell["directorate_id"]: cell["directorate__name"] for cell in cells if cell["directorate_id"]}

    def total_of(label, key, matches):
        chosen = [cell for cell in cells if matches(cell)]
        return CountRow(
            key=key,
            label=label,
            expected=sum(cell["expected"] for cell in chosen),
            responded=sum(cell["responded"] for cell in chosen),
        )

    total = total_of("Whole trust", "total", lambda cell: True)
    groups = suppress_rows(
        [
            total_of(label, value, lambda cell, value=value: cell["professional_group"] == value)
            for value, label in ProfessionalGroup.choices
        ],
        min_size,
    )
    davies = _suppress_davies(
        [
            total_of(
                label,
                key,
                lambda cell, group=group, level=level: (cell["professional_group"], cell["level"]) == (group, level),
            )
            for key, label, group, level in DAVIES_GROUPS
        ],
        groups,
        min_size,
    )
    directorate_ids = sorted(
        {cell["directorate_id"] for cell in cells},
        key=lambda pk: (pk is None, names[pk].lower() if pk else ""),
    )
    directorates = suppress_rows(
        [
            total_of(
                names[pk] if pk else NO_DIRECTORATE,
                str(pk) if pk else "none",
                lambda cell, pk=pk: cell["directorate_id"] == pk,
            )
            for pk in directorate_ids
        ],
        min_size,
    )
    return {
        "total": total,
        "professional_groups": groups,
        "davies_groups": davies,
        "directorates": directorates,
        "min_size": min_size,
    }
