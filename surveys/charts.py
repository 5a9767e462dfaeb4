"""Charts: one small drawing module for every medium (DESIGN §7 "Charts").

Every function returns plain SVG markup (a ``str``) that works unchanged inline in an HTML
page, inside WeasyPrint's PDF and when converted to a PNG for email: a ``viewBox``, explicit
``width``/``height``, presentation attributes only (no CSS classes, no ``style``, no scripts,
no external resources), ``role="img"`` with an ``aria-label`` and a ``<title>`` holding the
text alternative. Every piece of text is XML-escaped, since labels (objective titles, group
names) may come from users. Colour is never the only signal: numbers, labels, legends and
line breaks carry the same information.

Pure Python: no ORM, no settings, no third-party packages. ``as_html`` is the one place that
marks markup safe for templates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe

__all__ = [
    "as_html",
    "distribution_bars",
    "gap_history",
    "heat_colour",
    "signed",
    "sparkline",
]

# NHS identity colours.
NHS_BLUE = "#005eb8"
NHS_RED = "#d5281b"
TEXT_DARK = "#212b32"
TEXT_SECONDARY = "#425563"
GREY_MID = "#768692"
GREY_LINE = "#aeb7bd"
GREY_PALE = "#d8dde0"
WHITE = "#ffffff"
FONT = "Arial, Helvetica, sans-serif"

MINUS = "\u2212"
EM_DASH = "\u2014"
ELLIPSIS = "\u2026"

# Diverging scale for a 1-5 mean: five stops, red (little progress) through a light neutral
# (3) to blue (much progress), interpolated in RGB.
_HEAT_STOPS = ("#d5281b", "#f2968d", "#f0f4f5", "#8fb9e6", "#005eb8")
_MIN_CONTRAST = 4.5
_CONTRAST_MARGIN = 4.6  # aim a little above 4.5 so rounding to a hex colour never dips under

# Characters XML 1.0 forbids even when escaped; a label containing one would break the parse.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- formatting


def signed(value) -> str:
    """A gap for people: two decimals, explicit "+" for positives, the Unicode minus sign
    (U+2212) for negatives, "0.00" for zero and an em dash for ``None`` (blank/suppressed).

    >>> signed(0.4), signed(-0.2), signed(None)
    ('+0.40', '−0.20', '—')
    """
    number = _decimal(value)
    if number is None:
        return EM_DASH
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if rounded == 0:
        return "0.00"
    return f"{'+' if rounded > 0 else MINUS}{abs(rounded):.2f}"


def _decimal(value) -> Decimal | None:
    """``value`` as a Decimal (via its shortest repr, so 0.125 rounds half up), or None when
    it is None, NaN or infinite."""
    if value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    except (TypeError, ValueError, InvalidOperation):
        return None
    return number if number.is_finite() else None


def _float(value) -> float | None:
    """``value`` as a finite float, or None (missing, NaN, infinite)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _percent(share: float) -> str:
    whole = Decimal(repr(share * 100)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{whole}%"


def _n(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros, never "-0"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _clean(text) -> str:
    return _XML_INVALID.sub("", str(text))


def _text(text) -> str:
    """Escape for element content."""
    return escape(_clean(text))


def _attr(value) -> str:
    """A quoted, escaped attribute value (quotes included)."""
    return quoteattr(_clean(value))


def _truncate(text: str, max_width: float, font_size: float) -> str:
    """Shorten ``text`` with an ellipsis so it roughly fits ``max_width`` (approximate widths;
    the full text always stays in the chart's text alternative)."""
    max_chars = max(1, int(max_width / (font_size * 0.56)))
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + ELLIPSIS


def _text_width(text: str, font_size: float) -> float:
    """A generous estimate of the rendered width of ``text`` in a sans-serif font."""
    return len(text) * font_size * 0.58


# --------------------------------------------------------------------------- colour


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _hex(rgb: Iterable[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = _rgb(hex_colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(colour_a: str, colour_b: str) -> float:
    """WCAG 2 contrast ratio between two hex colours (1 to 21)."""
    la, lb = sorted((_luminance(colour_a), _luminance(colour_b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_for(background: str) -> str:
    """White or near-black (#212b32), whichever contrasts more with ``background``."""
    return WHITE if contrast_ratio(background, WHITE) > contrast_ratio(background, TEXT_DARK) else TEXT_DARK


def _mix(rgb: Sequence[float], target: Sequence[float], t: float) -> tuple[float, ...]:
    return tuple(c + (d - c) * t for c, d in zip(rgb, target, strict=True))


def _readable(background: str) -> tuple[str, str]:
    """(background, text) with a contrast of at least 4.5:1. Neither white nor near-black
    text reaches 4.5:1 on mid-luminance colours, so such a background is nudged (darkened
    under white text, lightened under dark text) just enough."""
    text = text_colour_for(background)
    if contrast_ratio(background, text) >= _CONTRAST_MARGIN:
        return background, text
    rgb = _rgb(background)
    target = (0, 0, 0) if text == WHITE else (255, 255, 255)
    low, high = 0.0, 1.0
    for _ in range(40):
        mid = (low + high) / 2
        if contrast_ratio(_hex(_mix(rgb, target, mid)), text) >= _CONTRAST_MARGIN:
            high = mid
        else:
            low = mid
    return _hex(_mix(rgb, target, high)), text


def heat_colour(mean, low: float = 1.0, high: float = 5.0) -> tuple[str, str]:
    """Background and text colour (hex) for a heat-map cell showing a mean on a 1-5 scale.

    A diverging scale over five stops interpolated in RGB: ``low`` is NHS red, the middle a
    light neutral (#f0f4f5), ``high`` NHS blue; values outside the range are clamped. The text
    colour is white or near-black (#212b32), whichever contrasts more; where neither would reach
    4.5:1 the background is nudged darker or lighter until it does, so every pair returned
    meets WCAG AA for normal text. ``None`` (blank or suppressed) gives white with grey text.
    The cell must still show the number: colour is never the only signal.
    """
    value = _float(mean)
    if value is None:
        return WHITE, TEXT_SECONDARY
    if high <= low:
        raise ValueError("high must be greater than low")
    position = (min(max(value, low), high) - low) / (high - low) * (len(_HEAT_STOPS) - 1)
    index = min(int(position), len(_HEAT_STOPS) - 2)
    start, end = _rgb(_HEAT_STOPS[index]), _rgb(_HEAT_STOPS[index + 1])
    return _readable(_hex(_mix(start, end, position - index)))


# --------------------------------------------------------------------------- SVG plumbing


def _svg(width: float, height: float, alt: str, body: Sequence[str]) -> str:
    """The root element shared by every chart: size, viewBox, role, label and title."""
    alt = " ".join(_clean(alt).split())
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label={_attr(alt)} '
        f'font-family="{FONT}">'
        f"<title>{_text(alt)}</title>" + "".join(body) + "</svg>"
    )


def _label(
    x: float, y: float, text: str, *, size: float = 10, fill: str = TEXT_DARK, anchor: str = "start", bold=False
):
    """A text element; ``y`` is the baseline (no dominant-baseline: WeasyPrint ignores it)."""
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}" '
        f'text-anchor="{anchor}"{weight}>{_text(text)}</text>'
    )


def _line(x1, y1, x2, y2, *, stroke: str, width: float = 1, dash: str = "") -> str:
    dasharray = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{stroke}" stroke-width="{_n(width)}"{dasharray}/>'
    )


def _rect(x, y, w, h, *, fill: str, stroke: str = "", stroke_width: float = 1) -> str:
    outline = f' stroke="{stroke}" stroke-width="{_n(stroke_width)}"' if stroke else ""
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"{outline}/>'


def _circle(x, y, r, *, fill: str, stroke: str = "", stroke_width: float = 1) -> str:
    outline = f' stroke="{stroke}" stroke-width="{_n(stroke_width)}"' if stroke else ""
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{fill}"{outline}/>'


def _polylines(points: Sequence[tuple[float, float] | None], *, stroke: str, width: float) -> list[str]:
    """One polyline per run of consecutive points; ``None`` breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [
        f'<polyline points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in run)}" fill="none" '
        f'stroke="{stroke}" stroke-width="{_n(width)}" stroke-linejoin="round" stroke-linecap="round"/>'
        for run in runs
        if len(run) >= 2
    ]


def _isolated(values: Sequence[float | None]) -> list[int]:
    """Indexes of values with no neighbour on either side (they draw no line segment)."""
    return [
        i
        for i, v in enumerate(values)
        if v is not None and (i == 0 or values[i - 1] is None) and (i == len(values) - 1 or values[i + 1] is None)
    ]


def _sentence(prefix: str, rest: str) -> str:
    prefix = " ".join(str(prefix).split())
    if not prefix:
        return rest
    return f"{prefix} {rest}" if prefix[-1] in ".!?:" else f"{prefix}. {rest}"


# --------------------------------------------------------------------------- sparkline


def sparkline(values: Sequence, *, width: float = 120, height: float = 28, label: str = "") -> str:
    """A word-sized line of the gap per period, oldest first.

    ``None`` (blank or suppressed) breaks the line and draws no point; the most recent value
    is marked with a dot. The vertical range is symmetric around 0 and covers at least -1..+1
    and all the data, with a dashed zero line (no gap). Text alternative: "Gap over the last
    N periods: +0.40, +0.55, —, −0.20", after ``label`` when given. With no values at all the
    chart says "No data" and draws no line.
    """
    series = [_float(v) for v in values]
    count = len(series)
    known = [v for v in series if v is not None]
    if not known:
        alt = _sentence(label, "Gap: no data.") if label else "No data"
        body = [_label(width / 2, height / 2 + 3.5, "No data", size=9, fill=TEXT_SECONDARY, anchor="middle")]
        return _svg(width, height, alt, body)

    listing = ", ".join(signed(v) for v in series)
    periods = "period" if count == 1 else "periods"
    alt = _sentence(label, f"Gap over the last {count} {periods}: {listing}")

    pad_x, pad_y = 4.0, 4.0
    extent = max(1.0, max(abs(v) for v in known))
    plot_w, plot_h = max(width - 2 * pad_x, 1.0), max(height - 2 * pad_y, 1.0)

    def x_at(i: int) -> float:
        return pad_x + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    def y_at(v: float) -> float:
        return pad_y + plot_h * (extent - v) / (2 * extent)

    zero = y_at(0)
    body = [_line(pad_x, zero, width - pad_x, zero, stroke=GREY_LINE, width=1, dash="2 2")]
    points = [None if v is None else (x_at(i), y_at(v)) for i, v in enumerate(series)]
    body += _polylines(points, stroke=NHS_BLUE, width=1.5)
    last = max(i for i, v in enumerate(series) if v is not None)
    body += [_circle(*points[i], 1.5, fill=NHS_BLUE) for i in _isolated(series) if i != last]
    body.append(_circle(*points[last], 2.5, fill=NHS_BLUE, stroke=WHITE, stroke_width=0.75))
    return _svg(width, height, alt, body)


# --------------------------------------------------------------------------- gap history

_DIVERGENT_TINT = "#fdeeec"
_WATCH_TINT = "#fff4d1"
_GAP_TICKS = (-2, -1, 0, 1, 2)
_GAP_LIMIT = 4.0


def gap_history(
    periods: Sequence[str],
    gaps: Sequence,
    *,
    width: float = 560,
    height: float = 200,
    title: str = "Gap between clinical and managerial means",
) -> str:
    """A line chart of the gap (clinical mean − managerial mean) per period, oldest first.

    ``periods`` are the x labels as given ("Jun", "Jul", ...), ``gaps`` the values (``None``
    when blank or suppressed: the line breaks and the point is labelled "—"). The y axis runs
    from −4 to +4 with labelled gridlines at −2, −1, 0, +1 and +2; very light bands mark the
    divergent zone (|gap| ≥ 1) and the watch zone (0.5 ≤ |gap| < 1), named in a legend. Each
    point carries its value as text. ``title`` is drawn at the top (left out when empty) and
    opens the text alternative, which lists every period and value.
    """
    labels = [str(p) for p in periods]
    series = [_float(g) for g in gaps]
    if len(labels) != len(series):
        raise ValueError("periods and gaps must have the same length")
    count = len(series)

    listing = "; ".join(
        f"{' '.join(p.split())} {signed(g) if g is not None else 'no value'}"
        for p, g in zip(labels, series, strict=True)
    )
    heading = " ".join(str(title).split())
    alt = _sentence(
        heading or "Gap between clinical and managerial means", f"By period: {listing}." if count else "No data."
    )

    # Room above and below the frame for the value labels of points at +4 or −4.
    top = 22.0 if heading else 0.0
    left, right = 34.0, 12.0
    pad_above, pad_below = 14.0, 16.0
    legend_h, axis_h = 18.0, 12.0
    plot_top = top + pad_above
    plot_bottom = max(height - legend_h - axis_h - pad_below, plot_top + 40)
    plot_left, plot_right = left, max(width - right, left + 40)
    plot_w, plot_h = plot_right - plot_left, plot_bottom - plot_top

    def y_at(v: float) -> float:
        v = min(max(v, -_GAP_LIMIT), _GAP_LIMIT)
        return plot_top + plot_h * (_GAP_LIMIT - v) / (2 * _GAP_LIMIT)

    step = plot_w / count if count else plot_w

    def x_at(i: int) -> float:
        return plot_left + step * (i + 0.5)

    body: list[str] = []
    if heading:
        body.append(_label(0, 16, _truncate(heading, width, 13), size=13, bold=True))

    # Zones: divergent |gap| >= 1, watch 0.5 <= |gap| < 1.
    for lo, hi, tint in ((1, _GAP_LIMIT, _DIVERGENT_TINT), (0.5, 1, _WATCH_TINT)):
        for sign in (1, -1):
            y1, y2 = sorted((y_at(sign * lo), y_at(sign * hi)))
            body.append(_rect(plot_left, y1, plot_w, y2 - y1, fill=tint))

    # Gridlines and y labels; the frame's top and bottom are the ±4 limits.
    for tick in (*_GAP_TICKS, -_GAP_LIMIT, _GAP_LIMIT):
        y = y_at(tick)
        if tick == 0:
            body.append(_line(plot_left, y, plot_right, y, stroke=GREY_MID, width=1))
        elif abs(tick) < _GAP_LIMIT:
            body.append(_line(plot_left, y, plot_right, y, stroke=GREY_PALE, width=1))
        tick_text = f"{'+' if tick > 0 else MINUS if tick < 0 else ''}{abs(tick):g}"
        body.append(_label(plot_left - 5, y + 3.5, tick_text, size=10, fill=TEXT_SECONDARY, anchor="end"))
    body.append(_rect(plot_left, plot_top, plot_w, plot_h, fill="none", stroke=GREY_LINE))

    # X labels.
    font = min(10.0, max(6.0, step / 3.4))
    for i, period in enumerate(labels):
        body.append(
            _label(
                x_at(i),
                plot_bottom + pad_below + 10,
                _truncate(period, step, font),
                size=font,
                fill=TEXT_SECONDARY,
                anchor="middle",
            )
        )

    # The line, its points and their values.
    points = [None if g is None else (x_at(i), y_at(g)) for i, g in enumerate(series)]
    body += _polylines(points, stroke=NHS_BLUE, width=2)
    for i, g in enumerate(series):
        if g is None:
            body.append(_label(x_at(i), y_at(0) - 5, EM_DASH, size=font, fill=TEXT_SECONDARY, anchor="middle"))
            continue
        x, y = points[i]
        body.append(_circle(x, y, 3.5, fill=NHS_BLUE, stroke=WHITE, stroke_width=1.25))
        # Above the point, unless it sits below its neighbours (then the line runs above it).
        neighbours = [series[j] for j in (i - 1, i + 1) if 0 <= j < count and series[j] is not None]
        above = not neighbours or g >= sum(neighbours) / len(neighbours)
        label_y = y - 7 if above else y + font + 5
        body.append(_label(x, label_y, signed(g), size=font, anchor="middle", bold=True))

    # Legend: the zones are named, not only tinted.
    legend_y = height - 5
    x = plot_left
    for tint, name in ((_DIVERGENT_TINT, "Divergent zone: gap of 1 or more"), (_WATCH_TINT, "Watch zone: 0.5 to 1")):
        body.append(_rect(x, legend_y - 9, 14, 10, fill=tint, stroke=GREY_LINE, stroke_width=0.75))
        body.append(_label(x + 19, legend_y, name, size=10, fill=TEXT_SECONDARY))
        x += 19 + _text_width(name, 10) + 16
    return _svg(width, height, alt, body)


# --------------------------------------------------------------------------- distribution bars


def distribution_bars(
    rows: Sequence[tuple[str, Mapping[str, float | None]]],
    *,
    categories: Sequence[tuple[str, str, str]],
    width: float = 560,
    row_height: float = 26,
    title: str = "",
    suppressed_text: str = "Not shown: group too small",
) -> str:
    """Horizontal 100%-stacked bars, one per row, with a legend.

    ``rows`` are ``(row label, {category key: share 0..1 or None})``; ``categories`` are
    ``(key, label, colour hex)`` in drawing order. Shares are scaled to fill the bar (missing
    keys and ``None`` count as 0); each segment at least 8% wide shows its percentage in
    white or near-black, whichever contrasts more with the segment. A row whose shares are
    all ``None`` (a suppressed group) is a grey bar reading ``suppressed_text``. ``title`` is
    drawn at the top when given. The height follows from the rows and the legend. Text
    alternative: one sentence per row, "Clinical: partnership 20%, tension 40%, …".
    """
    cats = [(str(key), str(name), str(colour)) for key, name, colour in categories]
    heading = " ".join(str(title).split())
    font = 11.0

    label_w = min(180.0, width * 0.3)
    bar_left, bar_right = label_w + 8, width - 4
    bar_w = max(bar_right - bar_left, 1.0)
    bar_h = max(row_height - 8, 4.0)
    top = 24.0 if heading else 4.0

    # Legend layout (wraps onto extra lines when the labels are long).
    legend: list[tuple[float, int, str, str]] = []
    x, line = bar_left, 0
    for _key, name, colour in cats:
        item_w = 18 + _text_width(name, 10) + 14
        if x + item_w > width and x > bar_left:
            x, line = bar_left, line + 1
        legend.append((x, line, name, colour))
        x += item_w
    legend_lines = line + 1 if cats else 0
    height = top + len(rows) * row_height + 8 + legend_lines * 18

    body: list[str] = []
    sentences: list[str] = []
    if heading:
        body.append(_label(0, 16, _truncate(heading, width, 13), size=13, bold=True))

    for r, (row_label, shares) in enumerate(rows):
        name = " ".join(str(row_label).split())
        y = top + r * row_height + (row_height - bar_h) / 2
        baseline = y + bar_h / 2 + 4
        body.append(_label(label_w, baseline, _truncate(name, label_w, font), size=font, anchor="end"))

        values = [_float(shares.get(key)) for key, _, _ in cats]
        if all(v is None for v in values):
            body.append(_rect(bar_left, y, bar_w, bar_h, fill=GREY_PALE))
            body.append(_label(bar_left + 8, baseline, _truncate(suppressed_text, bar_w - 16, font), size=font))
            sentences.append(f"{name}: {' '.join(str(suppressed_text).split())}.")
            continue

        clean = [max(v or 0.0, 0.0) for v in values]
        total = sum(clean)
        parts = ", ".join(
            f"{cname} {_percent(v) if v is not None else EM_DASH}"
            for (_, cname, _), v in zip(cats, values, strict=True)
        )
        sentences.append(f"{name}: {parts}.")
        if total <= 0:
            body.append(_rect(bar_left, y, bar_w, bar_h, fill=WHITE, stroke=GREY_LINE))
            body.append(_label(bar_left + 8, baseline, "No answers", size=font, fill=TEXT_SECONDARY))
            continue

        # Edges from cumulative shares, so the segments add up to the bar exactly.
        cumulative, edges = 0.0, [bar_left]
        for v in clean:
            cumulative += v
            edges.append(bar_left + round(bar_w * cumulative / total, 2))
        edges[-1] = bar_left + bar_w
        for (_key, _cname, colour), v, x0, x1 in zip(cats, values, edges, edges[1:], strict=False):
            seg_w = x1 - x0
            if seg_w <= 0:
                continue
            body.append(_rect(x0, y, seg_w, bar_h, fill=colour))
            if seg_w >= 0.08 * bar_w and v is not None:
                body.append(
                    _label(
                        x0 + seg_w / 2, baseline, _percent(v), size=font, fill=text_colour_for(colour), anchor="middle"
                    )
                )
        # Thin white separators: adjacent segments stay distinct whatever their colours.
        for edge in edges[1:-1]:
            if bar_left < edge < bar_left + bar_w:
                body.append(_line(edge, y, edge, y + bar_h, stroke=WHITE, width=1))

    legend_top = top + len(rows) * row_height + 8
    for lx, lline, name, colour in legend:
        ly = legend_top + lline * 18 + 11
        body.append(_rect(lx, ly - 9, 12, 12, fill=colour, stroke=GREY_LINE, stroke_width=0.5))
        body.append(_label(lx + 18, ly + 1, name, size=10, fill=TEXT_SECONDARY))

    alt = " ".join(sentences) if sentences else "No data."
    if heading:
        alt = _sentence(heading, alt)
    return _svg(width, height, alt, body)


# --------------------------------------------------------------------------- templates


def as_html(svg: str) -> SafeString:
    """Mark chart markup safe for a template. Only for output of this module, whose text is
    escaped when drawn; never pass anything else through here. (bandit B308/B703 reviewed.)"""
    return mark_safe(svg)  # nosec B308 B703


# --------------------------------------------------------------------------- gap bars

_GAP_BAR_TICKS = (-4, -3, -2, -1, 0, 1, 2, 3, 4)
_MANAGERS_HIGHER = "#a00054"  # NHS dark pink: 8:1 on white, distinct from NHS blue for colour-blind readers


def gap_bars(
    rows: Sequence[tuple[str, object]],
    *,
    width: float = 560,
    title: str = "Gap between clinical and managerial means",
    row_height: float = 22,
) -> str:
    """A diverging horizontal bar chart of each objective's gap (clinical − managerial mean).

    ``rows`` are ``(label, gap)`` in drawing order; a ``None`` gap (blank or suppressed) draws
    no bar and reads "not shown". The axis runs from −4 to +4 around a zero line, with light
    gridlines at every point and labels under them: bars to the right (NHS blue) are
    objectives where clinicians see more progress, bars to the left (dark pink) where managers
    do; direction, a legend and the signed value in a column on the right carry the same
    information as the colour. ``title`` is drawn at the top (left out when empty) and opens
    the text alternative, which lists every row and value.
    """
    items = [(" ".join(str(label).split()), _float(gap)) for label, gap in rows]
    heading = " ".join(str(title).split())
    font = 11.0

    sentences = [f"{label}: {signed(gap) if gap is not None else 'not shown'}" for label, gap in items]
    alt = _sentence(
        heading or "Gap between clinical and managerial means",
        ("Clinical minus managerial mean, by objective: " + "; ".join(sentences) + ".") if items else "No data.",
    )

    top = 26.0 if heading else 6.0
    label_w = min(220.0, width * 0.38)
    value_w = 46.0
    plot_left, plot_right = label_w + 10, max(width - value_w - 6, label_w + 60)
    plot_w = plot_right - plot_left
    plot_top = top
    plot_bottom = top + max(len(items), 1) * row_height
    bar_h = max(row_height - 8, 4.0)

    def x_at(v: float) -> float:
        v = min(max(v, -_GAP_LIMIT), _GAP_LIMIT)
        return plot_left + plot_w * (v + _GAP_LIMIT) / (2 * _GAP_LIMIT)

    legend_y = plot_bottom + 16 + 20
    height = legend_y + 8
    body: list[str] = []
    if heading:
        body.append(_label(0, 16, _truncate(heading, width, 13), size=13, bold=True))
    if not items:
        body.append(_label(width / 2, top + 16, "No data", fill=TEXT_SECONDARY, anchor="middle"))
        return _svg(width, top + 26, alt, body)

    # Gridlines and the zero line, tick labels under the plot.
    for tick in _GAP_BAR_TICKS:
        x = x_at(tick)
        if tick == 0:
            body.append(_line(x, plot_top, x, plot_bottom, stroke=GREY_MID, width=1))
        else:
            body.append(_line(x, plot_top, x, plot_bottom, stroke=GREY_PALE, width=1))
        tick_text = f"{'+' if tick > 0 else MINUS if tick < 0 else ''}{abs(tick):g}"
        body.append(_label(x, plot_bottom + 13, tick_text, size=9, fill=TEXT_SECONDARY, anchor="middle"))

    for r, (label, gap) in enumerate(items):
        y = plot_top + r * row_height + (row_height - bar_h) / 2
        baseline = plot_top + r * row_height + row_height / 2 + 4
        body.append(_label(label_w, baseline, _truncate(label, label_w, font), size=font, anchor="end"))
        if gap is None:
            body.append(_label(x_at(0) + 6, baseline, "not shown", size=10, fill=TEXT_SECONDARY))
            body.append(_label(width - 2, baseline, EM_DASH, size=font, fill=TEXT_SECONDARY, anchor="end"))
            continue
        x0, x1 = sorted((x_at(0), x_at(gap)))
        if x1 - x0 > 0:
            body.append(_rect(x0, y, x1 - x0, bar_h, fill=NHS_BLUE if gap > 0 else _MANAGERS_HIGHER))
        body.append(_label(width - 2, baseline, signed(gap), size=font, anchor="end", bold=True))

    # Legend: what each direction means, not only its colour.
    legend = ((_MANAGERS_HIGHER, f"{MINUS} managers see more progress"), (NHS_BLUE, "+ clinicians see more progress"))
    widths = [16 + _text_width(name, 10) for _, name in legend]
    x = max(0.0, min(x_at(0) - (sum(widths) + 14) / 2, width - sum(widths) - 14))
    for (colour, name), item_w in zip(legend, widths, strict=True):
        body.append(_rect(x, legend_y - 9, 12, 10, fill=colour))
        body.append(_label(x + 16, legend_y, name, size=10, fill=TEXT_SECONDARY))
        x += item_w + 14
    return _svg(width, height, alt, body)


__all__.append("gap_bars")
