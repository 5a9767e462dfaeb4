"""Sections of an objective's page contributed by the apps built on objectives (ratings and
their analysis live in surveys, which objectives must not import: DESIGN.md §3):
`@detail_panel(template, order)` on a function `(objective, membership) -> context or None`."""

from partnership.panels import PanelRegistry

detail_panels = PanelRegistry()
detail_panel = detail_panels.register


def detail_panels_render(objective, membership):
    return detail_panels.render(objective, membership)
