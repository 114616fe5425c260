"""A helper for the Line API widgets: look up styles once per repaint, not per line.

``Widget.rich_style`` walks the ancestors' backgrounds every time it is read, which
costs more than drawing a row; these widgets read it (and their component styles)
once in ``render_lines`` and reuse it for every ``render_line`` of that repaint.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


class StyleCache(Widget):
    """Mixin base: ``self.base_style`` and ``self.component(name)`` are per-repaint."""

    _base_style: Style | None = None
    _components: dict[str, Style]

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style
        self._components = {}
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = None

    @property
    def base_style(self) -> Style:
        base = self._base_style
        return base if base is not None else self.rich_style

    def component(self, name: str) -> Style:
        cache: dict[str, Any] | None = getattr(self, "_components", None)
        if self._base_style is None or cache is None:
            return self.get_component_rich_style(name)
        style = cache.get(name)
        if style is None:
            style = cache[name] = self.get_component_rich_style(name)
        return style
