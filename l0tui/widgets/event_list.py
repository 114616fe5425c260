"""The event list: one row per event, virtualised with Textual's Line API.

Only the rows on screen are ever rendered (``render_line``), so a stream of a million
events costs no more than one of ten. The list follows a cursor seq set by its
screen; clicking a row or pressing enter reports it with a message.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from l0core.timeline import Timeline
from l0tui.widgets.kinds import COLOURS, LETTERS, summary
from l0tui.widgets.lines import StyleCache

_KIND_STYLES = {kind: Style.parse(colour) for kind, colour in COLOURS.items()}
_DIM = Style(dim=True)


def format_ms(ms: float) -> str:
    """``+1.234s`` / ``+12m05.1s``: a relative time that keeps its width."""
    if ms < 60_000:
        return f"+{ms / 1000:.3f}s"
    minutes, rest = divmod(ms / 1000, 60)
    return f"+{int(minutes)}m{rest:04.1f}s"


def format_delta(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f}ms"
    return f"{ms / 1000:.1f}s"


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

    cursor: reactive[int] = reactive(0, init=False, always_update=True)

    class Picked(Message):
        """A row was clicked: move the cursor to ``seq``."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    class Activated(Message):
        """Enter was pressed on the cursor row: show event ``seq`` in full."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._timeline: Timeline | None = None
        self._count = 0

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
            self.post_message(self.Activated(self.cursor))

    def action_page(self, direction: int) -> None:
        height = max(1, (self.scrollable_content_region.height or self.size.height) - 1)
        if self._count:
            target = max(0, min(self._count - 1, self.cursor + direction * height))
            self.post_message(self.Picked(target))

    def on_click(self, event: Click) -> None:
        seq = int(self.scroll_y) + event.y
        if 0 <= seq < self._count:
            self.post_message(self.Picked(seq))

    # ── rendering ──

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        seq = int(self.scroll_y) + y
        base = self.base_style
        if self._timeline is None or seq >= self._count:
            return Strip.blank(width, base)
        row = self._row(seq)
        if seq == self.cursor:
            cursor_style = self.component("event-list--cursor")
            row = [Segment(text, (style or Style()) + cursor_style) for text, style, _ in row]
            return Strip(row).crop_extend(0, width, base + cursor_style)
        return Strip(row).crop_extend(0, width, base)

    def _row(self, seq: int) -> list[Segment]:
        assert self._timeline is not None
        tl = self._timeline
        env = tl.envelope(seq)
        kind = env.event.type
        colour = _KIND_STYLES[kind]
        dim = _DIM
        width = self.size.width
        digits = max(3, len(str(self._count - 1)))
        row = [Segment(f"{seq:>{digits}} ", dim),
               Segment(f"{format_ms(tl.relative_ms(seq)):>9} ")]
        if width >= 70:
            row.append(Segment(f"{format_delta(tl.delta_ms(seq)):>6} ", dim))
        if width >= 56:
            row.append(Segment(f"{LETTERS[kind]} {kind.value:<12} ", colour))
        else:
            row.append(Segment(f"{LETTERS[kind]} {kind.value[:5]:<5} ", colour))
        row.append(Segment(summary(env.event, limit=300)))
        return row
