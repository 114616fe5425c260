"""The state panel: every ``ReplayedState`` field at the cursor, and who changed it.

Fields the current event changed are marked ``●`` and highlighted; each field shows
the seq where it last changed (``#N``), and the selected field (``›``) can be jumped to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from l0core.fold import STATE_FIELDS, ReplayedState
from l0core.timeline import Timeline
from l0tui.display.escape import clean
from l0tui.display.formatting import format_ts
from l0tui.widgets.lines import StyleCache


def describe(field: str, value: Any, width: int = 60, *, length: int | None = None) -> str:
    """A short, cleaned rendering of ``value``, the value of ``field``.

    For ``content`` and ``checkpoint``, ``value`` may be only the end of the text
    when ``length`` gives the whole length (the panel never copies a content of
    many megabytes to show its last few words).
    """
    if field in ("content", "checkpoint"):
        text = str(value)
        total = len(text) if length is None else length
        if not total:
            return '""'
        tail = text[-max(8, width - 16):]
        prefix = "…" if len(tail) < total else ""
        return f"{total:,} chars  {prefix}{clean(tail, limit=None)!s}"
    if field == "violations":
        if not value:
            return "none"
        last = value[-1]
        rule = last.get("rule", "?") if isinstance(last, dict) else "?"
        return clean(f"{len(value)} (last: {rule})", limit=width)
    if field == "error":
        if value is None:
            return "none"
        return clean(f"{value.name}: {value.message}", limit=width)
    if field in ("start_ts", "end_ts"):
        return format_ts(float(value), missing="—")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return clean(str(value), limit=width)


CONTENT_TAIL = 512
"""Characters of the content the panel reads: more than its value column ever shows."""


class StatePanel(StyleCache, ScrollView, can_focus=True, inherit_bindings=False):
    """The replayed state at one seq.

    Public API:

    - :meth:`update_from` (timeline, seq): compute and show everything for ``seq``;
    - :meth:`show` (state, changed, last_changed, seq): show precomputed values;
    - ``marked`` (reactive frozenset of field names): extra fields to flag with ``≠``
      (the diff screen marks the fields that differ from the other side);
    - ``selected`` (reactive field name) and :attr:`selected_last_changed`;
    - posts :class:`StatePanel.JumpTo` when enter is pressed on a field or it is clicked
      twice.
    """

    HELP = """\
## State panel

The state rebuilt at the cursor: every field of `ReplayedState`. A field the current
event changed is marked **●** and highlighted. The right column is the seq where the
field last changed.

- **up / down** (when focused) or click: select a field (marked ›)
- **enter** or **c**: jump to where the selected field last changed
- **C**: jump to where it changes next
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "select(-1)", "Field up", show=False, id="state_panel.up"),
        Binding("down", "select(1)", "Field down", show=False, id="state_panel.down"),
        Binding("enter", "jump", "Jump to change", id="state_panel.jump"),
    ]

    DEFAULT_CSS = """
    StatePanel {
        height: 13;
        padding: 0 1;
        overflow-x: hidden;
    }
    """

    selected: reactive[str] = reactive("content", init=False)
    marked: reactive[frozenset[str]] = reactive(frozenset(), init=False)

    class JumpTo(Message):
        """Move the cursor to ``seq`` (where ``field`` changed), asked by ``state_panel``."""

        def __init__(self, state_panel: StatePanel, field: str, seq: int) -> None:
            super().__init__()
            self.state_panel = state_panel
            self.field = field
            self.seq = seq

        @property
        def control(self) -> StatePanel:
            return self.state_panel

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._state: ReplayedState | None = None
        self._source: tuple[Timeline, int] | None = None  # where update_from read it
        self._values: dict[str, Any] = {f: getattr(_EMPTY, f) for f in STATE_FIELDS}
        self._content_length: int | None = None  # when _values holds only its tail
        self._changed: frozenset[str] = frozenset()
        self._last: dict[str, int | None] = {}
        self._seq = -1
        # the rows as drawn (or marked for repaint): width, geometry, a tuple per field;
        # None when the next repaint redraws them all
        self._drawn: tuple[int, tuple[int, int, int], list[_Row]] | None = None

    # ── public API ──

    def update_from(self, timeline: Timeline, seq: int) -> None:
        """Show the state of ``timeline`` at ``seq``.

        Reads each field on its own and only the end of the content, so a step on a
        stream with megabytes of output copies none of it (:attr:`state` builds the
        whole state when someone asks for it).
        """
        if seq < 0 or len(timeline) == 0:
            self.show(ReplayedState(), frozenset(), {}, -1)
            return
        values = {f: timeline.value_at(f, seq) for f in STATE_FIELDS if f != "content"}
        length = timeline.content_length_at(seq)
        values["content"] = timeline.content_at(seq, length - CONTENT_TAIL)
        last = {f: timeline.field_last_changed(f, seq) for f in STATE_FIELDS}
        self._set(values, length, timeline.changed_fields(seq), last, seq)
        self._source = (timeline, seq)

    def show(self, state: ReplayedState, changed: frozenset[str],
             last_changed: Mapping[str, int | None], seq: int) -> None:
        """Show ``state`` (computed elsewhere) as the state at ``seq``."""
        self._set({f: getattr(state, f) for f in STATE_FIELDS}, None, changed, last_changed,
                  seq)
        self._state = state

    def _set(self, values: dict[str, Any], content_length: int | None,
             changed: frozenset[str], last_changed: Mapping[str, int | None],
             seq: int) -> None:
        self._values = values
        self._content_length = content_length
        self._state = None
        self._source = None
        self._changed = changed
        self._last = dict(last_changed)
        self._seq = seq
        self._show_changed()
        # Repaint only the rows whose text changed: on a seek most fields keep theirs.
        before = self._drawn
        width = self.scrollable_content_region.width
        if before is None or width != before[0]:
            self.refresh()
            return
        now = self._rows(width)
        if now[1] != before[1]:
            self.refresh()
            return
        self._drawn = now
        top, full = self.scroll_offset.y, max(self.virtual_size.width, self.size.width)
        stale = [Region(0, y - top, full, 1)
                 for y, (old, new) in enumerate(zip(before[2], now[2], strict=True), start=1)
                 if old != new]
        if stale:
            self.refresh(*stale)

    def _show_changed(self) -> None:
        """On a short panel, scroll so that a field this step changed is in view."""
        height = self.scrollable_content_region.height - 1  # minus the header row
        if height <= 0 or height >= len(STATE_FIELDS) or not self._changed:
            return
        rows = [STATE_FIELDS.index(f) for f in STATE_FIELDS if f in self._changed]
        top = int(self.scroll_y)
        if any(top <= r < top + height for r in rows):
            return
        self.scroll_to(y=max(0, min(rows[0], len(STATE_FIELDS) - height)), animate=False,
                       immediate=True)

    @property
    def state(self) -> ReplayedState | None:
        """The whole state shown (None before anything was shown)."""
        if self._state is None and self._source is not None:
            timeline, seq = self._source
            self._state = timeline.state_at(seq)
        return self._state

    @property
    def changed(self) -> frozenset[str]:
        return self._changed

    @property
    def selected_last_changed(self) -> int | None:
        return self._last.get(self.selected)

    def last_changed(self, field: str) -> int | None:
        return self._last.get(field)

    # ── input ──

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(STATE_FIELDS) + 1)

    def on_mount(self) -> None:
        self.virtual_size = Size(self.size.width, len(STATE_FIELDS) + 1)

    def refresh(self, *regions: Region, **kwargs: Any) -> Self:
        if not regions:
            self._drawn = None  # a full repaint: the next show compares with nothing
        return super().refresh(*regions, **kwargs)

    def watch_selected(self) -> None:
        row = STATE_FIELDS.index(self.selected) + 1
        height = self.scrollable_content_region.height
        top = int(self.scroll_y)
        if height > 0 and not top <= row < top + height:
            self.scroll_to(y=max(0, row - height + 1) if row >= top + height else row - 1,
                           animate=False, immediate=True)
        self.refresh()

    def watch_marked(self) -> None:
        self.refresh()

    def action_select(self, step: int) -> None:
        i = STATE_FIELDS.index(self.selected)
        self.selected = STATE_FIELDS[(i + step) % len(STATE_FIELDS)]

    def action_jump(self) -> None:
        seq = self.selected_last_changed
        if seq is not None:
            self.post_message(self.JumpTo(self, self.selected, seq))

    def on_click(self, event: Click) -> None:
        row = int(self.scroll_y) + event.y - 1  # the header takes the first row
        if 0 <= row < len(STATE_FIELDS):
            field = STATE_FIELDS[row]
            if field == self.selected and event.chain >= 2:
                self.action_jump()
            self.selected = field

    # ── rendering (Line API: one row per field, no Rich table) ──

    def _rows(self, width: int) -> tuple[int, tuple[int, int, int], list[_Row]]:
        """What each field's row shows at ``width``: the width, (name, where, value
        widths) and per field (selected, changed, marked, value text, where text)."""
        name_w = max(len(f) for f in STATE_FIELDS) + 1
        where_w = max(11 if width >= 50 else 5, len(f"#{self._seq}") + 1)
        value_w = max(4, width - 2 - name_w - where_w)
        rows: list[_Row] = []
        for field in STATE_FIELDS:
            value = describe(field, self._values[field], value_w,
                             length=self._content_length if field == "content" else None)
            if cell_len(value) > value_w:
                value = set_cell_size(value, value_w - 1) + "…"
            last = self._last.get(field)
            rows.append((field == self.selected, field in self._changed, field in self.marked,
                         set_cell_size(value, value_w), None if last is None else f"#{last}"))
        return width, (name_w, where_w, value_w), rows

    def prepare_lines(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width > 0 and (self._drawn is None or self._drawn[0] != width):
            self._drawn = self._rows(width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.base_style
        if width <= 0 or self._drawn is None:
            return Strip.blank(max(0, width), base)
        _, (name_w, where_w, value_w), rows = self._drawn
        y += int(self.scroll_y)
        if y == 0:
            head = Style(bold=True, dim=True)
            segs = [Segment("  ", base), Segment("field".ljust(name_w), base + head),
                    Segment("value"[:value_w].ljust(value_w), base + head),
                    Segment(("changed at" if where_w >= 11 else "at").rjust(where_w), base + head)]
            return Strip(segs).crop_extend(0, width, base)
        row = y - 1
        if row >= len(STATE_FIELDS):
            return Strip.blank(width, base)
        field = STATE_FIELDS[row]
        selected, changed, marked, value, where = rows[row]
        marker = "●" if changed else ("≠" if marked else " ")
        name_style = _CHANGED if changed else (_MARKED if marked else _PLAIN)
        segs = [
            Segment(("›" if selected else " ") + marker, base + _BOLD),
            Segment(field.ljust(name_w - 1), base + name_style),
            Segment(" ", base),
            Segment(value, base + (_BOLD if changed else _PLAIN)),
            Segment((where or "—").rjust(where_w), base + (_DIM if where is None else _PLAIN)),
        ]
        return Strip(segs).crop_extend(0, width, base)


_Row = tuple[bool, bool, bool, str, str | None]
_EMPTY = ReplayedState()
_PLAIN = Style()
_BOLD = Style(bold=True)
_DIM = Style(dim=True)
_CHANGED = Style(bold=True, reverse=True)
_MARKED = Style(bold=True, color="yellow")
