"""The report and pulse CSVs of DESIGN.md §6: pure functions from a round's analysis to rows
and from rows to CSV text. No ORM: everything comes from a `RoundAnalysis` (or any object with
the same `round`, `results` and `pulse` attributes), so the download, the email attachment and
the tests all produce the same bytes.

Numbers are written exactly as the analysis keeps them: means and gaps with 2 decimals, p and
q with 4, effect sizes and shares with 3, negatives with a plain ASCII "-" (Decimal's own
notation, never an exponent), and an empty cell wherever a value is blank (None), whether
because a group was suppressed or because there was nothing to compute.

Formula injection (OWASP "CSV injection"): a text cell that a spreadsheet would read as a
formula is neutralised by `csv_safe`. Only the text cells (ref, title, theme, period, status,
group name) go through it; the numeric cells we format ourselves never do, so a gap of
"-1.25" or an effect size of "-0.905" stays a number a spreadsheet can sum and chart. That is
safe because a number we format can only ever hold digits, a leading minus and a point.
"""

import csv
import io
from decimal import Decimal

from . import divergence

REPORT_HEADER = (
    "objective_ref",
    "objective_title",
    "theme",
    "period",
    "n_clinical",
    "mean_clinical",
    "n_managerial",
    "mean_managerial",
    "gap",
    "p_value",
    "q_value",
    "effect_size",
    "status",
)
PULSE_HEADER = (
    "group",
    "n",
    "good_share",
    "improve_share",
    "same_share",
    "deteriorate_share",
    "partnership_share",
    "tension_share",
    "tolerance_share",
    "unresolved_share",
)
# The share columns after good_share, in PULSE_HEADER order.
PULSE_OUTLOOKS = ("improve", "same", "deteriorate")
PULSE_CATEGORIES = ("partnership", "tension", "tolerance", "unresolved")
PULSE_GROUPS = divergence.GROUPS  # clinical, managerial, then the four Davies groups

# A cell starting with one of these is read as a formula (or, for tab and carriage return,
# can shift a following "=" into formula position) by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

TWO, THREE, FOUR = divergence.TWO, divergence.THREE, divergence.FOUR


def csv_safe(value):
    """`value` as CSV text, prefixed with a single quote when it would start a formula.

    For text cells only (titles, refs, statuses...): "=HYPERLINK(...)", "+1", "-1 bed days",
    "@SUM(1)" and text starting with a tab or a carriage return all get a leading "'", which
    spreadsheets show as text and do not evaluate. Do not pass the numbers we format ourselves
    (`number`): "-0.905" must stay a number, not become the text "'-0.905".
    """
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def number(value, places=None):
    """A numeric cell: "" for None, else the Decimal in plain notation (ASCII minus, no
    exponent), rounded to `places` (e.g. divergence.TWO) when given. Negative zero ("-0.000",
    which rounding a tiny negative effect size can give) is written as zero."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    value = Decimal(value)
    if places is not None:
        value = divergence.quantize(value, places)
    if value.is_zero():
        value = abs(value)
    return format(value, "f")


def _ref(result):
    return str(result.objective.ref)


def report_csv_rows(analysis):
    """The report CSV as a list of rows (header first): one row per objective of the
    analysis, ordered by ref (the analysis itself is ordered for attention)."""
    period = analysis.round.period.strftime("%Y-%m")
    rows = [list(REPORT_HEADER)]
    for result in sorted(analysis.results, key=_ref):
        objective = result.objective
        rows.append(
            [
                csv_safe(objective.ref),
                csv_safe(objective.title),
                csv_safe(objective.theme),
                csv_safe(period),
                number(result.n_clinical),
                number(result.mean_clinical, TWO),
                number(result.n_managerial),
                number(result.mean_managerial, TWO),
                number(result.gap, TWO),
                number(result.p_value, FOUR),
                number(result.q_value, FOUR),
                number(result.effect_size, THREE),
                csv_safe(result.status),
            ]
        )
    return rows


def pulse_csv_rows(analysis):
    """The pulse CSV as a list of rows (header first): one row per group, in the order
    clinical, managerial, senior_clinical, senior_nonclinical, operational_clinical,
    operational_nonclinical. A suppressed group has a blank n and blank shares; a shown group
    has a blank share where too few of its members answered that question."""
    rows = [list(PULSE_HEADER)]
    for name in PULSE_GROUPS:
        group = analysis.pulse.groups[name]
        if group.n is None:
            rows.append([csv_safe(name), *[""] * (len(PULSE_HEADER) - 1)])
            continue
        rows.append(
            [
                csv_safe(name),
                number(group.n),
                number(group.good_share, THREE),
                *(number(group.outlook_shares.get(o), THREE) for o in PULSE_OUTLOOKS),
                *(number(group.category_shares.get(c), THREE) for c in PULSE_CATEGORIES),
            ]
        )
    return rows


def write_csv(rows):
    """CSV text for `rows` (lists of strings): RFC 4180, i.e. comma-separated, "\\r\\n" line
    endings, fields quoted only when they need it (commas, quotes, line breaks).

    Encode the result as UTF-8 *without* a byte-order mark: the bytes of the download and of the
    email attachment are then exactly the rows, the header starts at the first byte and scripts
    (pandas, R, csv readers) read the column names as written. The cost is that old versions of
    Excel may guess another encoding for non-ASCII titles when a file is opened by double-click
    (Data > From Text/CSV reads it correctly).
    """
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()
