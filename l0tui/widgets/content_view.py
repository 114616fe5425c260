"""The content view: what the model had produced at the cursor, attempt by attempt.

The flat fold concatenates a failed attempt's tokens with the next attempt's; this
view tells them apart. Each attempt gets a header (how it started, how it ended and
why); attempts before the cursor's are dimmed and struck through; the cursor's attempt
shows its content up to the cursor with the latest token highlighted (reversed).
Huge content is shown by its tail (the part being written), with a note of how much
was left out.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import ClassVar

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from l0core.events import ErrorEvent, RecordedEventType, TokenEvent
from l0core.timeline import Attempt, CharProvenance, Timeline
from l0tui.display.escape import clean, clean_tail
from l0tui.display.formatting import format_duration, format_offset
from l0tui.widgets.lines import StyleCache

CURRENT_CAP = 3_000
"""Characters of the cursor's attempt rendered (its tail)."""
PAST_CAP = 600
"""Characters of each earlier attempt rendered (its tail)."""
PAST_ATTEMPTS_SHOWN = 6
"""Earlier attempts shown with their content; older ones only get their header."""
TOKEN_LOOKBACK = 64
"""How far back (in events) the view looks for the latest token to highlight."""
UNPRODUCED_STYLE = "bold magenta on rgb(60,0,60)"
"""Characters of the content that no TOKEN wrote (the final text differs there)."""
TEXT_CURSOR_STYLE = "bold black on rgb(255,215,0)"
"""The character under the text cursor."""
PROVENANCE_ROWS = 2
"""Rows at the bottom of the view for the provenance line (it wraps in a narrow pane)."""

OUTCOME_TEXT = {
    "retried": "retried",
    "fell_back": "fell back",
    "completed": "completed",
    "errored": "errored",
    "running": "running",
}


def attempt_header(attempt: Attempt, *, current: bool, at_seq: int | None = None) -> Text:
    """``── attempt 2 · after retry · #14–#40 · retried: guardrail ──``."""
    bits = [f"attempt {attempt.number}"]
    if attempt.started_by != "start":
        bits.append(f"after {attempt.started_by}")
    if attempt.fallback_index:
        bits.append(f"model #{attempt.fallback_index}")
    end = at_seq if current and at_seq is not None else attempt.end_seq
    bits.append(f"#{attempt.start_seq}–#{end}")
    if current and at_seq is not None and at_seq < attempt.end_seq:
        bits.append("at cursor")
    else:
        outcome = OUTCOME_TEXT.get(attempt.outcome, attempt.outcome)
        if attempt.reason:
            outcome += f": {clean(attempt.reason, limit=80)}"
        bits.append(outcome)
    label = " · ".join(bits)
    style = "bold reverse" if current else "bold dim"
    return Text.assemble(("── ", "dim"), (f" {label} ", style), (" ──", "dim"), "\n")


class ContentView(StyleCache, Widget, can_focus=True):
    """Content at the cursor, attempts told apart, with a text cursor that says where
    each character came from.

    A Line API widget that shows the *end* of the text (like ``tail``): only the lines
    that fit are cut and drawn, so a step on a huge stream stays cheap, and nothing
    changes the layout of the screen.

    The text cursor (arrows when focused, or a click) sits on one character of the
    cursor attempt's text; the bottom row then shows that character's provenance
    (:meth:`Timeline.provenance`): the TOKEN that wrote it, its attempt, its arrival,
    the CONTINUATION that restored it, the checks that judged it. ``o`` (or enter)
    asks the screen to jump to that TOKEN (:class:`JumpTo`).

    Public API:

    - :meth:`update_from` (timeline, seq): render what ``timeline`` had produced at ``seq``;
    - :meth:`show_text` (Text): show any prebuilt text (the diff screen uses it for
      word-level highlighting) in the same frame, scrolled to its end;
    - :attr:`text_cursor` (a content offset or None), :meth:`set_text_cursor`,
      :attr:`provenance` and :attr:`provenance_line`;
    - :attr:`plain` is the text currently shown (for tests).
    """

    HELP = """\
## Content

What the model had written at the cursor. Each attempt has a header: how it started
(start, retry, fallback, continuation), its seq range and how it ended. Earlier
attempts are dimmed and struck through: that is what a failed attempt produced
before it was retried. The latest token is shown reversed. Characters that no TOKEN
wrote (the final text differs from the tokens there) are marked in magenta.

Focus it (tab or a click) and move the text cursor with the arrows: the bottom line
says which TOKEN wrote the character under it, in which attempt, when it arrived,
whether a CONTINUATION restored it from a checkpoint, and which guardrail or drift
checks judged it. **o** or **enter** jumps to that TOKEN.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move_text(-1, 0)", "Char left", show=False, id="content.left"),
        Binding("right", "move_text(1, 0)", "Char right", show=False, id="content.right"),
        Binding("up", "move_text(0, -1)", "Line up", show=False, id="content.up"),
        Binding("down", "move_text(0, 1)", "Line down", show=False, id="content.down"),
        Binding("o,enter", "origin", "Go to token", id="content.origin"),
    ]

    DEFAULT_CSS = """
    ContentView {
        height: 1fr;
        padding: 0 1;
    }
    ContentView > .content-view--provenance {
        background: $boost;
        color: $text;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"content-view--provenance"}

    class JumpTo(Message):
        """Move the main cursor to ``seq`` (the TOKEN that wrote the character)."""

        def __init__(self, content_view: ContentView, seq: int) -> None:
            super().__init__()
            self.content_view = content_view
            self.seq = seq

        @property
        def control(self) -> ContentView:
            return self.content_view

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text = Text()
        self._shown_text = Text()  # _text with the text cursor drawn on it
        self._lines: list[Strip] = []
        self._line_starts: list[int] = []  # text position where each line begins
        self._top = 0  # the first line drawn while the text cursor is on
        self._wrapped_width = -1
        self._wrapped_base: Style | None = None
        self._geometry = (0, 0)  # content width and height, read once per repaint
        self._timeline: Timeline | None = None
        self._seq = -1
        self._spans: list[tuple[int, int, int]] = []
        self.text_cursor: int | None = None
        """Offset in ``content_at(seq)`` of the character under the text cursor."""
        self._pending: tuple[int, int] | None = None  # (seq, offset) after a jump
        self._provenance: CharProvenance | None = None
        self._provenance_line = Text()
        self._footer: list[list[Segment]] = []  # the provenance rows of this repaint

    @property
    def plain(self) -> str:
        return self._text.plain

    @property
    def provenance(self) -> CharProvenance | None:
        """Where the character under the text cursor came from (None: no text cursor)."""
        return self._provenance

    @property
    def provenance_line(self) -> str:
        return self._provenance_line.plain

    def show_text(self, text: Text) -> None:
        """Show ``text`` as is (no text cursor: nothing maps it to a content)."""
        self._timeline, self._spans, self.text_cursor = None, [], None
        self._provenance = None
        self._set_text(text)

    def _set_text(self, text: Text) -> None:
        self._text = text
        self._wrapped_width = -1
        self._draw_cursor()
        self._wrap()
        self.refresh()

    def update_from(self, timeline: Timeline, seq: int) -> None:
        """Render ``timeline`` at ``seq`` (a placeholder when the stream is empty)."""
        if len(timeline) == 0 or seq < 0:
            self.show_text(Text("(no events yet)", style="dim"))
            return
        region = self.content_region
        budget = max(600, region.width * region.height)
        spans: list[tuple[int, int, int]] = []
        text = render_content(timeline, seq, budget=budget, spans=spans)
        self._timeline, self._seq, self._spans = timeline, seq, spans
        if self._pending is not None:
            pending_seq, offset = self._pending
            self._pending = None
            if pending_seq == seq:
                self.text_cursor = offset
        if self.text_cursor is not None:
            self.text_cursor = self._clamp(self.text_cursor)
        self._set_text(text)

    # ── the text cursor ──

    def _clamp(self, offset: int) -> int | None:
        """``offset`` if the text shows it, else the nearest offset it shows."""
        if not self._spans:
            return None
        best: int | None = None
        distance = -1
        for start, end, first in self._spans:
            last = first + end - start - 1
            near = min(max(offset, first), last)
            if near == offset:
                return offset
            if best is None or abs(near - offset) < distance:
                best, distance = near, abs(near - offset)
        return best

    def _position(self, offset: int) -> int | None:
        """Where content ``offset`` is in the text shown (None: not shown)."""
        for start, end, first in self._spans:
            if first <= offset < first + end - start:
                return start + offset - first
        return None

    def _offset(self, position: int) -> int | None:
        """The content offset shown at text ``position`` (the nearest one shown)."""
        best: tuple[int, int] | None = None
        for start, end, first in self._spans:
            if start <= position < end:
                return first + position - start
            near = min(max(position, start), end - 1)
            if best is None or abs(near - position) < best[0]:
                best = (abs(near - position), first + near - start)
        return None if best is None else best[1]

    def set_text_cursor(self, offset: int | None) -> None:
        """Put the text cursor on content ``offset`` (clamped to what is shown), or remove it."""
        self.text_cursor = None if offset is None else self._clamp(offset)
        self._draw_cursor()
        self._wrapped_width = -1
        self._wrap()
        self.refresh()

    def _draw_cursor(self) -> None:
        """The text with the cursor drawn, and the provenance of the character under it."""
        tl, cursor = self._timeline, self.text_cursor
        position = None if cursor is None else self._position(cursor)
        if tl is None or cursor is None or position is None:
            self._shown_text = self._text
            self._provenance = None
            self._provenance_line = Text()
            return
        shown = self._text.copy()
        shown.stylize(TEXT_CURSOR_STYLE, position, position + 1)
        self._shown_text = shown
        self._provenance = tl.provenance(self._seq, cursor)
        self._provenance_line = provenance_text(tl, self._provenance)

    def action_move_text(self, chars: int, lines: int) -> None:
        if not self._spans:
            return
        if self.text_cursor is None:  # the first key puts it on the last character
            self.set_text_cursor(max(first + end - start - 1 for start, end, first
                                     in self._spans))
            return
        position = self._position(self.text_cursor)
        if position is None:
            return
        if lines:
            row = bisect_right(self._line_starts, position) - 1
            target_row = max(0, min(len(self._line_starts) - 1, row + lines))
            column = position - self._line_starts[row]
            row_end = (self._line_starts[target_row + 1] - 1
                       if target_row + 1 < len(self._line_starts) else len(self._text))
            position = min(self._line_starts[target_row] + column, max(
                self._line_starts[target_row], row_end))
            offset = self._offset(position)
        else:
            offset = self.text_cursor + chars
        if offset is not None:
            self.set_text_cursor(offset)

    def action_origin(self) -> None:
        """Ask the screen to move the main cursor to the TOKEN under the text cursor."""
        p, tl = self._provenance, self._timeline
        if p is None or tl is None:
            self.notify("Move the text cursor onto a character first (arrows or a click).",
                        title="provenance")
            return
        target = p.token_seq if p.token_seq is not None else p.written_by
        if p.token_seq is not None:
            value = tl.token_values(p.token_seq, p.token_seq + 1)[0] or ""
            self._pending = (p.token_seq,
                             tl.content_length_at(p.token_seq) - len(value) + p.token_offset)
        else:
            self._pending = (target, p.offset)
        self.post_message(self.JumpTo(self, target))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self._lines:
            return
        height = self._geometry[1]
        rows = max(1, height - len(self._provenance_rows(self._geometry[0])))
        if offset.y >= rows:
            return  # the provenance line itself
        index = self._first_drawn(rows) + offset.y
        if not 0 <= index < len(self._lines) or index >= len(self._line_starts):
            return
        position = self._line_starts[index] + _chars_in_cells(
            self._piece_text(index), offset.x)
        target = self._offset(position)
        if target is not None:
            self.focus()
            self.set_text_cursor(target)

    def _piece_text(self, index: int) -> str:
        return self._lines[index].text

    def _provenance_rows(self, width: int) -> list[list[Segment]]:
        """The provenance line folded to ``width``: at most :data:`PROVENANCE_ROWS`."""
        if not self._provenance_line or width <= 0:
            return []
        pieces = fold_line(list(self._provenance_line.render(self.app.console)), width)
        return pieces[:PROVENANCE_ROWS]

    # ── drawing ──

    def _wrap(self) -> None:
        width = self.content_region.width
        if width <= 0:
            return
        base = self.base_style
        if width != self._wrapped_width or base != self._wrapped_base:
            height = max(1, self.content_region.height)
            need = height
            position = None if self.text_cursor is None else self._position(self.text_cursor)
            if position is not None:
                # enough lines to reach the text cursor from the end: every newline
                # after it starts one, and a full width of text fills one
                plain = self._text.plain
                need += (len(plain) - position) // width + plain.count("\n", position) + 1
            self._lines = self._wrap_tail(width, need, base)
            self._wrapped_width = width
            self._wrapped_base = base

    def _wrap_tail(self, width: int, need: int, base: Style) -> list[Strip]:
        """The end of the text as ready-to-draw lines: styled on ``base`` and exactly
        ``width`` cells wide (see :func:`tail_lines`)."""
        pieces, starts = tail_lines_with_starts(self._shown_text, width, need,
                                                self.app.console)
        self._line_starts = starts
        return [_finished_line(piece, width, base) for piece in pieces]

    def _first_drawn(self, rows: int) -> int:
        """The index of the first line drawn in ``rows`` rows: the end of the text, or
        the part holding the text cursor."""
        top = max(0, len(self._lines) - rows)
        if self.text_cursor is not None:
            position = self._position(self.text_cursor)
            if position is not None and self._line_starts:
                row = bisect_right(self._line_starts, position) - 1
                if row < top:
                    top = row
        return top

    def on_resize(self) -> None:
        self._wrapped_width = -1
        self.refresh()

    def prepare_lines(self) -> None:
        region = self.content_region
        self._geometry = (region.width or self.size.width, region.height)
        self._footer = self._provenance_rows(self._geometry[0])
        self._top = self._first_drawn(max(1, region.height - len(self._footer)))

    def render_line(self, y: int) -> Strip:
        if self._wrapped_width != self._geometry[0] or self._wrapped_base != self.base_style:
            self._wrap()  # the width or the base style changed since the text was cut
            self._top = self._first_drawn(max(1, self._geometry[1] - len(self._footer)))
        width, height = self._geometry
        if self._footer:
            row = y - (height - len(self._footer))
            if row >= 0:
                style = self.base_style + self.component("content-view--provenance")
                return _finished_line(self._footer[row], width, style)
            index = self._top + y
        else:
            index = y + max(0, len(self._lines) - height)  # the end of the text stays in view
        if 0 <= index < len(self._lines):
            return self._lines[index]
        return Strip.blank(width, self.base_style)


def provenance_text(timeline: Timeline, p: CharProvenance) -> Text:
    """The provenance line, most telling first: ``'x' ← TOKEN #12[3] · restored by
    CONTINUATION #99 · attempt 1 · +0.412s (+38ms) · judged by 2 · o: go to token``."""
    out = Text()
    out.append(f" {clean(repr(p.char), limit=12)} ", style="bold reverse")
    if p.token_seq is None:
        kind = timeline.kind(p.written_by).value
        out.append(f" no TOKEN wrote this: {kind} #{p.written_by}'s own text", style="bold")
        out.append(" · o: go there", style="dim")
        return out
    out.append(f" ← TOKEN #{p.token_seq}", style="bold")
    out.append(f"[{p.token_offset}]", style="dim")
    if p.restored_by is not None:
        out.append(f" · restored by CONTINUATION #{p.restored_by}", style="bold cyan")
    out.append(f" · attempt {p.attempt}")
    rel = format_offset(timeline.relative_ms(p.token_seq))
    gap = "" if p.gap_ms is None else f" (+{format_duration(p.gap_ms, compact=True)})"
    out.append(f" · {rel}{gap}")
    if p.restored_by is None:
        out.append(" · arrived as a token", style="dim")
    if p.judged_count:
        flagged = (" ✗ " + " ".join(f"#{s}" for s in p.judged_by[:3])) if p.judged_by else ""
        out.append(f" · judged by {p.judged_count}{flagged}",
                   style="bold red" if p.judged_by else "")
    out.append(" · o: go to token", style="dim")
    return out


def _chars_in_cells(text: str, cells: int) -> int:
    """How many characters of ``text`` fit before cell ``cells`` (the one clicked)."""
    used = 0
    for i, ch in enumerate(text):
        used += get_character_cell_size(ch)
        if used > cells:
            return i
    return max(0, len(text) - 1)


def _finished_line(piece: list[Segment], width: int, base: Style) -> Strip:
    """``piece`` (at most ``width`` cells) on ``base``, padded to exactly ``width``."""
    segments = [Segment(text, base + style if style else base) for text, style, _ in piece]
    used = sum(cell_len(seg.text) for seg in segments)
    if used < width:
        segments.append(Segment(" " * (width - used), base))
    elif used > width:  # a word wrap keeps the space it broke at, one cell past the end
        segments = Segment.adjust_line_length(segments, width, base)
    return Strip(segments, width)


def tail_lines(text: Text, width: int, need: int, console: Console) -> list[list[Segment]]:
    """Fold ``text`` into ``width`` cells from its end until ``need`` lines are ready.

    What the view shows is the end (the part being written), so only that is cut
    into lines. Folding works on segments by cell position, so wide characters (CJK,
    emoji) never split.
    """
    return tail_lines_with_starts(text, width, need, console)[0]


def tail_lines_with_starts(
    text: Text, width: int, need: int, console: Console
) -> tuple[list[list[Segment]], list[int]]:
    """:func:`tail_lines`, and the position in ``text.plain`` where each line begins
    (the text cursor maps clicks and line moves with them)."""
    lines = list(Segment.split_lines(text.render(console)))
    # where each logical line begins: the lines and the newlines between them
    begins = [0] * len(lines)
    total = 0
    for i, line in enumerate(lines):
        begins[i] = total
        total += sum(len(seg.text) for seg in line) + 1
    out: list[list[Segment]] = []
    starts: list[int] = []
    for i in range(len(lines) - 1, -1, -1):
        pieces = fold_line(lines[i], width)
        offsets = []
        pos = begins[i]
        for piece in pieces:
            offsets.append(pos)
            pos += sum(len(seg.text) for seg in piece)
        out.extend(reversed(pieces))
        starts.extend(reversed(offsets))
        if len(out) >= need and i > 0:
            break
    out.reverse()
    starts.reverse()
    return out, starts


def word_breaks(text: str, width: int) -> list[int]:
    """Where to cut a one-cell-per-character ``text`` into lines of at most ``width``:
    after the last space of a line when there is one in its second half, else hard."""
    cuts: list[int] = []
    pos = 0
    while len(text) - pos > width:
        cut = pos + width
        space = text.rfind(" ", pos + 1, cut + 1)
        if space > pos + width // 2:
            cut = space + 1
        cuts.append(cut)
        pos = cut
    return cuts


def _split_at(line: list[Segment], cuts: list[int]) -> list[list[Segment]]:
    """``line`` cut at character offsets ``cuts`` (ascending)."""
    out: list[list[Segment]] = [[]]
    offset = 0
    i = 0
    for seg in line:
        text, style = seg.text, seg.style
        start = 0
        while i < len(cuts) and cuts[i] < offset + len(text):
            local = cuts[i] - offset
            if local > start:
                out[-1].append(Segment(text[start:local], style))
            out.append([])
            start = local
            i += 1
        if start < len(text):
            out[-1].append(Segment(text[start:], style))
        offset += len(text)
    return out


def fold_line(line: list[Segment], width: int) -> list[list[Segment]]:
    """Cut one line of segments into lines of at most ``width`` cells.

    Lines of one-cell characters wrap at word boundaries; anything else is cut by
    cell width, so a wide character (CJK, emoji) is never split. Nothing is lost: a
    line that breaks at a space just past ``width`` keeps that space, one cell too
    long, and the code that draws it crops it.
    """
    width = max(1, width)
    if not any(_NOT_ONE_CELL.search(seg.text) for seg in line):
        total = sum(len(seg.text) for seg in line)
        if total <= width:
            return [line]
        return _split_at(line, word_breaks("".join(seg.text for seg in line), width))
    out: list[list[Segment]] = [[]]
    used = 0
    for seg in line:
        text, style = seg.text, seg.style
        start = 0  # where the part of ``text`` not yet put on a line begins
        pos = 0
        while pos < len(text):
            found = _NOT_ONE_CELL.search(text, pos)
            stop = found.start() if found else len(text)
            while pos < stop:  # a run of one-cell characters: fill lines by arithmetic
                if used >= width:
                    if pos > start:
                        out[-1].append(Segment(text[start:pos], style))
                    out.append([])
                    used, start = 0, pos
                take = min(width - used, stop - pos)
                pos += take
                used += take
            if found:  # one wide or zero-width character
                cells = get_character_cell_size(text[pos])
                if used + cells > width and used > 0:
                    if pos > start:
                        out[-1].append(Segment(text[start:pos], style))
                    out.append([])
                    used, start = 0, pos
                used += cells
                pos += 1
        if start < len(text):
            out[-1].append(Segment(text[start:], style))
    return out


def _not_one_cell() -> re.Pattern[str]:
    """A pattern matching every character that may not be exactly one cell wide.

    Built from the table behind :func:`rich.cells.get_character_cell_size`. That
    table is private to Rich, so if it moves the pattern falls back to "anything
    but printable ASCII": still correct (every match is measured one by one), only
    slower.
    """
    try:
        from rich._unicode_data import load

        table = load("auto").widths
    except (ImportError, AttributeError, TypeError, ValueError):
        return re.compile("[^\x20-\x7e]")
    ranges = [(0x00, 0x1F), (0x7F, 0x9F)]
    ranges += [(start, end) for start, end, cells in table if cells != 1]
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                                    for a, b in ranges) + "]")


_NOT_ONE_CELL = _not_one_cell()


def _latest_token(timeline: Timeline, seq: int, floor: int) -> str | None:
    for s in range(seq, max(floor, seq - TOKEN_LOOKBACK) - 1, -1):
        event = timeline.envelope(s).event
        if isinstance(event, TokenEvent):
            return event.value
    return None


def _attempt_base(timeline: Timeline, current: Attempt, length: int, reset: int | None) -> int:
    """Where the cursor attempt's own text starts in a content of ``length``: what the
    fold appended since the attempt began (or since its CONTINUATION at ``reset``
    set the content to the checkpoint). Only lengths are compared, nothing is
    copied: the content may be megabytes long."""
    anchor = reset if reset is not None and reset >= current.start_seq else current.start_seq
    if timeline.kind(anchor) == RecordedEventType.TOKEN:
        base = timeline.content_length_at(anchor - 1) if anchor > 0 else 0
    else:
        base = timeline.content_length_at(anchor)
    return 0 if length < base else base


def render_content(timeline: Timeline, seq: int, *, budget: int = CURRENT_CAP,
                   leave_out_hidden: bool = True,
                   spans: list[tuple[int, int, int]] | None = None) -> Text:
    """The content view's text for ``timeline`` at ``seq``.

    ``budget`` caps the characters of the cursor's attempt that are rendered (its
    tail); earlier attempts get a third of it each, at most :data:`PAST_CAP`, and are
    left out when the cursor attempt alone has ``budget`` characters to show
    (``leave_out_hidden``). The view passes at least a screenful as ``budget``, so
    what it leaves out could not be on screen, and wrapping stays cheap on huge
    streams.

    ``spans``, when given, receives ``(start, end, offset)`` for every run of the
    text that shows ``timeline.content_at(seq)`` character for character: text
    positions ``start..end`` are content offsets ``offset..``. The text cursor and
    the provenance line use it; characters no TOKEN wrote are marked here.
    """
    mapped: list[tuple[int, int, int]] = [] if spans is None else spans

    def shown(text: Text, raw: str, offset: int, style: str = "") -> None:
        """Append ``raw`` (content from ``offset``) cleaned; map it when it kept its length."""
        start = len(text)
        cleaned = clean(raw, limit=None, multiline=True)
        text.append(cleaned, style=style)
        if len(cleaned) == len(raw) and raw:
            mapped.append((start, start + len(raw), offset))

    current_cap = min(CURRENT_CAP, budget)
    past_cap = min(PAST_CAP, max(80, budget // 3))
    attempts = timeline.attempts()
    current = timeline.attempt_at(seq)
    kind = timeline.kind(seq)
    length = timeline.content_length_at(seq)
    reset = timeline.previous_landmark(seq + 1, RecordedEventType.CONTINUATION)
    base_len = _attempt_base(timeline, current, length, reset)
    own = length if kind == RecordedEventType.COMPLETE else length - base_len
    out = Text()
    before = [a for a in attempts if a.number < current.number]
    if leave_out_hidden and before and min(own, current_cap) >= budget:
        # The cursor attempt's own text fills a screenful: earlier attempts would be
        # cut into lines only to scroll out of view.
        before = []
    hidden = before[:-PAST_ATTEMPTS_SHOWN]
    if hidden:
        out.append(f"({len(hidden)} earlier attempts not shown)\n", style="dim italic")
    for attempt in before[-PAST_ATTEMPTS_SHOWN:]:
        out.append_text(attempt_header(attempt, current=False))
        body, dropped = clean_tail(attempt.content, past_cap)
        if dropped:
            out.append(f"… {dropped:,} earlier chars\n", style="dim italic")
        out.append(body or "(no tokens)", style="dim strike")
        out.append("\n\n")
    out.append_text(attempt_header(current, current=True, at_seq=seq))

    if kind == RecordedEventType.COMPLETE:
        dropped = max(0, length - current_cap)
        if dropped:
            out.append(f"… {dropped:,} earlier chars\n", style="dim italic")
        shown(out, timeline.content_at(seq, dropped), dropped)
        out.append("\n✓ complete", style="bold green")
        _mark_unproduced(out, timeline, seq, mapped)
        return out

    if current.resumed_from and reset is not None and reset >= current.start_seq:
        dropped = max(0, len(current.resumed_from) - past_cap)
        out.append("resumed from checkpoint: ", style="italic dim")
        if dropped:
            out.append(f"… {dropped:,} earlier chars ", style="dim italic")
        # the checkpoint is the start of the content (the CONTINUATION set it)
        shown(out, current.resumed_from[dropped:], dropped, "dim underline")
    start = max(base_len, length - current_cap)
    if start > base_len:
        out.append(f"… {start - base_len:,} earlier chars\n", style="dim italic")
    token = _latest_token(timeline, seq, current.start_seq)
    tail = timeline.content_at(seq, start)
    if token and tail.endswith(token):
        keep = len(tail) - len(token)
        shown(out, tail[:keep], start)
        shown(out, token, start + keep, "reverse bold")
    else:
        shown(out, tail, start)
    if not tail and not current.resumed_from:
        out.append("(no tokens yet)", style="dim italic")
    if kind == RecordedEventType.ERROR:
        event = timeline.envelope(seq).event
        if isinstance(event, ErrorEvent):
            out.append(f"\n✗ {clean(event.error.name)}: {clean(event.error.message, limit=400)}",
                       style="bold red")
    _mark_unproduced(out, timeline, seq, mapped)
    return out


def _mark_unproduced(text: Text, timeline: Timeline, seq: int,
                     spans: list[tuple[int, int, int]]) -> None:
    """Mark the shown characters no TOKEN wrote (a COMPLETE whose text differs from
    the tokens, a checkpoint that does)."""
    if not spans:
        return
    lo = min(offset for _, _, offset in spans)
    hi = max(offset + end - start for start, end, offset in spans)
    for a, b in timeline.unproduced_spans(seq, lo, hi):
        for start, end, offset in spans:
            x, y = max(a, offset), min(b, offset + end - start)
            if x < y:
                text.stylize(UNPRODUCED_STYLE, start + x - offset, start + y - offset)
