"""The event list: one row per event, virtualised with Textual's Line API.

Only the rows on screen are ever rendered (``render_line``), so a stream of a million
events costs no more than one of ten. The list follows a cursor seq set by its
screen; clicking a row or pressing enter reports it with a message.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import set_cell_size
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

from l0core.events import RecordedEventType
from l0core.timeline import Timeline
from l0tui.display.formatting import format_duration, format_offset
from l0tui.display.theme import kind_styles
from l0tui.display.vocabulary import LETTERS, summary
from l0tui.widgets.lines import StyleCache

_DIM = Style(dim=True)
_PLAIN = Style()

ROW_CACHE = 1024
"""Rows kept drawn: stepping, paging and playback mostly redraw rows already seen."""


class EventList(StyleCache, ScrollView, can_focus=True, inherit_bindings=False):
    """A virtualised list of a stream's events, synced to a cursor.

    Public API:

    - :meth:`set_timeline` gives it the stream (a :class:`~l0core.timeline.Timeline`);
    - :meth:`timeline_grew` tells it more events were loaded;
    - the ``cursor`` reactive is the seq shown as selected (the screen sets it);
    - it posts :class:`EventList.Picked` when a row is clicked and
      :class:`EventList.Activated` when enter is pressed on the cursor row.
    """

    HELP = """\
## Event list

Every event of the stream, one per row: seq, time since the start, time since the
previous event, kind (letter and name) and a summary of its payload.

- **j / k** or **down / up**: step one event; **J / K**: ten
- **enter**: show the whole event (its JSON as stored)
- **page up / page down**: a screenful
- click a row to move the cursor there
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "activate", "Show event", id="event_list.show_event"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="event_list.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="event_list.page_up"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"event-list--cursor"}

    DEFAULT_CSS = """
    EventList {
        height: 1fr;
        overflow-x: hidden;
    }
    EventList > .event-list--cursor {
        background: $accent-darken-2;
        text-style: bold;
    }
    EventList:focus > .event-list--cursor {
        background: $accent;
    }
    """

    # repaint=False: watch_cursor repaints just the rows that changed
    cursor: reactive[int] = reactive(0, init=False, always_update=True, repaint=False)

    class Picked(Message):
        """A row of ``event_list`` was clicked: move the cursor to ``seq``."""

        def __init__(self, event_list: EventList, seq: int) -> None:
            super().__init__()
            self.event_list = event_list
            self.seq = seq

        @property
        def control(self) -> EventList:
            return self.event_list

    class Activated(Message):
        """Enter was pressed on the cursor row: show event ``seq`` in full."""

        def __init__(self, event_list: EventList, seq: int) -> None:
            super().__init__()
            self.event_list = event_list
            self.seq = seq

        @property
        def control(self) -> EventList:
            return self.event_list

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._timeline: Timeline | None = None
        self._count = 0
        # rows already drawn (without the cursor), for (width, seq digits, base style)
        self._rows: LRUCache[int, Strip] = LRUCache(ROW_CACHE)
        self._rows_key: tuple[int, int, Style | None, int] = (0, 3, None, 0)
        self._kind_styles: dict[RecordedEventType, Style] = {}
        self._top = 0

    # ── public API ──

    def set_timeline(self, timeline: Timeline) -> None:
        """Show ``timeline``'s events (it may still be loading)."""
        self._timeline = timeline
        self.timeline_grew()

    def timeline_grew(self) -> None:
        """Call after the timeline was extended, so the list knows its new length."""
        count = len(self._timeline) if self._timeline is not None else 0
        if count != self._count:
            self._count = count
            self.virtual_size = Size(self.size.width, count)
            self.refresh()

    @property
    def row_count(self) -> int:
        return self._count

    # ── reactives ──

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        self._scroll_to_cursor(new)
        if int(self.scroll_y) == top:
            # no scroll: only the two rows that changed are repainted
            self.refresh_line(old)
            self.refresh_line(new)
        else:
            self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if self.scrollbar_size_vertical:
            super().watch_scroll_y(old_value, new_value)
        elif round(old_value) != round(new_value):
            # No scrollbar on screen (its size is 0): moving it anyway would mark a
            # widget the compositor cannot find, and it rebuilds its whole map.
            self.refresh(self.size.region)

    def _scroll_to_cursor(self, seq: int) -> None:
        height = self.scrollable_content_region.height or self.size.height
        if height <= 0:
            return
        top = int(self.scroll_y)
        margin = min(3, height // 4)
        if seq < top + margin:
            self.scroll_to(y=max(0, seq - margin), animate=False, immediate=True)
        elif seq >= top + height - margin:
            self.scroll_to(y=seq - height + margin + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self._count)
        self._scroll_to_cursor(self.cursor)

    # ── input ──

    def action_activate(self) -> None:
        if self._count:
            self.post_message(self.Activated(self, self.cursor))

    def action_page(self, direction: int) -> None:
        height = max(1, (self.scrollable_content_region.height or self.size.height) - 1)
        if self._count:
            target = max(0, min(self._count - 1, self.cursor + direction * height))
            self.post_message(self.Picked(self, target))

    def on_click(self, event: Click) -> None:
        seq = int(self.scroll_y) + event.y
        if 0 <= seq < self._count:
            self.post_message(self.Picked(self, seq))

    # ── rendering ──

    def prepare_lines(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        self._kind_styles = kind_styles(self.app.theme_variables)
        key = (width, max(3, len(str(self._count - 1))), self.base_style, id(self._kind_styles))
        if key != self._rows_key:
            self._rows.clear()
            self._rows_key = key
        self._top = int(self.scroll_y)

    def render_line(self, y: int) -> Strip:
        width = self._rows_key[0]
        seq = self._top + y
        if self._timeline is None or seq >= self._count:
            return Strip.blank(width, self.base_style)
        if seq == self.cursor:
            cursor_style = self.component("event-list--cursor")
            return Strip([Segment(text, (style or _PLAIN) + cursor_style)
                          for text, style, _ in self._row(seq, width)], width)
        strip = self._rows.get(seq)
        if strip is None:
            strip = self._rows[seq] = Strip(self._row(seq, width), width)
        return strip

    def _row(self, seq: int, width: int) -> list[Segment]:
        """The row for ``seq``: segments exactly ``width`` cells wide."""
        assert self._timeline is not None
        tl = self._timeline
        kind = tl.kind(seq)
        colour = self._kind_styles[kind]
        dim = _DIM
        digits = self._rows_key[1]
        row = [Segment(f"{seq:>{digits}} ", dim),
               Segment(f"{format_offset(tl.relative_ms(seq)):>9} ")]
        if width >= 70:
            row.append(Segment(f"{format_duration(tl.delta_ms(seq), compact=True):>6} ", dim))
        if width >= 56:
            row.append(Segment(f"{LETTERS[kind]} {kind.value:<12} ", colour))
        else:
            row.append(Segment(f"{LETTERS[kind]} {kind.value[:5]:<5} ", colour))
        used = sum(len(text) for text, _, _ in row)  # all one-cell characters
        if used >= width:
            return list(Segment.adjust_line_length(row, width))
        room = width - used
        row.append(Segment(set_cell_size(summary(tl.envelope(seq).event, limit=room), room)))
        return row
