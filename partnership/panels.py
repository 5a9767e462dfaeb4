"""Page sections contributed by the apps that own the data.

An app lower in DESIGN.md §3's layering cannot import the apps built on it, so those apps
register sections instead, from their AppConfig.ready():

    home_panels.register("surveys/_home_panel.html", order=5)(function)

where `function(*args)` returns a template context, or None to show nothing. A page calls
`registry.render(*args)` and includes each (template name, context) in order.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    template_name: str
    order: int
    context: Callable


class PanelRegistry:
    def __init__(self):
        self._panels = []

    def register(self, template_name, order=50):
        def decorator(function):
            self._panels.append(Panel(template_name, order, function))
            self._panels.sort(key=lambda panel: panel.order)
            return function

        return decorator

    def render(self, *args):
        """[(template name, context)] of the panels that have something to show."""
        rendered = []
        for panel in self._panels:
            context = panel.context(*args)
            if context is not None:
                rendered.append((panel.template_name, context))
        return rendered
