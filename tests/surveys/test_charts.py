"""surveys.charts: SVG that parses, says what it shows, escapes user text and is readable."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import charts
from surveys.charts import as_html, distribution_bars, gap_history, heat_colour, signed, sparkline

SVG = "{http://www.w3.org/2000/svg}"
NASTY = '<script>alert("x")</script> & "quotes"'
CATEGORIES = [
    ("partnership", "Partnership", "#005eb8"),
    ("tension", "Tension", "#d5281b"),
    ("distance", "Distance", "#ffb81c"),
    ("unknown", "Don't know", "#aeb7bd"),
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def parse(svg: str) -> ET.Element:
    """Parse and check what every chart must have: role, label, title, viewBox, size."""
    assert isinstance(svg, str) and not isinstance(svg, SafeString)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == root.get("aria-label")
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    # Self-contained and page-independent: no scripts, links, classes or styles.
    assert "<script" not in svg and "href" not in svg
    for element in root.iter():
        assert "class" not in element.attrib and "style" not in element.attrib
    return root


def alt(svg: str) -> str:
    return ET.fromstring(svg).find(f"{SVG}title").text


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def all_charts(label: str) -> list[str]:
    return [
        sparkline([0.4, None, -0.2], label=label),
        gap_history([label, "Jul"], [0.5, None], title=label),
        distribution_bars([(label, {"partnership": 0.5, "tension": 0.5})], categories=CATEGORIES, title=label),
        distribution_bars(
            [("Clinical", {"partnership": 1.0})], categories=[("partnership", label, "#005eb8")], suppressed_text=label
        ),
        distribution_bars([(label, {})], categories=CATEGORIES, suppressed_text=label),
    ]


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    "value, expected",
    [
        (0.4, "+0.40"),
        (-0.2, "\u22120.20"),
        (None, "\u2014"),
        (0, "0.00"),
        (-0.001, "0.00"),
        (0.125, "+0.13"),
        (-1.005, "\u22121.01"),
        (3, "+3.00"),
        (float("nan"), "\u2014"),
    ],
)
def test_signed(value, expected):
    assert signed(value) == expected


# --------------------------------------------------------------------------- common properties


@pytest.mark.parametrize("index", range(5))
def test_every_chart_is_well_formed_and_labelled(index):
    parse(all_charts("Objective")[index])


@pytest.mark.parametrize("index", range(5))
def test_user_text_is_escaped(index):
    svg = all_charts(NASTY)[index]
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    visible = " ".join(texts(root))
    assert NASTY[:8] in root.get("aria-label") or NASTY[:8] in visible  # text survives the round trip


def test_characters_xml_forbids_are_dropped():
    svg = sparkline([1.0], label="bell\x07 and \x00null")
    assert alt(svg).startswith("bell and null.")


def test_charts_are_deterministic():
    for make in (lambda: all_charts(NASTY), lambda: [heat_colour(m / 10) for m in range(10, 51)]):
        assert make() == make()


def test_as_html_marks_safe_only_there():
    svg = sparkline([0.5])
    html = as_html(svg)
    assert isinstance(html, SafeString) and str(html) == svg
    assert not isinstance(svg, SafeString)


# --------------------------------------------------------------------------- heat colour


def test_heat_colour_contrast_across_the_range():
    for step in range(81):
        mean = 1.0 + step * 0.05
        background, text = heat_colour(mean)
        assert re.fullmatch("#[0-9a-f]{6}", background)
        assert text in ("#ffffff", "#212b32")
        assert charts.contrast_ratio(background, text) >= 4.5, (mean, background, text)


def test_heat_colour_scale_ends_and_middle():
    low, _ = heat_colour(1.0)
    middle, middle_text = heat_colour(3.0)
    high, _ = heat_colour(5.0)
    assert low == "#d5281b" and middle == "#f0f4f5" and high == "#005eb8"
    assert middle_text == "#212b32"
    red, _, blue = charts._rgb(heat_colour(1.5)[0])
    assert red > blue  # warm below the middle
    red, _, blue = charts._rgb(heat_colour(4.5)[0])
    assert blue > red  # blue above it


def test_heat_colour_blank_and_out_of_range():
    assert heat_colour(None) == ("#ffffff", "#425563")
    assert heat_colour(0.2) == heat_colour(1.0)
    assert heat_colour(7) == heat_colour(5.0)
    assert heat_colour(2, low=0, high=4) == heat_colour(3.0)


# --------------------------------------------------------------------------- sparkline


def test_sparkline_text_alternative_with_gaps_and_negatives():
    svg = sparkline([0.4, 0.55, None, -0.2])
    assert alt(svg) == "Gap over the last 4 periods: +0.40, +0.55, \u2014, \u22120.20"
    assert parse(svg).get("aria-label") == alt(svg)


def test_sparkline_label_prefix():
    assert alt(sparkline([-1.5], label="Cut waiting lists")) == (
        "Cut waiting lists. Gap over the last 1 period: \u22121.50"
    )


def test_sparkline_gap_breaks_the_line():
    root = parse(sparkline([0.4, 0.55, None, -0.2, -0.1]))
    lines = root.findall(f"{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    circles = root.findall(f"{SVG}circle")
    assert len(circles) == 1  # the most recent point only
    assert float(circles[0].get("cx")) == pytest.approx(116)


def test_sparkline_isolated_point_is_still_visible():
    root = parse(sparkline([0.4, None, 0.5, None, None]))
    assert not root.findall(f"{SVG}polyline")
    assert len(root.findall(f"{SVG}circle")) == 2  # a small dot, then the last point


@pytest.mark.parametrize("values", [[], [None], [None, None, None]])
def test_sparkline_without_data(values):
    root = parse(sparkline(values))
    assert root.find(f"{SVG}title").text == "No data"
    assert not root.findall(f"{SVG}polyline") and not root.findall(f"{SVG}circle")
    assert not root.findall(f"{SVG}line")
    assert "No data" in texts(root)


def test_sparkline_single_value():
    root = parse(sparkline([0.3], width=100, height=20))
    assert not root.findall(f"{SVG}polyline")
    (dot,) = root.findall(f"{SVG}circle")
    assert float(dot.get("cx")) == pytest.approx(50)
    assert alt(sparkline([0.3])) == "Gap over the last 1 period: +0.30"


def test_sparkline_range_is_symmetric_and_at_least_one():
    # Small values: the range is -1..+1, so 0.5 sits a quarter of the way down from the top.
    root = parse(sparkline([0.5, -0.5], height=28))
    zero = float(root.find(f"{SVG}line").get("y1"))
    assert zero == pytest.approx(14)
    first, second = (tuple(map(float, p.split(","))) for p in root.find(f"{SVG}polyline").get("points").split())
    assert first[1] == pytest.approx(4 + 20 * 0.25) and second[1] == pytest.approx(4 + 20 * 0.75)
    # Large negative only: still symmetric, zero line in the middle, the value at the bottom.
    root = parse(sparkline([-3.0, -2.0], height=28))
    assert float(root.find(f"{SVG}line").get("y1")) == pytest.approx(14)
    (dot,) = root.findall(f"{SVG}circle")
    assert float(dot.get("cy")) == pytest.approx(4 + 20 * (3 + 2) / 6, abs=0.01)
    first = root.find(f"{SVG}polyline").get("points").split()[0]
    assert float(first.split(",")[1]) == pytest.approx(24)


# --------------------------------------------------------------------------- gap history


def test_gap_history_twelve_periods_with_blanks():
    gaps = [0.2, 0.45, None, 0.8, 1.1, 1.35, None, None, -0.3, -1.2, 0.0, 3.9]
    svg = gap_history(MONTHS, gaps)
    root = parse(svg)
    assert alt(svg) == (
        "Gap between clinical and managerial means. By period: Jan +0.20; Feb +0.45; Mar no value; "
        "Apr +0.80; May +1.10; Jun +1.35; Jul no value; Aug no value; Sep \u22120.30; Oct \u22121.20; "
        "Nov 0.00; Dec +3.90."
    )
    shown = texts(root)
    for month in MONTHS:
        assert month in shown
    for tick in ("\u22122", "\u22121", "0", "+1", "+2"):
        assert tick in shown
    for value in ("+0.20", "+1.35", "\u22121.20", "+3.90", "0.00"):
        assert value in shown
    assert shown.count("\u2014") == 3
    assert len(root.findall(f"{SVG}circle")) == 9
    # Blanks break the line: Jan-Feb, Apr-Jun, Sep-Dec.
    runs = [len(line.get("points").split()) for line in root.findall(f"{SVG}polyline")]
    assert runs == [2, 3, 4]
    assert "Divergent zone: gap of 1 or more" in shown and "Watch zone: 0.5 to 1" in shown


def test_gap_history_sizes_and_title():
    root = parse(gap_history(["Jun"], [None], width=400, height=180, title=""))
    assert (root.get("width"), root.get("height")) == ("400", "180")
    assert alt(gap_history(["Jun"], [None], title="")).startswith("Gap between clinical and managerial means.")
    assert alt(gap_history([], [])).endswith("No data.")


def test_gap_history_length_mismatch():
    with pytest.raises(ValueError):
        gap_history(["Jun", "Jul"], [0.1])


# --------------------------------------------------------------------------- distribution bars


def segments(root: ET.Element, row_y: float) -> list[ET.Element]:
    return [r for r in root.findall(f"{SVG}rect") if float(r.get("y")) == row_y and r.get("fill") != "none"]


def test_distribution_bars_segments_fill_the_bar():
    shares = {"partnership": 0.2, "tension": 0.4, "distance": 0.3, "unknown": 0.1}
    root = parse(distribution_bars([("Clinical", shares)], categories=CATEGORIES, width=560))
    rects = [r for r in root.findall(f"{SVG}rect") if float(r.get("height")) > 12]
    assert [r.get("fill") for r in rects] == [c[2] for c in CATEGORIES]
    bar_left, bar_right = 560 * 0.3 + 8, 560 - 4
    assert float(rects[0].get("x")) == pytest.approx(bar_left)
    assert sum(float(r.get("width")) for r in rects) == pytest.approx(bar_right - bar_left, abs=0.5)
    assert float(rects[1].get("width")) == pytest.approx((bar_right - bar_left) * 0.4, abs=0.02)
    shown = texts(root)
    assert ["20%", "40%", "30%", "10%"] == [t for t in shown if t.endswith("%")]
    assert [c[1] for c in CATEGORIES] == shown[-4:]  # the legend


def test_distribution_bars_thirds_add_up():
    third = 1 / 3
    root = parse(
        distribution_bars(
            [("Managerial", {"partnership": third, "tension": third, "distance": third})], categories=CATEGORIES
        )
    )
    rects = [r for r in root.findall(f"{SVG}rect") if float(r.get("height")) > 12]
    assert sum(float(r.get("width")) for r in rects) == pytest.approx(560 - 4 - (560 * 0.3 + 8), abs=0.5)
    assert [t for t in texts(root) if t.endswith("%")] == ["33%", "33%", "33%"]


def test_distribution_bars_suppressed_row_and_text_alternative():
    rows = [
        ("Clinical", {"partnership": 0.2, "tension": 0.4, "distance": 0.35, "unknown": 0.05}),
        ("Managerial", {"partnership": None, "tension": None, "distance": None, "unknown": None}),
    ]
    svg = distribution_bars(rows, categories=CATEGORIES, title="How people see the relationship")
    root = parse(svg)
    assert alt(svg) == (
        "How people see the relationship. Clinical: Partnership 20%, Tension 40%, Distance 35%, Don't know 5%. "
        "Managerial: Not shown: group too small."
    )
    shown = texts(root)
    assert "Not shown: group too small" in shown
    assert "5%" not in shown  # under 8% of the bar: no room for a label
    grey = [r for r in root.findall(f"{SVG}rect") if r.get("fill") == charts.GREY_PALE]
    assert len(grey) == 1 and float(grey[0].get("width")) == pytest.approx(560 - 4 - (560 * 0.3 + 8))
    # Height follows the rows: title, two rows, legend.
    assert float(root.get("height")) == 24 + 2 * 26 + 8 + 18


def test_distribution_bars_custom_suppressed_text():
    svg = distribution_bars([("Managerial", {})], categories=CATEGORIES, suppressed_text="Fewer than 5 people")
    assert "Fewer than 5 people" in texts(parse(svg))
    assert alt(svg) == "Managerial: Fewer than 5 people."


def test_distribution_bars_percentage_text_contrasts():
    root = parse(
        distribution_bars(
            [("All", {"partnership": 0.25, "tension": 0.25, "distance": 0.25, "unknown": 0.25})], categories=CATEGORIES
        )
    )
    fills = [t.get("fill") for t in root.iter(f"{SVG}text") if t.text == "25%"]
    assert fills == ["#ffffff", "#ffffff", "#212b32", "#212b32"]


# --------------------------------------------------------------------------- properties

GAPS = st.lists(st.one_of(st.none(), st.floats(min_value=-4, max_value=4)), max_size=24)


@settings(max_examples=150, deadline=None)
@given(GAPS)
def test_sparkline_and_gap_history_always_parse(gaps):
    parse(sparkline(gaps, label="Objective"))
    periods = [f"P{i}" for i in range(len(gaps))]
    root = parse(gap_history(periods, gaps))
    assert len(root.findall(f"{SVG}circle")) == sum(g is not None for g in gaps)
