"""A mixin for the Line API widgets: look up styles once per repaint, not per line.

``Widget.rich_style`` walks the ancestors' backgrounds every time it is read, which
costs more than drawing a row; these widgets read it (and their component styles)
once in ``render_lines`` and reuse it for every ``render_line`` of that repaint.
The mixin is a plain class (not a Widget), so it changes neither the CSS a widget
inherits nor its scrolling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    _Base = object


class StyleCache(_Base):
    """Put first in the bases: ``self.base_style`` and ``self.component(name)``.

    Component styles are kept until the widget's styles change (focus, theme, CSS):
    Textual forgets its own copy on every refresh, and a widget that repaints on
    every seek would look them up again each time.
    """

    _base_style: Style | None = None
    _components: dict[str, Style] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style
        if self._components is None:
            self._components = {}
        try:
            self.prepare_lines()
            lines: list[Strip] = super().render_lines(crop)
            return lines
        finally:
            self._base_style = None

    def prepare_lines(self) -> None:
        """Called once per repaint before the ``render_line`` calls (``base_style`` is
        set): the place to look up what every row of the repaint shares."""

    def notify_style_update(self) -> None:
        self._components = None
        super().notify_style_update()

    @property
    def base_style(self) -> Style:
        base = self._base_style
        return base if base is not None else self.rich_style

    def component(self, name: str) -> Style:
        cache: dict[str, Any] | None = self._components
        if cache is None:
            return self.get_component_rich_style(name)
        style = cache.get(name)
        if style is None:
            style = cache[name] = self.get_component_rich_style(name)
        return style
