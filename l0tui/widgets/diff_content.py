"""Token-level content difference for the diff screen.

Each side shows the attempt at its cursor as the tokens it produced (after the
checkpoint it resumed from, if any): the content each side shows at its cursor is
compared, token by token. The two token lists are aligned (common prefix and suffix
in linear time, the middle with :class:`difflib.SequenceMatcher`) and the tokens
without an equal counterpart are highlighted (left: removed/changed, right:
added/changed). Earlier attempts are
listed above, dimmed, so a retry on one side is visible at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from rich.text import Text

from l0core.events import RecordedEventType
from l0core.timeline import Attempt, Timeline
from l0tui.display.escape import clean, clean_tail
from l0tui.widgets.content_view import attempt_header

MAX_SCAN = 2000
"""Events of the cursor's attempt scanned for tokens (its tail, for huge attempts)."""
EARLIER_SHOWN = 3
"""Earlier attempts listed above the current one."""
EARLIER_CHARS = 160
CHARS_SHOWN = 6000
"""Characters of the cursor's attempt rendered (its tail: what is being written)."""
TOKEN_CHARS = 2000
"""Characters of one token shown (a 1 MB token is cut, not rendered whole)."""

LEFT_STYLE = "bold black on rgb(255,135,135) underline"
RIGHT_STYLE = "bold black on rgb(135,215,135) underline"


@dataclass(slots=True)
class TokenView:
    """What one side shows: its attempt, the resumed text, and the token values."""

    attempt: Attempt
    earlier: list[Attempt]
    resumed: str
    tokens: list[str]
    truncated: bool
    seq: int


def token_view(timeline: Timeline, seq: int) -> TokenView:
    """The tokens of the attempt at ``seq`` up to ``seq`` (or the COMPLETE text)."""
    attempt = timeline.attempt_at(seq)
    earlier = [a for a in timeline.attempts() if a.number < attempt.number]
    lo = max(attempt.start_seq, seq + 1 - MAX_SCAN)
    tokens = [value for value in timeline.token_values(lo, seq + 1) if value is not None]
    reset = timeline.previous_landmark(seq + 1, RecordedEventType.CONTINUATION)
    resumed = attempt.resumed_from if reset is not None and reset >= attempt.start_seq else ""
    truncated = lo > attempt.start_seq
    if not truncated and timeline.kind(seq) == RecordedEventType.COMPLETE:
        content = timeline.content_at(seq)
        if content != resumed + "".join(tokens):  # COMPLETE replaced the text: show it whole
            tokens, resumed = [content], ""
    return TokenView(attempt, earlier, resumed, tokens, truncated, seq)


MATCH_LIMIT = 400
"""Above this many differing tokens on each side (after the common prefix and suffix)
the middle is marked different as a whole instead of aligned token by token, so a
step never costs more than ~MATCH_LIMIT² comparisons."""


def differing_tokens(left: list[str], right: list[str]) -> tuple[set[int], set[int]]:
    """Indexes of the tokens of each side that the other side does not have in place.

    The common prefix and suffix are skipped in linear time; the middle is aligned
    with :class:`difflib.SequenceMatcher` when it is small enough.
    """
    n, m = len(left), len(right)
    prefix = 0
    while prefix < n and prefix < m and left[prefix] == right[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < n - prefix and suffix < m - prefix
           and left[n - 1 - suffix] == right[m - 1 - suffix]):
        suffix += 1
    lo_l, hi_l, lo_r, hi_r = prefix, n - suffix, prefix, m - suffix
    if hi_l - lo_l > MATCH_LIMIT or hi_r - lo_r > MATCH_LIMIT:
        return set(range(lo_l, hi_l)), set(range(lo_r, hi_r))
    matcher = SequenceMatcher(None, left[lo_l:hi_l], right[lo_r:hi_r], autojunk=False)
    only_left: set[int] = set()
    only_right: set[int] = set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            only_left.update(range(lo_l + i1, lo_l + i2))
            only_right.update(range(lo_r + j1, lo_r + j2))
    return only_left, only_right


def render_side(view: TokenView, differing: set[int], style: str) -> Text:
    """The content text of one side with ``differing`` token indexes highlighted."""
    out = Text()
    hidden = view.earlier[:-EARLIER_SHOWN]
    if hidden:
        out.append(f"({len(hidden)} earlier attempts not shown)\n", style="dim italic")
    for attempt in view.earlier[-EARLIER_SHOWN:]:
        out.append_text(attempt_header(attempt, current=False))
        body, dropped = clean_tail(attempt.resumed_from + attempt.content, EARLIER_CHARS)
        if dropped:
            out.append("… ", style="dim")
        out.append(body or "(no tokens)", style="dim strike")
        out.append("\n")
    out.append_text(attempt_header(view.attempt, current=True, at_seq=view.seq))
    if view.truncated:
        out.append("… earlier tokens of this attempt not shown\n", style="dim italic")
    if view.resumed:
        body, dropped = clean_tail(view.resumed, EARLIER_CHARS)
        out.append("resumed: ", style="italic dim")
        out.append(("… " if dropped else "") + body, style="dim underline")
    # One append per run of equally styled tokens: a step stays cheap on long attempts.
    run: list[str] = []
    run_lit = False

    def flush() -> None:
        out.append(clean("".join(run), limit=None, multiline=True),
                   style=style if run_lit else "")

    start = len(view.tokens)
    shown_chars = 0
    while start > 0 and shown_chars < CHARS_SHOWN:
        start -= 1
        shown_chars += min(len(view.tokens[start]), TOKEN_CHARS)
    if start:
        out.append(f"… {start:,} earlier tokens\n", style="dim italic")
    for i in range(start, len(view.tokens)):
        value = view.tokens[i]
        lit = i in differing
        if lit != run_lit and run:
            flush()
            run = []
        run_lit = lit
        if len(value) > TOKEN_CHARS:
            value = f"{value[:TOKEN_CHARS]}… (+{len(value) - TOKEN_CHARS:,} chars)"
        run.append(value)
    if run:
        flush()
    if not view.tokens and not view.resumed:
        out.append("(no tokens yet)", style="dim italic")
    return out


def render_pair(left: TokenView, right: TokenView) -> tuple[Text, Text, int]:
    """Both sides' content texts, and how many tokens differ in total."""
    only_left, only_right = differing_tokens(left.tokens, right.tokens)
    return (render_side(left, only_left, LEFT_STYLE), render_side(right, only_right, RIGHT_STYLE),
            len(only_left) + len(only_right))
