""" "What to talk about": which objectives, in what order, and neutral wording built from the data."""

import re
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from surveys import divergence
from surveys.divergence import GroupStat, ObjectiveResult, ScoreRow
from surveys.talk import TalkingPoint, davies_line, talking_points

BLAME_WORDS = re.compile(
    r"\b(fault|faults|fail|fails|failing|failed|failure|wrong|blame|blames|to blame|should|must|"
    r"poor|worse|better than|ignore|ignores|ignoring|refuse|refuses|resist|resists|obstruct\w*|incompetent)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Obj:
    ref: str
    title: str = "A shared objective"
    theme: str = "dialogue"


def result(ref, mean_c, mean_m, status, widening=False, trend=None, davies=None, title=None):
    """An ObjectiveResult as round_results would leave it, with chosen means/status/trend."""
    mean_c, mean_m = Decimal(mean_c), Decimal(mean_m)
    groups = {g: GroupStat(0, None) for g in divergence.GROUPS}
    groups["clinical"] = GroupStat(12, mean_c)
    groups["managerial"] = GroupStat(10, mean_m)
    for name, mean in (davies or {}).items():
        groups[name] = GroupStat(6, Decimal(mean))
    q = Decimal("0.0100") if status == "divergent" else Decimal("0.2000")
    return ObjectiveResult(
        Obj(ref, title or f"Objective {ref}"),
        groups,
        mean_c - mean_m,
        Decimal("0.0050"),
        Decimal("0.500"),
        q_value=q,
        status=status,
        trend=None if trend is None else Decimal(trend),
        widening=widening,
    )


def analysis_of(results):
    return SimpleNamespace(results=divergence.sorted_for_attention(results), thresholds=divergence.Thresholds())


def all_text(points):
    return " ".join(line for point in points for line in point.lines)


def test_top_three_divergent_by_gap_then_widening():
    results = [
        result("OBJ-01", "3.00", "2.80", "aligned"),
        result("OBJ-02", "2.00", "3.20", "divergent"),  # 1.20
        result("OBJ-03", "4.50", "2.50", "divergent"),  # 2.00
        result("OBJ-04", "3.10", "2.40", "watch", widening=True, trend="0.30"),  # 0.70
        result("OBJ-05", "1.90", "3.50", "divergent"),  # 1.60
        result("OBJ-06", "3.00", "3.00", "insufficient"),
    ]
    points = talking_points(analysis_of(results))
    assert [p.ref for p in points] == ["OBJ-03", "OBJ-05", "OBJ-02"]
    assert all(isinstance(p, TalkingPoint) for p in points)
    assert [p.ref for p in talking_points(analysis_of(results), limit=5)] == ["OBJ-03", "OBJ-05", "OBJ-02", "OBJ-04"]


def test_widening_after_divergent_even_with_a_wider_gap_and_no_duplicates():
    results = [
        result("OBJ-01", "3.80", "2.50", "divergent", widening=True, trend="0.40"),  # 1.30, both: once
        result("OBJ-02", "1.50", "3.50", "watch", widening=True, trend="-0.50"),  # 2.00, not significant
        result("OBJ-03", "3.00", "2.40", "watch", widening=True, trend="0.10"),  # 0.60
        result("OBJ-04", "3.00", "2.20", "watch"),  # not widening: never listed
    ]
    points = talking_points(analysis_of(results))
    assert [p.ref for p in points] == ["OBJ-01", "OBJ-02", "OBJ-03"]
    assert [(p.status, p.widening) for p in points] == [("divergent", True), ("watch", True), ("watch", True)]
    assert [p.gap for p in points] == [Decimal("1.30"), Decimal("-2.00"), Decimal("0.60")]
    assert len({p.ref for p in talking_points(analysis_of(results), limit=10)}) == 3


def test_empty_when_nothing_divergent_or_widening():
    results = [
        result("OBJ-01", "3.00", "2.40", "watch"),
        result("OBJ-02", "3.00", "2.90", "aligned"),
        result("OBJ-03", "3.00", "3.00", "insufficient"),
    ]
    assert talking_points(analysis_of(results)) == []
    assert talking_points(analysis_of([])) == []


def test_lines_say_who_sees_more_progress_and_how_big_the_gap_is():
    [managers_higher] = talking_points(analysis_of([result("OBJ-01", "2.10", "3.60", "divergent")]))
    assert managers_higher.lines[0] == (
        "Managers see more progress than clinicians: an average of 3.60 against 2.10, "
        "a gap of 1.50 points on the 1–5 scale."
    )
    assert managers_higher.lines[1] == "A difference this size is unlikely to be chance (q = 0.0100)."
    tiny_q = result("OBJ-03", "2.10", "3.60", "divergent")
    tiny_q.q_value = Decimal("0.0000")
    [point] = talking_points(analysis_of([tiny_q]))
    assert point.lines[1] == "A difference this size is unlikely to be chance (q < 0.0001)."
    [clinicians_higher] = talking_points(analysis_of([result("OBJ-02", "4.25", "3.00", "divergent")]))
    assert clinicians_higher.lines[0].startswith("Clinicians see more progress than managers: an average of 4.25")
    assert "a gap of 1.25 points" in clinicians_higher.lines[0]


def test_widening_line_and_question():
    [point] = talking_points(analysis_of([result("OBJ-01", "2.40", "3.10", "watch", widening=True, trend="-0.30")]))
    assert "The gap has widened two months running, from 0.40 last month to 0.70 now." in point.lines
    assert "What has changed for each side over the last two months?" in point.lines
    [steady] = talking_points(analysis_of([result("OBJ-02", "2.00", "3.50", "divergent", trend="0.10")]))
    assert not any("widen" in line for line in steady.lines)


def test_questions_are_neutral_prompts_for_both_sides():
    [point] = talking_points(analysis_of([result("OBJ-01", "2.00", "3.50", "divergent")]))
    questions = [line for line in point.lines if line.endswith("?")]
    assert "What does each side see that the other does not?" in questions
    assert "What would progress look like to both?" in questions


def test_wording_never_blames_either_profession():
    results = [
        result("OBJ-01", "1.50", "3.80", "divergent", widening=True, trend="-0.40", davies=_all_davies()),
        result(
            "OBJ-02",
            "4.20",
            "2.10",
            "divergent",
            davies={"senior_nonclinical": "2.50", "operational_nonclinical": "1.90"},
        ),
        result("OBJ-03", "2.90", "2.20", "watch", widening=True, trend="0.20"),
        result("OBJ-04", "2.00", "2.20", "aligned", widening=True, trend="-0.05"),
    ]
    points = talking_points(analysis_of(results), limit=10)
    assert len(points) == 4
    text = all_text(points)
    assert not BLAME_WORDS.search(text), BLAME_WORDS.search(text)
    for point in points:
        assert any(line.endswith("?") for line in point.lines)
        assert all(line[0].isupper() and line[-1] in ".?" for line in point.lines), point.lines


def _all_davies():
    return {
        "senior_clinical": "2.60",
        "operational_clinical": "1.87",
        "senior_nonclinical": "4.10",
        "operational_nonclinical": "3.50",
    }


# --- the Davies pattern --------------------------------------------------------------------------


def test_davies_line_when_all_four_groups_shown():
    [point] = talking_points(analysis_of([result("OBJ-01", "2.10", "3.70", "divergent", davies=_all_davies())]))
    assert "Operational clinicians rate it lowest (1.87); senior managers rate it highest (4.10)." in point.lines
    assert "How does this objective look from the board and from the front line?" in point.lines


def test_davies_line_when_one_sides_pair_is_shown():
    r = result(
        "OBJ-01", "2.10", "3.70", "divergent", davies={"senior_clinical": "3.10", "operational_clinical": "1.87"}
    )
    assert (
        davies_line(r) == "Among clinicians, operational clinicians rate it lower (1.87) than senior clinicians (3.10)."
    )
    # The other side's single shown sub-group (its sibling has nobody) is not compared with them.
    r.groups["senior_nonclinical"] = divergence.GroupStat(10, Decimal("1.50"))
    assert (
        davies_line(r) == "Among clinicians, operational clinicians rate it lower (1.87) than senior clinicians (3.10)."
    )
    managers = result(
        "OBJ-02", "2.10", "3.70", "divergent", davies={"senior_nonclinical": "4.50", "operational_nonclinical": "4.17"}
    )
    assert (
        davies_line(managers)
        == "Among managers, operational managers rate it lower (4.17) than senior managers (4.50)."
    )


def test_no_davies_line_unless_both_subgroups_of_a_side_are_shown():
    # One sub-group of each side shown (their siblings have nobody): the split says nothing.
    r = result(
        "OBJ-01", "2.10", "3.70", "divergent", davies={"operational_clinical": "2.10", "senior_nonclinical": "3.70"}
    )
    [point] = talking_points(analysis_of([r]))
    assert davies_line(r) is None
    assert not any("lowest" in line or "front line" in line for line in point.lines)
    # All sub-groups suppressed.
    [point] = talking_points(analysis_of([result("OBJ-02", "2.10", "3.70", "divergent")]))
    assert not any("lowest" in line for line in point.lines)


def test_davies_ties_named_together_and_no_line_when_all_equal():
    r = result(
        "OBJ-01",
        "2.10",
        "3.70",
        "divergent",
        davies={
            "senior_clinical": "2.10",
            "operational_clinical": "2.10",
            "senior_nonclinical": "3.70",
            "operational_nonclinical": "3.70",
        },
    )
    assert davies_line(r) == (
        "Senior clinicians and operational clinicians rate it lowest (2.10); "
        "senior managers and operational managers rate it highest (3.70)."
    )
    same = result("OBJ-02", "3.00", "3.00", "watch", davies={"senior_clinical": "3.00", "operational_clinical": "3.00"})
    assert davies_line(same) is None


def test_from_score_rows_with_suppressed_davies_groups():
    """End to end from ScoreRows: a divergent objective whose senior groups are too small."""
    obj = Obj("OBJ-09", "Shared theatre schedule")
    rows = [
        *(ScoreRow(obj, "clinical", "operational", s) for s in [1, 2, 2, 1, 2, 3, 2]),
        *(ScoreRow(obj, "managerial", "operational", s) for s in [4, 4, 5, 4, 3, 4]),
        ScoreRow(obj, "clinical", "board", 3),  # 1 senior clinician: both clinical sub-groups hidden
    ]
    results = divergence.round_results(rows)
    [point] = talking_points(analysis_of(results))
    assert point.ref == "OBJ-09" and point.title == "Shared theatre schedule" and point.status == "divergent"
    assert point.lines[0].startswith("Managers see more progress than clinicians: an average of 4.00 against 2.00")
    assert not any("lowest" in line for line in point.lines)
