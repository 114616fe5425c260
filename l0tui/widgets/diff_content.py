"""Word-level content difference for the diff screen.

Each side shows the attempt at its cursor: the checkpoint it resumed from, if
any, and the tokens it produced. What the two sides show is compared by words
(:func:`l0core.diff.word_changes`), not by token boundaries, so two runs that cut
the same words into different tokens show no difference. A changed run of words
is underlined, and the characters that actually differ inside it are highlighted
(left: removed/changed, right: added/changed). Earlier attempts are listed above,
dimmed, so a retry on one side is visible at a glance.

:func:`differing_tokens` (token by token) is kept for callers that compare token
lists.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from difflib import SequenceMatcher

from rich.text import Text

from l0core.diff import WordChange, word_changes
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
LEFT_WORD_STYLE = "rgb(255,135,135) underline"
RIGHT_WORD_STYLE = "rgb(135,215,135) underline"
"""A changed run of words; the characters that differ inside it get the strong style."""


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


def shown_text(view: TokenView) -> str:
    """What one side shows of its attempt: the resumed checkpoint and the tokens."""
    return view.resumed + "".join(view.tokens)


# A highlighted range of a side's shown text: (start, end, style)
_Mark = tuple[int, int, str]


def word_marks(changes: list[WordChange], side: str) -> list[_Mark]:
    """The ranges to highlight on ``side`` ("a" or "b"): each changed run of words in
    the light style, and inside it the characters that differ in the strong one."""
    light, strong = ((LEFT_WORD_STYLE, LEFT_STYLE) if side == "a"
                     else (RIGHT_WORD_STYLE, RIGHT_STYLE))
    out: list[_Mark] = []
    for c in changes:
        mine, theirs = (c.a_text, c.b_text) if side == "a" else (c.b_text, c.a_text)
        lo = c.a_lo if side == "a" else c.b_lo
        if not mine:
            continue
        head = 0
        while head < min(len(mine), len(theirs)) and mine[head] == theirs[head]:
            head += 1
        tail = 0
        while (tail < min(len(mine), len(theirs)) - head
               and mine[-1 - tail] == theirs[-1 - tail]):
            tail += 1
        if head:
            out.append((lo, lo + head, light))
        out.append((lo + head, lo + len(mine) - tail, strong))
        if tail:
            out.append((lo + len(mine) - tail, lo + len(mine), light))
    return [m for m in out if m[1] > m[0]]


def render_side(view: TokenView, marks: list[_Mark], style: str = "") -> Text:
    """The content text of one side with the ``marks`` (offsets in :func:`shown_text`)."""
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
    text = shown_text(view)
    marks = sorted(marks)

    def emit(lo: int, hi: int, base: str) -> None:
        """Append ``text[lo:hi]``, cut where a mark starts or ends."""
        edges = {lo, hi}
        for m_lo, m_hi, _ in marks:
            edges.update(e for e in (m_lo, m_hi) if lo < e < hi)
        if hi <= lo:
            return
        cuts = sorted(edges)
        for a, b in itertools.pairwise(cuts):
            style = next((m for m_lo, m_hi, m in marks if m_lo <= a and b <= m_hi), base)
            out.append(clean(text[a:b], limit=None, multiline=True), style=style)

    resumed = len(view.resumed)
    if view.resumed:
        out.append("resumed: ", style="italic dim")
        shown_from = max(0, resumed - EARLIER_CHARS)
        if shown_from:
            out.append("… ", style="dim underline")
        emit(shown_from, resumed, "dim underline")
    # the tail of the tokens, each at most TOKEN_CHARS (a 1 MB token is cut)
    start = len(view.tokens)
    shown_chars = 0
    while start > 0 and shown_chars < CHARS_SHOWN:
        start -= 1
        shown_chars += min(len(view.tokens[start]), TOKEN_CHARS)
    if start:
        out.append(f"… {start:,} earlier tokens\n", style="dim italic")
    offset = resumed + sum(len(t) for t in view.tokens[:start])
    run_from = offset  # tokens of ordinary size are emitted together
    for value in view.tokens[start:]:
        if len(value) > TOKEN_CHARS:
            emit(run_from, offset, "")
            emit(offset, offset + TOKEN_CHARS, "")
            out.append(f"… (+{len(value) - TOKEN_CHARS:,} chars)", style="dim italic")
            run_from = offset + len(value)
        offset += len(value)
    emit(run_from, offset, "")
    if not view.tokens and not view.resumed:
        out.append("(no tokens yet)", style="dim italic")
    return out


def render_pair(left: TokenView, right: TokenView) -> tuple[Text, Text, int]:
    """Both sides' content texts, compared by words; how many runs of words differ."""
    changes = word_changes(shown_text(left), shown_text(right))
    return (render_side(left, word_marks(changes, "a")),
            render_side(right, word_marks(changes, "b")), len(changes))
