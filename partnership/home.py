"""Panels on a trust's home page, contributed by the apps that own the data.

The core app cannot import the apps built on it (DESIGN.md §3), so they register here
instead, from their AppConfig.ready(): `@home_panel("objectives/_home_panel.html", order=10)`
on a function `(membership) -> context dict, or None to show nothing`. Each runs inside the
trust's scope.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HomePanel:
    template_name: str
    order: int
    context: Callable


_PANELS = []


def home_panel(template_name, order=50):
    def register(function):
        _PANELS.append(HomePanel(template_name, order, function))
        _PANELS.sort(key=lambda panel: panel.order)
        return function

    return register


def home_panels_render(membership):
    """[(template name, context)] of the panels that have something to show this member."""
    rendered = []
    for panel in _PANELS:
        context = panel.context(membership)
        if context is not None:
            rendered.append((panel.template_name, context))
    return rendered
