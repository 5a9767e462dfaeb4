"""The report and pulse CSVs (DESIGN.md §6) from hand-built analyses: exact headers, column
order, number formats, blanks, ordering by ref and formula-injection neutralisation."""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from scipy.stats import false_discovery_control, mannwhitneyu

from surveys import divergence
from surveys.divergence import GroupStat, ObjectiveResult, PulseRow, ScoreRow
from surveys.exports import csv_safe, number, pulse_csv_rows, report_csv_rows, write_csv

REPORT_HEADER = (
    "objective_ref,objective_title,theme,period,n_clinical,mean_clinical,n_managerial,mean_managerial,"
    "gap,p_value,q_value,effect_size,status"
)
PULSE_HEADER = (
    "group,n,good_share,improve_share,same_share,deteriorate_share,"
    "partnership_share,tension_share,tolerance_share,unresolved_share"
)
PULSE_GROUPS = [
    "clinical",
    "managerial",
    "senior_clinical",
    "senior_nonclinical",
    "operational_clinical",
    "operational_nonclinical",
]


@dataclass(frozen=True)
class Obj:
    """Stands in for an Objective: the CSV reads only ref, title and theme."""

    ref: str
    title: str = "A shared objective"
    theme: str = "dialogue"


def score_rows(objective, group, level, scores):
    return [ScoreRow(objective, group, level, score) for score in scores]


def analysis_of(results, pulse_rows=(), period=date(2026, 2, 1), min_group_size=5):
    """A RoundAnalysis-like object: what the exports read."""
    return SimpleNamespace(
        round=SimpleNamespace(period=period),
        results=divergence.sorted_for_attention(results),
        pulse=divergence.pulse_summary(list(pulse_rows), min_group_size),
    )


def hand_result(objective, *, n_c, mean_c, n_m, mean_m, gap, p, q, r, status):
    groups = {g: GroupStat(0, None) for g in divergence.GROUPS}
    groups["clinical"] = GroupStat(n_c, mean_c)
    groups["managerial"] = GroupStat(n_m, mean_m)
    return ObjectiveResult(objective, groups, gap, p, r, q_value=q, status=status)


def header_line(text):
    return text.split("\r\n", 1)[0]


# --- headers -----------------------------------------------------------------------------------


def test_report_header_exact():
    rows = report_csv_rows(analysis_of([]))
    assert ",".join(rows[0]) == REPORT_HEADER
    assert header_line(write_csv(rows)) == REPORT_HEADER
    assert rows[1:] == []


def test_pulse_header_exact_and_one_row_per_group_in_order():
    rows = pulse_csv_rows(analysis_of([]))
    assert ",".join(rows[0]) == PULSE_HEADER
    assert header_line(write_csv(rows)) == PULSE_HEADER
    assert [row[0] for row in rows[1:]] == PULSE_GROUPS
    assert all(len(row) == 10 for row in rows)


# --- report rows -------------------------------------------------------------------------------


def test_report_row_formats_decimals_exactly_as_stored():
    result = hand_result(
        Obj("OBJ-07", "Joint job planning", "aligned-interests"),
        n_c=12,
        mean_c=Decimal("2.30"),
        n_m=9,
        mean_m=Decimal("3.55"),
        gap=Decimal("-1.25"),
        p=Decimal("0.0412"),
        q=Decimal("0.0480"),
        r=Decimal("-0.905"),
        status="divergent",
    )
    rows = report_csv_rows(analysis_of([result]))
    assert rows[1] == [
        "OBJ-07",
        "Joint job planning",
        "aligned-interests",
        "2026-02",
        "12",
        "2.30",
        "9",
        "3.55",
        "-1.25",
        "0.0412",
        "0.0480",
        "-0.905",
        "divergent",
    ]
    assert write_csv(rows).split("\r\n")[1] == (
        "OBJ-07,Joint job planning,aligned-interests,2026-02,12,2.30,9,3.55,-1.25,0.0412,0.0480,-0.905,divergent"
    )


def test_report_row_from_score_rows_matches_scipy():
    """A row built by divergence.round_results: means by hand, p/q/r cross-checked with scipy."""
    clinical = [5, 5, 4, 4, 4, 3]
    managerial = [2, 2, 3, 1, 2, 3, 2]
    other_c, other_m = [3, 3, 4, 3, 2], [3, 4, 3, 3, 3]
    a, b = Obj("OBJ-01", "Clinicians co-lead redesigns"), Obj("OBJ-02", "Shared waiting list plan", "continuity")
    rows = [
        *score_rows(a, "clinical", "operational", clinical),
        *score_rows(a, "managerial", "operational", managerial),
        *score_rows(a, "managerial", "board", [None, None]),  # can't judge: not counted
        *score_rows(b, "clinical", "operational", other_c),
        *score_rows(b, "managerial", "operational", other_m),
    ]
    results = divergence.round_results(rows)
    csv_rows = report_csv_rows(analysis_of(results))

    p_a = mannwhitneyu(clinical, managerial, alternative="two-sided")
    p_b = mannwhitneyu(other_c, other_m, alternative="two-sided")
    q_a = false_discovery_control([p_a.pvalue, p_b.pvalue])[0]
    r_a = 2 * p_a.statistic / (len(clinical) * len(managerial)) - 1
    assert csv_rows[1] == [
        "OBJ-01",
        "Clinicians co-lead redesigns",
        "dialogue",
        "2026-02",
        "6",
        "4.17",  # 25 / 6
        "7",
        "2.14",  # 15 / 7
        "2.03",
        f"{p_a.pvalue:.4f}",
        f"{q_a:.4f}",
        f"{r_a:.3f}",
        "divergent",
    ]
    assert csv_rows[2][:9] == [
        "OBJ-02",
        "Shared waiting list plan",
        "continuity",
        "2026-02",
        "5",
        "3.00",
        "5",
        "3.20",
        "-0.20",
    ]


def test_report_rows_ordered_by_ref_not_by_attention():
    def result(ref, gap, status):
        stat = Decimal("3.00")
        return hand_result(
            Obj(ref), n_c=6, mean_c=stat + gap, n_m=6, mean_m=stat, gap=gap, p=None, q=None, r=None, status=status
        )

    analysis = analysis_of(
        [
            result("OBJ-03", Decimal("0.10"), "aligned"),
            result("OBJ-01", Decimal("0.60"), "watch"),
            result("OBJ-02", Decimal("1.50"), "divergent"),
        ]
    )
    assert [r.objective.ref for r in analysis.results] == ["OBJ-02", "OBJ-01", "OBJ-03"]  # attention order
    assert [row[0] for row in report_csv_rows(analysis)[1:]] == ["OBJ-01", "OBJ-02", "OBJ-03"]


def test_report_blanks_for_suppressed_and_unrated():
    a, b = Obj("OBJ-01"), Obj("OBJ-02")
    rows = [
        *score_rows(a, "clinical", "operational", [4, 4, 5, 3, 4, 4]),
        *score_rows(a, "managerial", "operational", [2, 3, 2]),  # 3 < 5: suppressed
    ]
    results = divergence.round_results(rows, objectives=[a, b])  # b rateable, nobody rated it
    csv_rows = report_csv_rows(analysis_of(results))
    # A hidden group's n is blank like its mean (DESIGN.md §6): not "3", not "0".
    assert csv_rows[1][4:] == ["6", "4.00", "", "", "", "", "", "", "insufficient"]
    assert csv_rows[2][4:] == ["", "", "", "", "", "", "", "", "insufficient"]
    assert "None" not in write_csv(csv_rows)


def test_report_period_is_year_month():
    rows = report_csv_rows(analysis_of([hand_result(Obj("A-1"), **_blank())], period=date(2025, 11, 1)))
    assert rows[1][3] == "2025-11"


def _blank():
    return dict(n_c=0, mean_c=None, n_m=0, mean_m=None, gap=None, p=None, q=None, r=None, status="insufficient")


# --- pulse rows --------------------------------------------------------------------------------


def pulse(group, level, quality, outlook="", category=""):
    return PulseRow(group, level, quality, outlook, category, {})


def test_pulse_rows_values_and_suppression():
    clinical = [
        pulse("clinical", "operational", 5, "improve", "partnership"),
        pulse("clinical", "operational", 4, "improve", "partnership"),
        pulse("clinical", "operational", 4, "improve", "tension"),
        pulse("clinical", "operational", 2, "same", "tension"),
        pulse("clinical", "operational", 1, "same", "tolerance"),
        pulse("clinical", "operational", 3, "deteriorate", "unresolved"),
    ]
    managerial = [pulse("managerial", "board", 4, "improve", "partnership") for _ in range(5)] + [
        pulse("managerial", "operational", 2, "same", "tension") for _ in range(2)
    ]
    rows = pulse_csv_rows(analysis_of([], clinical + managerial))
    by_group = {row[0]: row[1:] for row in rows[1:]}
    assert by_group["clinical"] == ["6", "0.500", "0.500", "0.333", "0.167", "0.333", "0.333", "0.167", "0.167"]
    # Its sibling has nobody in it, and showing it beside "clinical" would say so: hidden.
    assert by_group["operational_clinical"] == [""] * 9
    assert by_group["managerial"] == ["7", "0.714", "0.714", "0.286", "0.000", "0.714", "0.286", "0.000", "0.000"]
    # Nobody: suppressed. Operational managers (2) suppressed, so senior managers too (differencing).
    for hidden in ("senior_clinical", "senior_nonclinical", "operational_nonclinical"):
        assert by_group[hidden] == [""] * 9, hidden


def test_pulse_blank_share_where_too_few_answered_a_question():
    rows = [pulse("clinical", "operational", 4, "improve" if i < 4 else "") for i in range(6)]
    by_group = {row[0]: row[1:] for row in pulse_csv_rows(analysis_of([], rows))[1:]}
    assert by_group["clinical"][:5] == ["6", "1.000", "", "", ""]  # only 4 answered the outlook
    assert by_group["managerial"] == [""] * 9


# --- formula injection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, cell",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1", "'+1"),
        ("-1 beds", "'-1 beds"),
        ("-1 bed days", "'-1 bed days"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Fewer cancelled lists", "Fewer cancelled lists"),
        ("Cut waits by 10% - and keep them down", "Cut waits by 10% - and keep them down"),
        ("", ""),
    ],
)
def test_csv_safe(title, cell):
    assert csv_safe(title) == cell


def test_csv_safe_none_is_blank():
    assert csv_safe(None) == ""


def test_titles_and_refs_neutralised_but_negative_numbers_stay_numeric():
    result = hand_result(
        Obj("-OBJ", "=cmd|' /C calc'!A0", "dialogue"),
        n_c=6,
        mean_c=Decimal("1.75"),
        n_m=6,
        mean_m=Decimal("3.00"),
        gap=Decimal("-1.25"),
        p=Decimal("0.0040"),
        q=Decimal("0.0120"),
        r=Decimal("-0.905"),
        status="divergent",
    )
    rows = report_csv_rows(analysis_of([result]))
    assert rows[1][:2] == ["'-OBJ", "'=cmd|' /C calc'!A0"]
    assert rows[1][8] == "-1.25" and rows[1][11] == "-0.905"
    parsed = list(csv.reader(io.StringIO(write_csv(rows))))
    assert parsed[1][1] == "'=cmd|' /C calc'!A0"
    assert float(parsed[1][8]) == -1.25 and float(parsed[1][11]) == -0.905
    for cell in parsed[1]:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell


def test_every_text_cell_is_neutralised():
    nasty = ["=1", "+1", "-1", "@1", "\t1", "\r1"]
    results = [hand_result(Obj(f"R{i}", title, "dialogue"), **_blank()) for i, title in enumerate(nasty)]
    for row in report_csv_rows(analysis_of(results))[1:]:
        assert row[1].startswith("'")


# --- numbers and CSV text ------------------------------------------------------------------------


def test_number_formats():
    assert number(None) == ""
    assert number(0) == "0"
    assert number(Decimal("2.3"), divergence.TWO) == "2.30"
    assert number(Decimal("0.0001"), divergence.FOUR) == "0.0001"  # never 1E-4
    assert number(Decimal("0E-4")) == "0.0000"
    assert number(Decimal("-0.000")) == "0.000"  # no negative zero
    assert number(Decimal("-1.25")) == "-1.25"


def test_write_csv_rfc4180_crlf_minimal_quoting_no_bom():
    text = write_csv([["a", "b"], ["x, y", 'say "hi"'], ["line\nbreak", "plain"]])
    assert text == 'a,b\r\n"x, y","say ""hi"""\r\n"line\nbreak",plain\r\n'
    data = text.encode("utf-8")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["x, y", 'say "hi"'], ["line\nbreak", "plain"]]


def test_write_csv_keeps_unicode():
    result = hand_result(Obj("OBJ-01", "Doctor–manager forums, monthly"), **_blank())
    text = write_csv(report_csv_rows(analysis_of([result])))
    assert '"Doctor–manager forums, monthly"' in text
    assert text.encode("utf-8").decode("utf-8") == text
