"""The content view: what the model had produced at the cursor, attempt by attempt.

The flat fold concatenates a failed attempt's tokens with the next attempt's; this
view tells them apart. Each attempt gets a header (how it started, how it ended and
why); attempts before the cursor's are dimmed and struck through; the cursor's attempt
shows its content up to the cursor with the latest token highlighted (reversed).
Huge content is shown by its tail (the part being written), with a note of how much
was left out.
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from l0core.events import ErrorEvent, RecordedEventType, TokenEvent
from l0core.timeline import Attempt, Timeline
from l0tui.text import clean, clean_tail

CURRENT_CAP = 6_000
"""Characters of the cursor's attempt rendered (its tail)."""
PAST_CAP = 1_200
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


class ContentView(VerticalScroll, can_focus=True):
    """Content at the cursor, attempts told apart.

    Public API:

    - :meth:`update_from` (timeline, seq): render what ``timeline`` had produced at ``seq``;
    - :meth:`show_text` (Text): show any prebuilt text (the diff screen uses it for
      token-level highlighting) in the same frame;
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
    ContentView > Static {
        width: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._body = Static("", expand=True)
        self._text = Text()

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    @property
    def plain(self) -> str:
        return self._text.plain

    def show_text(self, text: Text) -> None:
        self._text = text
        self._body.update(text)
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def update_from(self, timeline: Timeline, seq: int) -> None:
        """Render ``timeline`` at ``seq`` (nothing when the stream is empty)."""
        if len(timeline) == 0 or seq < 0:
            self.show_text(Text("(no events yet)", style="dim"))
            return
        self.show_text(render_content(timeline, seq))


def _latest_token(timeline: Timeline, seq: int, floor: int) -> str | None:
    for s in range(seq, max(floor, seq - TOKEN_LOOKBACK) - 1, -1):
        event = timeline.envelope(s).event
        if isinstance(event, TokenEvent):
            return event.value
    return None


def render_content(timeline: Timeline, seq: int) -> Text:
    """The content view's text for ``timeline`` at ``seq``."""
    attempts = timeline.attempts()
    current = timeline.attempt_at(seq)
    out = Text()
    before = [a for a in attempts if a.number < current.number]
    hidden = before[:-PAST_ATTEMPTS_SHOWN]
    if hidden:
        out.append(f"({len(hidden)} earlier attempts not shown)\n", style="dim italic")
    for attempt in before[-PAST_ATTEMPTS_SHOWN:]:
        out.append_text(attempt_header(attempt, current=False))
        body, dropped = clean_tail(attempt.content, PAST_CAP)
        if dropped:
            out.append(f"… {dropped:,} earlier chars\n", style="dim italic")
        out.append(body or "(no tokens)", style="dim strike")
        out.append("\n\n")
    out.append_text(attempt_header(current, current=True, at_seq=seq))

    kind = timeline.kind(seq)
    content = timeline.content_at(seq)
    if kind == RecordedEventType.COMPLETE:
        body, dropped = clean_tail(content, CURRENT_CAP)
        if dropped:
            out.append(f"… {dropped:,} earlier chars\n", style="dim italic")
        out.append(body)
        out.append("\n✓ complete", style="bold green")
        return out

    # The cursor attempt's own text: what the fold appended since the attempt began
    # (or since its CONTINUATION reset the content to the checkpoint).
    reset = timeline.previous_landmark(seq + 1, RecordedEventType.CONTINUATION)
    anchor = reset if reset is not None and reset >= current.start_seq else current.start_seq
    if timeline.kind(anchor) == RecordedEventType.TOKEN:
        base_len = len(timeline.content_at(anchor - 1)) if anchor > 0 else 0
    else:
        base_len = len(timeline.content_at(anchor))
    if len(content) < base_len:
        base_len = 0
    if current.resumed_from and reset is not None and reset >= current.start_seq:
        resumed, dropped = clean_tail(current.resumed_from, PAST_CAP)
        out.append("resumed from checkpoint: ", style="italic dim")
        if dropped:
            out.append(f"… {dropped:,} earlier chars ", style="dim italic")
        out.append(resumed, style="dim underline")
    start = max(base_len, len(content) - CURRENT_CAP)
    if start > base_len:
        out.append(f"… {start - base_len:,} earlier chars\n", style="dim italic")
    token = _latest_token(timeline, seq, current.start_seq)
    tail = content[start:]
    if token and tail.endswith(token):
        keep = len(tail) - len(token)
        out.append(clean(tail[:keep], limit=None, multiline=True))
        out.append(clean(token, limit=CURRENT_CAP, multiline=True), style="reverse bold")
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
