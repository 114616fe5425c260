"""Stream diff: align two recorded runs event by event and say where and how they differ.

``compare_replays`` (:mod:`l0core.compare`) compares two final states; a debugger
needs more: which token first diverged, at which seq on each side, and which
events one run has that the other lacks (an extra retry, a guardrail that fired).
:func:`diff_timelines` aligns two :class:`~l0core.timeline.Timeline` objects in
one of three ways and reports the result as data:

* ``"content"``: a sequence diff over every event, where a TOKEN is its value and
  any other event its kind and payload without ``ts``. A common prefix and suffix
  are matched first, large middles are split at elements that occur once on each
  side (patience diff), and the rest goes to :class:`difflib.SequenceMatcher`
  (``autojunk=False``) once a middle is small (len(a) x len(b) <= 4M); a larger
  middle with no element unique on both sides is paired by position, which
  bounds the time on unrelated runs. A run with an extra retry thus aligns its
  common suffix.
* ``"landmarks"``: the non-TOKEN events are aligned by kind; the tokens between
  two aligned landmarks are paired by position.
* ``"seq"``: seq ``i`` on one side is paired with seq ``i`` on the other.

Timestamps never count as a difference (two recordings of one output differ in
time); the summary reports durations separately.

:func:`diff_words` compares what two runs wrote rather than how they tokenised
it: the texts split into words and whitespace runs, aligned the same way, so two
runs that cut the same words into different tokens show no difference, and the
first different word is traced to the seq that wrote it on each side.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import orjson

from l0core.codec import encode_event
from l0core.compare import compare_replays
from l0core.events import RecordedEventType, TokenEvent
from l0core.fold import ReplayedState
from l0core.timeline import Timeline

ALIGNMENTS = ("content", "landmarks", "seq")

# Up to this many element comparisons (len(a) * len(b)) a middle goes straight to
# SequenceMatcher; above, it is split at unique anchors, and a middle that has none
# is paired by position (SequenceMatcher would take seconds to minutes on it).
_DIRECT_LIMIT = 4_000_000


@dataclass(slots=True)
class Difference:
    """One run of disagreeing events.

    ``kind``: ``"token"`` (paired tokens with different text), ``"event"`` (paired
    events of different kind or payload), ``"missing"`` (events only in A),
    ``"extra"`` (events only in B) or ``"state"`` (the final states disagree on a
    field; seqs are both last seqs). ``a_seq``/``b_seq`` are the first seq of the
    run on each side (None where that side has none), ``a_end``/``b_end`` the last.
    """

    kind: str
    a_seq: int | None
    b_seq: int | None
    description: str
    a_end: int | None = None
    b_end: int | None = None


@dataclass(slots=True)
class Delta:
    """One summary figure of both runs."""

    name: str
    a: object
    b: object

    @property
    def differs(self) -> bool:
        return bool(self.a != self.b)


@dataclass(slots=True)
class StreamDiff:
    """The result of :func:`diff_timelines`; navigation helpers work on either side."""

    align: str
    pairs: list[tuple[int | None, int | None]]
    differences: list[Difference]
    first_divergence: Difference | None
    summary: list[Delta]
    identical: bool
    _positions: list[int] = field(default_factory=list, repr=False)
    _index: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _nearest: dict[str, list[int | None]] = field(default_factory=dict, repr=False)

    def _pair_of(self, side: str, seq: int) -> int:
        if side not in ("a", "b"):
            raise ValueError(f"side must be 'a' or 'b', not {side!r}")
        index = self._index[side]
        if not 0 <= seq < len(index):
            raise IndexError(f"seq {seq} is outside side {side}'s 0..{len(index) - 1}")
        return index[seq]

    def counterpart(self, side: str, seq: int) -> int | None:
        """The seq aligned with ``seq`` on the other side.

        When ``seq`` has no counterpart, the counterpart of the closest aligned
        pair before it (else after it); None when the other side is empty.
        """
        self._pair_of(side, seq)
        return self._nearest[side][seq]

    def next_difference(self, side: str, seq: int) -> Difference | None:
        """The first difference that starts after ``seq``'s place in the alignment."""
        p = self._pair_of(side, seq)
        i = bisect_right(self._positions, p)
        return self.differences[i] if i < len(self.differences) else None

    def previous_difference(self, side: str, seq: int) -> Difference | None:
        """The last difference that starts before ``seq``'s place in the alignment."""
        p = self._pair_of(side, seq)
        i = bisect_left(self._positions, p) - 1
        return self.differences[i] if i >= 0 else None

    def difference_at(self, side: str, seq: int) -> Difference | None:
        """The difference whose run contains ``seq`` on ``side``, if any."""
        p = self._pair_of(side, seq)
        i = bisect_right(self._positions, p) - 1
        if i < 0:
            return None
        d = self.differences[i]
        lo, hi = (d.a_seq, d.a_end) if side == "a" else (d.b_seq, d.b_end)
        if lo is not None and hi is not None and lo <= seq <= hi:
            return d
        return None


# ───────────────────────────── keys ─────────────────────────────


def _event_keys(tl: Timeline) -> list[Hashable]:
    """A TOKEN's key is its value; any other event's is (kind, payload JSON without ts)."""
    keys: list[Hashable] = list(tl.token_values(0, len(tl)))
    for seq in tl.landmarks():
        event = tl.envelope(seq).event
        wire = encode_event(event)
        wire.pop("ts", None)
        keys[seq] = (str(event.type), orjson.dumps(wire, option=orjson.OPT_SORT_KEYS))
    return keys


# ───────────────────────────── alignment ─────────────────────────────

# A block pairs a[a_lo:a_hi] with b[b_lo:b_hi] position by position; the longer
# side's leftover has no counterpart.
_Block = tuple[int, int, int, int]


def _align_content(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[_Block]:
    blocks: list[_Block] = []
    _diff_range(a, b, 0, len(a), 0, len(b), blocks)
    return blocks


def _diff_range(
    a: Sequence[Hashable], b: Sequence[Hashable],
    alo: int, ahi: int, blo: int, bhi: int, out: list[_Block],
) -> None:
    # common prefix and suffix
    start_a, start_b = alo, blo
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo += 1
        blo += 1
    if alo > start_a:
        out.append((start_a, alo, start_b, blo))
    end_a, end_b = ahi, bhi
    while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
        ahi -= 1
        bhi -= 1
    suffix = (ahi, end_a, bhi, end_b) if ahi < end_a else None
    if alo < ahi or blo < bhi:
        if alo == ahi or blo == bhi:
            out.append((alo, ahi, blo, blo) if alo < ahi else (alo, alo, blo, bhi))
        elif (ahi - alo) * (bhi - blo) <= _DIRECT_LIMIT or not _split_at_anchors(
            a, b, alo, ahi, blo, bhi, out
        ):
            _sequence_matcher(a, b, alo, ahi, blo, bhi, out)
    if suffix is not None:
        out.append(suffix)


def _split_at_anchors(
    a: Sequence[Hashable], b: Sequence[Hashable],
    alo: int, ahi: int, blo: int, bhi: int, out: list[_Block],
) -> bool:
    """Patience step: match elements unique on both sides, longest increasing run."""
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    candidates = [
        (i, where_b[a[i]]) for i in range(alo, ahi)
        if count_a[a[i]] == 1 and a[i] in where_b
    ]
    anchors = _longest_increasing(candidates)
    if not anchors:
        return False
    pa, pb = alo, blo
    for i, j in anchors:
        _diff_range(a, b, pa, i, pb, j, out)
        out.append((i, i + 1, j, j + 1))
        pa, pb = i + 1, j + 1
    _diff_range(a, b, pa, ahi, pb, bhi, out)
    return True


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by first) increasing in second."""
    tails: list[int] = []  # smallest second value ending a run of each length
    tail_at: list[int] = []  # index in pairs of that element
    back: list[int] = []
    for k, (_, j) in enumerate(pairs):
        n = bisect_left(tails, j)
        if n == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[n] = j
            tail_at[n] = k
        back.append(tail_at[n - 1] if n > 0 else -1)
    out: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    out.reverse()
    return out


def _sequence_matcher(
    a: Sequence[Hashable], b: Sequence[Hashable],
    alo: int, ahi: int, blo: int, bhi: int, out: list[_Block],
) -> None:
    if (ahi - alo) * (bhi - blo) > _DIRECT_LIMIT:
        out.append((alo, ahi, blo, bhi))
        return
    matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "delete":
            out.append((alo + i1, alo + i2, blo + j1, blo + j1))
        elif tag == "insert":
            out.append((alo + i1, alo + i1, blo + j1, blo + j2))
        else:  # equal, replace: paired position by position
            out.append((alo + i1, alo + i2, blo + j1, blo + j2))


def _align_landmarks(a_tl: Timeline, b_tl: Timeline) -> list[_Block]:
    """Landmarks aligned by kind; tokens between aligned landmarks by position."""
    la, lb = list(a_tl.landmarks()), list(b_tl.landmarks())
    ka = [a_tl.kind(s) for s in la]
    kb = [b_tl.kind(s) for s in lb]
    lm_blocks = _align_content(ka, kb)
    out: list[_Block] = []
    pa = pb = 0  # next seq not yet placed on each side

    def segment(a_stop: int, b_stop: int) -> None:
        nonlocal pa, pb
        # the gaps before the next landmark hold only tokens: pair them by position
        if pa < a_stop or pb < b_stop:
            out.append((pa, a_stop, pb, b_stop))
        pa, pb = a_stop, b_stop

    for alo, ahi, blo, bhi in lm_blocks:
        paired = min(ahi - alo, bhi - blo)
        for k in range(paired):
            i, j = la[alo + k], lb[blo + k]
            segment(i, j)
            out.append((i, i + 1, j, j + 1))
            pa, pb = i + 1, j + 1
        for k in range(paired, ahi - alo):  # landmarks only in A
            i = la[alo + k]
            # A's tokens before it pair with as many of B's tokens as B has there
            b_next = b_tl.next_landmark(pb - 1)
            segment(i, min(pb + (i - pa), len(b_tl) if b_next is None else b_next))
            out.append((i, i + 1, pb, pb))
            pa = i + 1
        for k in range(paired, bhi - blo):  # landmarks only in B
            j = lb[blo + k]
            a_next = a_tl.next_landmark(pa - 1)
            segment(min(pa + (j - pb), len(a_tl) if a_next is None else a_next), j)
            out.append((pa, pa, j, j + 1))
            pb = j + 1
    segment(len(a_tl), len(b_tl))
    return out


# ───────────────────────────── result ─────────────────────────────


def _describe_key(tl: Timeline, seq: int) -> str:
    ev = tl.envelope(seq).event
    if isinstance(ev, TokenEvent):
        return f"TOKEN {_short(ev.value)}"
    return str(ev.type)


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _run_summary(tl: Timeline, lo: int, hi: int) -> str:
    kinds = Counter(str(tl.kind(s)) for s in range(lo, min(hi, lo + 10_000)))
    parts = [f"{n} {k}" for k, n in kinds.most_common()]
    more = " ..." if hi - lo > 10_000 else ""
    span = f"#{lo}" if hi - lo == 1 else f"#{lo}..#{hi - 1}"
    return f"{span}: {', '.join(parts)}{more}"


def _status(state: ReplayedState) -> str:
    if state.completed:
        return "completed"
    if state.error is not None:
        return "errored"
    return "running"


def _summary(a: Timeline, b: Timeline, sa: ReplayedState, sb: ReplayedState) -> list[Delta]:
    def duration(tl: Timeline) -> float:
        return tl.relative_ms(tl.last_seq) if len(tl) else 0.0

    return [
        Delta("tokens", a.count(RecordedEventType.TOKEN), b.count(RecordedEventType.TOKEN)),
        Delta("duration_ms", duration(a), duration(b)),
        Delta("time_to_first_token_ms", a.time_to_first_token_ms(), b.time_to_first_token_ms()),
        Delta("retries", a.count(RecordedEventType.RETRY), b.count(RecordedEventType.RETRY)),
        Delta("violations", len(sa.violations), len(sb.violations)),
        Delta("fallback_index", sa.fallback_index, sb.fallback_index),
        Delta("status", _status(sa), _status(sb)),
    ]


def diff_timelines(a: Timeline, b: Timeline, *, align: str = "content") -> StreamDiff:
    """Align ``a`` with ``b`` (``"content"``, ``"landmarks"`` or ``"seq"``) and diff them."""
    if align not in ALIGNMENTS:
        raise ValueError(f"align must be one of {', '.join(ALIGNMENTS)}, not {align!r}")
    keys_a, keys_b = _event_keys(a), _event_keys(b)
    if align == "content":
        blocks = _align_content(keys_a, keys_b)
    elif align == "landmarks":
        blocks = _align_landmarks(a, b)
    else:
        n = min(len(a), len(b))
        blocks = [(0, n, 0, n), (n, len(a), n, len(b))]

    pairs: list[tuple[int | None, int | None]] = []
    differences: list[Difference] = []
    positions: list[int] = []
    index_a = [0] * len(a)
    index_b = [0] * len(b)

    def emit(kind: str, alo: int, ahi: int, blo: int, bhi: int, where: int) -> None:
        a_seq, a_end = (alo, ahi - 1) if ahi > alo else (None, None)
        b_seq, b_end = (blo, bhi - 1) if bhi > blo else (None, None)
        if kind == "missing":
            text = f"only in A {_run_summary(a, alo, ahi)}"
        elif kind == "extra":
            text = f"only in B {_run_summary(b, blo, bhi)}"
        elif ahi - alo == 1:
            text = f"A #{alo} {_describe_key(a, alo)} vs B #{blo} {_describe_key(b, blo)}"
        else:
            text = (f"{ahi - alo} {kind}s differ: A #{alo}..#{ahi - 1} vs "
                    f"B #{blo}..#{bhi - 1}, from {_describe_key(a, alo)} vs "
                    f"{_describe_key(b, blo)}")
        differences.append(Difference(kind, a_seq, b_seq, text, a_end, b_end))
        positions.append(where)

    for alo, ahi, blo, bhi in blocks:
        n = min(ahi - alo, bhi - blo)
        run_kind: str | None = None
        run_start = 0
        for k in range(n):
            i, j = alo + k, blo + k
            index_a[i] = index_b[j] = len(pairs)
            pairs.append((i, j))
            ka, kb = keys_a[i], keys_b[j]
            kind = None if ka == kb else (
                "token" if isinstance(ka, str) and isinstance(kb, str) else "event")
            if kind != run_kind:
                if run_kind is not None:
                    emit(run_kind, alo + run_start, i, blo + run_start, j,
                         len(pairs) - 1 - (k - run_start))
                run_kind, run_start = kind, k
        if run_kind is not None:
            emit(run_kind, alo + run_start, alo + n, blo + run_start, blo + n,
                 len(pairs) - (n - run_start))
        if ahi - alo > n:
            where = len(pairs)
            for i in range(alo + n, ahi):
                index_a[i] = len(pairs)
                pairs.append((i, None))
            emit("missing", alo + n, ahi, blo + n, blo + n, where)
        if bhi - blo > n:
            where = len(pairs)
            for j in range(blo + n, bhi):
                index_b[j] = len(pairs)
                pairs.append((None, j))
            emit("extra", alo + n, alo + n, blo + n, bhi, where)

    sa, sb = a.final_state(), b.final_state()
    for line in compare_replays(sa, sb).differences:
        differences.append(Difference("state", a.last_seq if len(a) else None,
                                      b.last_seq if len(b) else None, line))
        positions.append(len(pairs))

    result = StreamDiff(
        align=align,
        pairs=pairs,
        differences=differences,
        first_divergence=differences[0] if differences else None,
        summary=_summary(a, b, sa, sb),
        identical=not differences,
    )
    result._positions = positions
    result._index = {"a": index_a, "b": index_b}
    result._nearest = {"a": _nearest(pairs, 0, len(a)), "b": _nearest(pairs, 1, len(b))}
    return result


def _nearest(pairs: list[tuple[int | None, int | None]], side: int, n: int) -> list[int | None]:
    """For each seq of ``side``: its counterpart, else that of the closest pair before it."""
    out: list[int | None] = [None] * n
    other = 1 - side
    last: int | None = None
    pending: list[int] = []  # seqs seen before any counterpart exists
    for pair in pairs:
        mine: Any = pair[side]
        theirs = pair[other]
        if theirs is not None:
            last = theirs
            if pending:
                for s in pending:
                    out[s] = theirs
                pending.clear()
        if mine is not None:
            if theirs is not None:
                out[mine] = theirs
            elif last is not None:
                out[mine] = last
            else:
                pending.append(mine)
    return out


# ───────────────────────────── words ─────────────────────────────

_WORD_RE = re.compile(r"\s+|\S+")


def split_words(text: str) -> list[str]:
    """``text`` as alternating runs of non-space and of whitespace (joined, ``text``)."""
    return _WORD_RE.findall(text)


@dataclass(frozen=True, slots=True)
class WordChange:
    """One run of words that differ: ``a[a_lo:a_hi]`` became ``b[b_lo:b_hi]`` (offsets
    in each side's text; an empty range is a pure insertion or deletion)."""

    a_lo: int
    a_hi: int
    b_lo: int
    b_hi: int
    a_text: str
    b_text: str

    @property
    def tag(self) -> str:
        if self.a_lo == self.a_hi:
            return "insert"
        if self.b_lo == self.b_hi:
            return "delete"
        return "replace"


@dataclass(frozen=True, slots=True)
class WordDivergence:
    """The first changed word on each side and the seq of the event that wrote it."""

    a_word: str
    b_word: str
    a_offset: int
    b_offset: int
    a_seq: int | None
    b_seq: int | None

    def describe(self) -> str:
        def side(name: str, word: str, seq: int | None) -> str:
            where = f" at #{seq}" if seq is not None else ""
            return f"{name} {_short(word) if word else '(nothing)'}{where}"

        return f"first different word: {side('A', self.a_word, self.a_seq)} vs " \
               f"{side('B', self.b_word, self.b_seq)}"


@dataclass(slots=True)
class WordDiff:
    """Two texts compared word by word (token boundaries play no part)."""

    a_text: str
    b_text: str
    changes: list[WordChange]
    first: WordDivergence | None

    @property
    def identical(self) -> bool:
        return not self.changes


def word_changes(a: str, b: str) -> list[WordChange]:
    """The runs of words (and whitespace) that differ between ``a`` and ``b``.

    Aligned like the event diff (common ends, unique anchors, then
    :class:`difflib.SequenceMatcher`); differing runs that only whitespace
    separates are merged into one change.
    """
    wa, wb = split_words(a), split_words(b)
    starts_a, starts_b = _offsets(wa), _offsets(wb)
    changes: list[WordChange] = []
    pending: list[int] | None = None  # [alo, ahi, blo, bhi] in word indexes

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            alo, ahi, blo, bhi = (starts_a[pending[0]], starts_a[pending[1]],
                                  starts_b[pending[2]], starts_b[pending[3]])
            changes.append(WordChange(alo, ahi, blo, bhi, a[alo:ahi], b[blo:bhi]))
            pending = None

    def mark(alo: int, ahi: int, blo: int, bhi: int) -> None:
        nonlocal pending
        if pending is not None and pending[1] == alo and pending[3] == blo:
            pending[1], pending[3] = ahi, bhi
        else:
            flush()
            pending = [alo, ahi, blo, bhi]

    for alo, ahi, blo, bhi in _align_content(wa, wb):
        n = min(ahi - alo, bhi - blo)
        k = 0
        while k < n:
            if wa[alo + k] == wb[blo + k]:
                flush()
                k += 1
                continue
            j = k
            while j < n and wa[alo + j] != wb[blo + j]:
                j += 1
            mark(alo + k, alo + j, blo + k, blo + j)
            k = j
        if ahi - alo > n or bhi - blo > n:
            mark(alo + n, ahi, blo + n, bhi)
    flush()
    return _join_over_spaces(a, b, changes)


def _join_over_spaces(a: str, b: str, changes: list[WordChange]) -> list[WordChange]:
    """Merge changes that only whitespace separates on both sides (a rewritten
    phrase reads as one change, not one per word)."""
    out: list[WordChange] = []
    for c in changes:
        if out:
            p = out[-1]
            if not a[p.a_hi : c.a_lo].strip() and not b[p.b_hi : c.b_lo].strip():
                out[-1] = WordChange(p.a_lo, c.a_hi, p.b_lo, c.b_hi,
                                     a[p.a_lo : c.a_hi], b[p.b_lo : c.b_hi])
                continue
        out.append(c)
    return out


def _offsets(words: list[str]) -> list[int]:
    """Start offset of each word, and the total length last."""
    out = [0] * (len(words) + 1)
    total = 0
    for i, w in enumerate(words):
        out[i] = total
        total += len(w)
    out[len(words)] = total
    return out


def _leading_space(text: str) -> int:
    """How many whitespace characters open ``text`` (0 when it is all whitespace)."""
    stripped = text.lstrip()
    return len(text) - len(stripped) if stripped else 0


def _first_word(text: str) -> str:
    words = text.split()
    return words[0] if words else text


def _writer(tl: Timeline, seq: int, base: int, offset: int, length: int) -> int | None:
    """The seq that wrote the visible text's character at ``offset`` (or the one
    before it, for an insertion at the end)."""
    if length == 0:
        return None
    p = tl.provenance(seq, base + min(offset, length - 1))
    return p.written_by


def diff_words(
    a: Timeline, b: Timeline, a_seq: int | None = None, b_seq: int | None = None
) -> WordDiff:
    """Compare what each run shows at ``a_seq`` / ``b_seq`` (default: the last seq) by words.

    What a run shows is its cursor attempt's output (``Timeline.visible_start``):
    the final content after COMPLETE. The first divergence is named by its word
    on each side and the seq that wrote it (through the provenance index).
    """
    def visible(tl: Timeline, seq: int | None) -> tuple[str, int, int]:
        if len(tl) == 0:
            return "", 0, -1
        s = tl.last_seq if seq is None else seq
        start = tl.visible_start(s)
        return tl.content_at(s, start), start, s

    ta, base_a, sa = visible(a, a_seq)
    tb, base_b, sb = visible(b, b_seq)
    changes = word_changes(ta, tb)
    first: WordDivergence | None = None
    if changes:
        c = changes[0]
        a_off = c.a_lo + _leading_space(c.a_text)
        b_off = c.b_lo + _leading_space(c.b_text)
        first = WordDivergence(
            a_word=_first_word(c.a_text), b_word=_first_word(c.b_text),
            a_offset=a_off, b_offset=b_off,
            a_seq=_writer(a, sa, base_a, a_off, len(ta)) if sa >= 0 else None,
            b_seq=_writer(b, sb, base_b, b_off, len(tb)) if sb >= 0 else None,
        )
    return WordDiff(ta, tb, changes, first)
