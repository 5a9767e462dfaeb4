"""Sections of a trust's home page: `@home_panel(template, order)` on a function
`(membership) -> context or None`, run inside the trust's scope (see panels.py)."""

from .panels import PanelRegistry

home_panels = PanelRegistry()
home_panel = home_panels.register


def home_panels_render(membership):
    return home_panels.render(membership)
