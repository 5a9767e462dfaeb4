"""Template access to surveys.charts: the same drawings the email and PDF use."""

from django import template
from django.utils.html import format_html

from surveys import charts

register = template.Library()


@register.filter
def heat_style(mean):
    """style="" for a table cell coloured by a 1–5 mean (blank/suppressed: plain)."""
    background, text = charts.heat_colour(mean)
    return format_html("background-color:{};color:{}", background, text)


@register.filter
def signed(value):
    return charts.signed(value)


@register.simple_tag
def sparkline(values, label=""):
    return charts.as_html(charts.sparkline(values, label=label))


@register.simple_tag
def gap_history(periods, gaps, title=""):
    kwargs = {"title": title} if title else {}
    return charts.as_html(charts.gap_history(periods, gaps, **kwargs))


@register.simple_tag
def distribution_bars(rows, categories, title="", suppressed_text=""):
    kwargs = {"title": title}
    if suppressed_text:
        kwargs["suppressed_text"] = suppressed_text
    return charts.as_html(charts.distribution_bars(rows, categories=categories, **kwargs))


@register.filter
def percent(share):
    """0.456 -> "46%"; blank -> "—"."""
    return "—" if share is None else f"{round(float(share) * 100)}%"


@register.filter
def dash(value):
    """The value, or an em dash when blank (None). Unlike `default`, 0 and 0.0000 are shown."""
    return "—" if value is None or value == "" else value
