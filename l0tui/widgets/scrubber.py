"""The scrubber: a seek bar that is also a minimap of the stream's event kinds.

Each cell of the top row stands for a range of seqs and shows the most important
event kind in it (its letter and colour, so it reads without colour too). The cell
under the cursor is drawn reversed, and the row below marks it with ``▲`` and shows
``seq/total``. Click or drag anywhere on it to seek.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from l0core.events import RecordedEventType
from l0core.timeline import Timeline
from l0tui.display.theme import kind_styles
from l0tui.display.vocabulary import LETTERS
from l0tui.widgets.lines import StyleCache

_DIM = Style(dim=True)


class Scrubber(StyleCache, Widget):
    """Minimap + cursor for one stream.

    Public API:

    - :meth:`set_timeline` gives it the stream; :meth:`timeline_grew` after loading more;
    - ``cursor`` (reactive) is the seq shown; ``note`` (reactive) is extra text after
      ``seq/total`` (e.g. loading progress);
    - posts :class:`Scrubber.Seek` when clicked or dragged.
    """

    HELP = """\
## Scrubber

The whole stream at a glance: each cell shows the most important event in its range
(R retry, G guardrail, E error, F fallback, C continuation, D drift, K checkpoint,
S start, ✓ complete, · tokens). The reversed cell and ▲ mark the cursor.

- click or drag to seek
- **[ / ]**: previous / next non-token event
"""

    DEFAULT_CSS = """
    Scrubber {
        height: 2;
    }
    Scrubber > .scrubber--cursor {
        text-style: reverse bold;
    }
    Scrubber > .scrubber--label {
        text-style: bold;
        color: $text;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"scrubber--cursor", "scrubber--label"}

    # repaint=False: watch_cursor repaints just the row that changed
    cursor: reactive[int] = reactive(0, init=False, repaint=False)
    note: reactive[str] = reactive("", init=False)

    class Seek(Message):
        """The user clicked or dragged ``scrubber`` to ``seq``."""

        def __init__(self, scrubber: Scrubber, seq: int) -> None:
            super().__init__()
            self.scrubber = scrubber
            self.seq = seq

        @property
        def control(self) -> Scrubber:
            return self.scrubber

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._timeline: Timeline | None = None
        self._cells: list[RecordedEventType | None] = []
        self._cache_key: tuple[int, int] = (-1, -1)
        self._runs: list[tuple[int, str, Style]] = []
        self._runs_key: tuple[int, int, Style | None, int] = (-1, -1, None, 0)
        self._dragging = False

    # ── public API ──

    def set_timeline(self, timeline: Timeline) -> None:
        self._timeline = timeline
        self.timeline_grew()

    def timeline_grew(self) -> None:
        self._cache_key = (-1, -1)
        self._runs_key = (-1, -1, None, 0)
        self.refresh()

    @property
    def total(self) -> int:
        return len(self._timeline) if self._timeline is not None else 0

    def watch_cursor(self, old: int, new: int) -> None:
        # The label row always changes (it shows the seq); the minimap row only when
        # the cursor moved to another cell.
        width = self.size.width
        if width > 0 and self.total and self._cell_of(old, width) == self._cell_of(new, width):
            self.refresh(Region(0, 1, width, 1))
        else:
            self.refresh()

    def watch_note(self) -> None:
        self.refresh()

    # ── geometry ──

    def _cell_of(self, seq: int, width: int) -> int:
        """The minimap cell showing ``seq``.

        More events than cells: cell i covers seqs [i*n//w, (i+1)*n//w). Fewer: each
        event starts a run of cells at s*w//n and its letter is drawn there.
        """
        total = self.total
        if total <= 0 or width <= 0:
            return 0
        seq = max(0, min(total - 1, seq))
        if total <= width:
            return seq * width // total
        return max(0, min(width - 1, ((seq + 1) * width - 1) // total))

    def seq_at(self, x: int) -> int:
        """The seq a click at column ``x`` seeks to (ends map to the first/last seq)."""
        width = self.size.width
        total = self.total
        if total <= 0 or width <= 0:
            return 0
        if x <= 0:
            return 0
        if x >= width - 1:
            return total - 1
        if total <= width:
            return min(total - 1, (x * total + total - 1) // width)
        start = x * total // width
        stop = (x + 1) * total // width
        return min(total - 1, (start + stop - 1) // 2 if stop > start else start)

    # ── mouse ──

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self.total:
            self._dragging = True
            self.capture_mouse()
            self.post_message(self.Seek(self, self.seq_at(event.x)))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.post_message(self.Seek(self, self.seq_at(event.x)))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()

    # ── rendering ──

    def _minimap(self, width: int) -> list[RecordedEventType | None]:
        key = (width, self.total)
        if key != self._cache_key and self._timeline is not None:
            total = self.total
            if total == 0:
                self._cells = []
            elif total <= width:
                cells: list[RecordedEventType | None] = [None] * width
                for seq in range(total):
                    cells[seq * width // total] = self._timeline.kind(seq)
                self._cells = cells
            else:
                self._cells = list(self._timeline.minimap(width))
            self._cache_key = key
        return self._cells

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.base_style
        if width <= 0:
            return Strip.blank(0)
        if y == 0:
            return self._render_map(width, base)
        if y == 1:
            return self._render_label(width, base)
        return Strip.blank(width, base)

    def _map_runs(self, width: int, base: Style) -> list[tuple[int, str, Style]]:
        """The minimap row as runs of same-styled cells: (first cell, letters, style).

        Kept until the width, the stream length or the base style change, so moving
        the cursor only cuts the run under it instead of styling every cell again.
        """
        styles = kind_styles(self.app.theme_variables)
        key = (width, self.total, base, id(styles))
        if key != self._runs_key:
            cells = self._minimap(width)
            runs: list[tuple[int, str, Style]] = []
            for x in range(width):
                kind = cells[x] if x < len(cells) else None
                if kind is None:
                    text, style = "─", base + _DIM
                else:
                    text, style = LETTERS[kind], base + styles[kind]
                if runs and runs[-1][2] == style:
                    runs[-1] = (runs[-1][0], runs[-1][1] + text, style)
                else:
                    runs.append((x, text, style))
            self._runs, self._runs_key = runs, key
        return self._runs

    def _render_map(self, width: int, base: Style) -> Strip:
        cursor_cell = self._cell_of(self.cursor, width) if self.total else -1
        cursor_style = self.component("scrubber--cursor")
        segments: list[Segment] = []
        for start, text, style in self._map_runs(width, base):
            i = cursor_cell - start
            if 0 <= i < len(text):  # every letter is one cell wide
                if i:
                    segments.append(Segment(text[:i], style))
                segments.append(Segment(text[i], style + cursor_style))
                if i + 1 < len(text):
                    segments.append(Segment(text[i + 1:], style))
            else:
                segments.append(Segment(text, style))
        return Strip(segments, width)

    def _render_label(self, width: int, base: Style) -> Strip:
        total = self.total
        label_style = base + self.component("scrubber--label")
        if total == 0:
            text = " no events loaded" + (f"  {self.note}" if self.note else "")
            return Strip([Segment(text, label_style)]).crop_extend(0, width, base)
        cell = self._cell_of(self.cursor, width)
        label = f" {self.cursor}/{total - 1}" + (f"  {self.note}" if self.note else "") + " "
        line = [" "] * width
        line[cell] = "▲"
        # the label goes on whichever side of the marker has room
        if cell + 2 + len(label) <= width:
            start = cell + 1
        elif cell - len(label) >= 0:
            start = cell - len(label)
        else:
            start = max(0, width - len(label))
        segments = [Segment("".join(line[:start]), base),
                    Segment(label[: max(0, width - start)], label_style)]
        rest = start + len(label)
        if rest < width:
            segments.append(Segment("".join(line[rest:]), base))
        return Strip(segments).crop_extend(0, width, base)
