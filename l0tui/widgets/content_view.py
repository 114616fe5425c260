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

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from l0core.events import ErrorEvent, RecordedEventType, TokenEvent
from l0core.timeline import Attempt, Timeline
from l0tui.display.escape import clean, clean_tail
from l0tui.widgets.lines import StyleCache

CURRENT_CAP = 3_000
"""Characters of the cursor's attempt rendered (its tail)."""
PAST_CAP = 600
"""Characters of each earlier attempt rendered (its tail)."""
PAST_ATTEMPTS_SHOWN = 6
"""Earlier attempts shown with their content; older ones only get their header."""
TOKEN_LOOKBACK = 64
"""How far back (in events) the view looks for the latest token to highlight."""

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
    """Content at the cursor, attempts told apart.

    A Line API widget that shows the *end* of the text (like ``tail``): only the lines
    that fit are cut and drawn, so a step on a huge stream stays cheap, and nothing
    changes the layout of the screen.

    Public API:

    - :meth:`update_from` (timeline, seq): render what ``timeline`` had produced at ``seq``;
    - :meth:`show_text` (Text): show any prebuilt text (the diff screen uses it for
      token-level highlighting) in the same frame, scrolled to its end;
    - :attr:`plain` is the text currently shown (for tests).
    """

    HELP = """\
## Content

What the model had written at the cursor. Each attempt has a header: how it started
(start, retry, fallback, continuation), its seq range and how it ended. Earlier
attempts are dimmed and struck through: that is what a failed attempt produced
before it was retried. The latest token is shown reversed.
"""

    DEFAULT_CSS = """
    ContentView {
        height: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text = Text()
        self._lines: list[Strip] = []
        self._wrapped_width = -1
        self._wrapped_base: Style | None = None
        self._geometry = (0, 0)  # content width and height, read once per repaint

    @property
    def plain(self) -> str:
        return self._text.plain

    def show_text(self, text: Text) -> None:
        self._text = text
        self._wrapped_width = -1
        self._wrap()
        self.refresh()

    def update_from(self, timeline: Timeline, seq: int) -> None:
        """Render ``timeline`` at ``seq`` (a placeholder when the stream is empty)."""
        if len(timeline) == 0 or seq < 0:
            self.show_text(Text("(no events yet)", style="dim"))
            return
        region = self.content_region
        budget = max(600, region.width * region.height)
        self.show_text(render_content(timeline, seq, budget=budget))

    def _wrap(self) -> None:
        width = self.content_region.width
        if width <= 0:
            return
        base = self.base_style
        if width != self._wrapped_width or base != self._wrapped_base:
            self._lines = self._wrap_tail(width, max(1, self.content_region.height), base)
            self._wrapped_width = width
            self._wrapped_base = base

    def _wrap_tail(self, width: int, need: int, base: Style) -> list[Strip]:
        """The end of the text as ready-to-draw lines: styled on ``base`` and exactly
        ``width`` cells wide (see :func:`tail_lines`)."""
        return [_finished_line(piece, width, base)
                for piece in tail_lines(self._text, width, need, self.app.console)]

    def on_resize(self) -> None:
        self._wrapped_width = -1
        self.refresh()

    def prepare_lines(self) -> None:
        region = self.content_region
        self._geometry = (region.width or self.size.width, region.height)

    def render_line(self, y: int) -> Strip:
        if self._wrapped_width != self._geometry[0] or self._wrapped_base != self.base_style:
            self._wrap()  # the width or the base style changed since the text was cut
        width, height = self._geometry
        index = y + max(0, len(self._lines) - height)  # the end of the text stays in view
        if 0 <= index < len(self._lines):
            return self._lines[index]
        return Strip.blank(width, self.base_style)


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
    lines = list(Segment.split_lines(text.render(console)))
    out: list[list[Segment]] = []
    for i in range(len(lines) - 1, -1, -1):
        out.extend(reversed(fold_line(lines[i], width)))
        if len(out) >= need and i > 0:
            break
    out.reverse()
    return out


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
                   leave_out_hidden: bool = True) -> Text:
    """The content view's text for ``timeline`` at ``seq``.

    ``budget`` caps the characters of the cursor's attempt that are rendered (its
    tail); earlier attempts get a third of it each, at most :data:`PAST_CAP`, and are
    left out when the cursor attempt alone has ``budget`` characters to show
    (``leave_out_hidden``). The view passes at least a screenful as ``budget``, so
    what it leaves out could not be on screen, and wrapping stays cheap on huge
    streams.
    """
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
        out.append(clean(timeline.content_at(seq, dropped), limit=None, multiline=True))
        out.append("\n✓ complete", style="bold green")
        return out

    if current.resumed_from and reset is not None and reset >= current.start_seq:
        resumed, dropped = clean_tail(current.resumed_from, past_cap)
        out.append("resumed from checkpoint: ", style="italic dim")
        if dropped:
            out.append(f"… {dropped:,} earlier chars ", style="dim italic")
        out.append(resumed, style="dim underline")
    start = max(base_len, length - current_cap)
    if start > base_len:
        out.append(f"… {start - base_len:,} earlier chars\n", style="dim italic")
    token = _latest_token(timeline, seq, current.start_seq)
    tail = timeline.content_at(seq, start)
    if token and tail.endswith(token):
        keep = len(tail) - len(token)
        out.append(clean(tail[:keep], limit=None, multiline=True))
        out.append(clean(token, limit=current_cap, multiline=True), style="reverse bold")
    else:
        out.append(clean(tail, limit=None, multiline=True))
    if not tail and not current.resumed_from:
        out.append("(no tokens yet)", style="dim italic")
    if kind == RecordedEventType.ERROR:
        event = timeline.envelope(seq).event
        if isinstance(event, ErrorEvent):
            out.append(f"\n✗ {clean(event.error.name)}: {clean(event.error.message, limit=400)}",
                       style="bold red")
    return out
