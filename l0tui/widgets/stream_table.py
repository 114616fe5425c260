"""The browser's table of streams: a header line and a window of catalog rows.

Drawn with Textual's Line API from the rows its screen hands it (a
:class:`~l0tui.catalog_window.CatalogWindow`'s slice), so a store of a million
streams costs no more than one of ten: the widget never holds more than the window.
It tells its screen when the cursor nears either edge of the window (``NearEdge``),
and the screen fetches the next page in a worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from l0core.catalog import StreamSummary
from l0tui.widgets.lines import StyleCache

_PLAIN = Style()

ROW_CACHE = 200
"""Rows kept drawn (a few screens): moving the cursor, and scrolling back and forth,
redraws rows already seen. Not more: each drawn row holds two ``Strip`` objects with
seven caches each, and with 2,048 of them the garbage collector's full passes took
30 ms, a dropped frame every few pages."""

EDGE = 30
"""Rows from the window's edge at which the next page is asked for."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    """The sort field this column shows (``""``: not sortable)."""
    label: str
    width: int
    """Cells; 0 takes what is left."""
    right: bool = False


Cell = tuple[str, Style | None]
CellsOf = Callable[[StreamSummary], Sequence[Cell]]


class StreamTable(StyleCache, ScrollView, can_focus=True, inherit_bindings=False):
    """Rows of stream summaries under a header, one window of the catalog at a time."""

    HELP = """\
## Stream table

One row per stream: mark, id, status, model, start (UTC), duration, events,
tokens, retries (counted+network), violations, fallback index.

- **up / down** (or **k / j**), **page up / page down**, **home / end**
- **enter** or a double click: open the stream
- click a column header to sort by it (again: reverse)
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False, id="stream_table.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="stream_table.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="stream_table.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="stream_table.page_up"),
        Binding("home,g", "first", "First", show=False, id="stream_table.first"),
        Binding("end,G", "last", "Last", show=False, id="stream_table.last"),
        Binding("enter", "open", "Open", id="stream_table.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"stream-table--cursor", "stream-table--header",
                                             "stream-table--zebra"}

    DEFAULT_CSS = """
    StreamTable {
        height: 1fr;
        overflow-x: hidden;
    }
    StreamTable > .stream-table--header {
        text-style: bold;
        background: $panel;
    }
    StreamTable > .stream-table--zebra {
        background: $surface-lighten-1 20%;
    }
    StreamTable > .stream-table--cursor {
        background: $accent-darken-2;
        text-style: bold;
    }
    StreamTable:focus > .stream-table--cursor {
        background: $accent;
    }
    """

    cursor: reactive[int] = reactive(0, init=False, always_update=True, repaint=False)

    class _TableMessage(Message):
        """A message from the table; ``control`` is the table (for ``@on`` selectors)."""

        def __init__(self, table: StreamTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> StreamTable:
            return self.table

    class NearEdge(_TableMessage):
        """The cursor came within :data:`EDGE` rows of the window's top (-1) or end (1)."""

        def __init__(self, table: StreamTable, side: int) -> None:
            super().__init__(table)
            self.side = side

    class Jump(_TableMessage):
        """Home or end was pressed: the screen loads the first (-1) or last (1) page."""

        def __init__(self, table: StreamTable, side: int) -> None:
            super().__init__(table)
            self.side = side

    class Opened(_TableMessage):
        """Enter or a double click on ``stream_id``."""

        def __init__(self, table: StreamTable, stream_id: str) -> None:
            super().__init__(table)
            self.stream_id = stream_id

    class HeaderClicked(_TableMessage):
        """A sortable column's header was clicked."""

        def __init__(self, table: StreamTable, column: Column) -> None:
            super().__init__(table)
            self.column = column

    def __init__(self, columns: Sequence[Column], cells_of: CellsOf, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self.cells_of = cells_of
        self.rows: list[StreamSummary] = []
        self.sort_key = ""
        self.sort_descending = True
        self._top = 0
        self._width = 0
        self._widths: list[int] = []
        self._drawn: LRUCache[tuple[int, int], Strip] = LRUCache(ROW_CACHE)
        """Rows already drawn (not the cursor row), by summary object and zebra stripe."""
        self._zebra = Style()
        self._drawn_base: Style | None = None
        self.moved_at = 0.0
        """``time.monotonic()`` of the last cursor move (the collector waits for a pause)."""

    # ── data ──

    def set_rows(self, rows: list[StreamSummary], *, cursor: int | None = None) -> None:
        """Show ``rows`` (the window); keep the cursor on ``cursor`` or in range."""
        self.rows = rows
        self._drawn.clear()
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        target = self.cursor if cursor is None else cursor
        self.set_reactive(StreamTable.cursor, max(0, min(len(rows) - 1, target)))
        self._scroll_to_cursor(self.cursor)
        self.refresh()

    def shift(self, rows: list[StreamSummary], added_top: int) -> None:
        """New window after rows were added (> 0) or trimmed (< 0) at the top: the
        cursor and the scroll position stay on the same streams."""
        self.rows = rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self.set_reactive(StreamTable.cursor,
                          max(0, min(len(rows) - 1, self.cursor + added_top)))
        self.scroll_to(y=max(0, self.scroll_y + added_top), animate=False, immediate=True)
        self.refresh()

    def redraw(self) -> None:
        """The cells changed (marks, theme): draw again."""
        self._drawn.clear()
        self.refresh()

    @property
    def selected(self) -> StreamSummary | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # ── cursor ──

    def watch_cursor(self, old: int, new: int) -> None:
        self.moved_at = time.monotonic()
        top = int(self.scroll_y)
        self._scroll_to_cursor(new)
        if int(self.scroll_y) == top:
            self.refresh_line(old + 1)  # virtual line = row + 1 (the header is line 0)
            self.refresh_line(new + 1)
        else:
            self.refresh()
        if new >= len(self.rows) - EDGE:
            self.post_message(self.NearEdge(self, 1))
        elif new < EDGE:
            self.post_message(self.NearEdge(self, -1))

    def _body_height(self) -> int:
        return max(1, (self.scrollable_content_region.height or self.size.height) - 1)

    def _scroll_to_cursor(self, row: int) -> None:
        height = self._body_height()
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self._scroll_to_cursor(self.cursor)

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * self._body_height())

    def action_first(self) -> None:
        self.post_message(self.Jump(self, -1))

    def action_last(self) -> None:
        self.post_message(self.Jump(self, 1))

    def action_open(self) -> None:
        if (row := self.selected) is not None:
            self.post_message(self.Opened(self, row.stream_id))

    def on_click(self, event: Click) -> None:
        if event.y == 0:
            x = 0
            for column, width in zip(self.columns, self._widths, strict=False):
                if x <= event.x < x + width + 1:
                    if column.key:
                        self.post_message(self.HeaderClicked(self, column))
                    return
                x += width + 1
            return
        row = int(self.scroll_y) + event.y - 1
        if 0 <= row < len(self.rows):
            self.cursor = row
            if event.chain >= 2:
                self.action_open()

    # ── drawing ──

    def _layout(self, width: int) -> list[int]:
        fixed = sum(c.width for c in self.columns if c.width) + len(self.columns) - 1
        flexible = [c for c in self.columns if not c.width]
        room = max(0, width - fixed)
        share = room // len(flexible) if flexible else 0
        return [c.width or share for c in self.columns]

    def prepare_lines(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width != self._width or not self._widths:
            self._width = width
            self._widths = self._layout(width)
            self._drawn.clear()
        zebra = Style(bgcolor=self.component("stream-table--zebra").bgcolor)
        if zebra != self._zebra or self.base_style != self._drawn_base:
            self._zebra = zebra  # the cells keep their own colours on zebra rows
            self._drawn_base = self.base_style
            self._drawn.clear()
        self._top = int(self.scroll_y)

    def _line(self, cells: Sequence[Cell], extra: Style | None) -> Strip:
        segments: list[Segment] = []
        last = len(self.columns) - 1
        for i, ((text, style), column, width) in enumerate(
                zip(cells, self.columns, self._widths, strict=False)):
            if width <= 0:
                continue
            size = len(text) if text.isascii() else cell_len(text)
            if size > width:
                fitted = set_cell_size(text, width - 1) + "…" if width > 1 else text[:width]
            else:
                pad = " " * (width - size)
                fitted = pad + text if column.right else text + pad
            if i < last:
                fitted += " "
            base = style or _PLAIN
            segments.append(Segment(fitted, base + extra if extra else base))
        return Strip(segments).adjust_cell_length(self._width, extra or self.base_style)

    def render_line(self, y: int) -> Strip:
        if y == 0:
            header = self.component("stream-table--header")
            labels: list[Cell] = []
            for column in self.columns:
                arrow = ""
                if column.key and column.key == self.sort_key:
                    arrow = "↓" if self.sort_descending else "↑"
                labels.append((column.label + arrow, None))
            return self._line(labels, header)
        index = self._top + y - 1
        if index >= len(self.rows):
            return Strip.blank(self._width, self.base_style)
        row = self.rows[index]
        if index == self.cursor:
            return self._line(self.cells_of(row), self.component("stream-table--cursor"))
        key = (id(row), index % 2)
        strip = self._drawn.get(key)
        if strip is None:
            extra = self._zebra if index % 2 else None
            strip = self._drawn[key] = self._line(self.cells_of(row), extra)
        return strip

    def cells(self, stream_id: str) -> list[str]:
        """The text of each cell of ``stream_id``'s row ([] when it is not on hand)."""
        for row in self.rows:
            if row.stream_id == stream_id:
                return [text for text, _ in self.cells_of(row)]
        return []

    @property
    def shown_ids(self) -> list[str]:
        return [row.stream_id for row in self.rows]
