"""Provenance: which TOKEN event wrote each character of the content, and what it went through.

The timeline keeps the content as versions (:mod:`.content`): between two events
that replace the content (CONTINUATION, COMPLETE) it only grows by tokens, so a
character in a version's token part belongs to the token whose end offset is the
first one past it (one bisect over the version's change entries).

A character of a version's *base* (the text a CONTINUATION or COMPLETE put in
the content) is traced to the content just before that event. The base is lined
up with the visible output of the latest attempt that had any (its checkpoint
plus its own tokens; see ``docs/format.md`` on attempts): the common prefix and
then the common suffix of what is left keep the characters they cover, the rest
no TOKEN produced (the runtime's final text differed from its tokens there).
Following a character down through the versions takes one bisect per version,
so a query costs O(versions x log n) and nothing is built per character. The
alignment of each base is made on first use and kept (it depends only on the
events before that base).

:class:`CharProvenance` is the answer for one character: the token, its attempt,
the CONTINUATION that carried it over from a checkpoint, and the GUARDRAIL and
DRIFT events that judged text containing it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

from l0core.events import (
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    GuardrailEvent,
    RecordedEventType,
)
from l0core.timeline.ranks import RANK, TOKEN_RANK

if TYPE_CHECKING:
    from array import array

    from l0core.timeline.index import Timeline

JUDGES_KEPT = 32
"""At most this many flagging GUARDRAIL/DRIFT seqs are listed per character."""

_RETRY = RANK[RecordedEventType.RETRY]
_FALLBACK = RANK[RecordedEventType.FALLBACK]
_CONTINUATION = RANK[RecordedEventType.CONTINUATION]
_COMPLETE = RANK[RecordedEventType.COMPLETE]
_GUARDRAIL = RANK[RecordedEventType.GUARDRAIL]
_DRIFT = RANK[RecordedEventType.DRIFT]

Segment = tuple[int, int, int]
"""``(lo, hi, source)``: base characters ``[lo, hi)`` are the prior content's
characters from offset ``source`` on."""


@dataclass(frozen=True, slots=True)
class CharProvenance:
    """Where one character of ``content_at(seq)`` came from.

    ``token_seq`` is the TOKEN event that wrote it (None: no TOKEN produced it;
    then ``written_by`` is the CONTINUATION or COMPLETE whose text it is) and
    ``token_offset`` its position in that token's text. ``restored_by`` is the
    latest CONTINUATION that carried it over from a checkpoint (None: it arrived
    as a token and stayed). ``judged_by`` lists the GUARDRAIL events with
    violations and DRIFT events that detected drift, among all ``judged_count``
    GUARDRAIL/DRIFT events that judged text containing it; ``last_judge`` is the
    latest of those. ``ts`` and ``gap_ms`` are the token's arrival time and the
    time since the TOKEN before it (None without a token, or for the first).
    """

    seq: int
    offset: int
    char: str
    token_seq: int | None
    token_offset: int
    written_by: int
    attempt: int | None
    restored_by: int | None
    judged_by: tuple[int, ...]
    judged_count: int
    last_judge: int | None
    ts: float | None
    gap_ms: float | None

    @property
    def restored(self) -> bool:
        return self.restored_by is not None


def common_prefix(a: str, b: str, limit: int | None = None) -> int:
    """Length of the common prefix of ``a`` and ``b`` (C-level compares, O(n log n))."""
    hi = min(len(a), len(b)) if limit is None else min(len(a), len(b), limit)
    if a[:hi] == b[:hi]:
        return hi
    lo = 0  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix of ``a`` and ``b``, at most ``limit``."""
    n = min(len(a), len(b), limit)
    if n <= 0:
        return 0
    if a[len(a) - n :] == b[len(b) - n :]:
        return n
    lo, hi = 0, n  # suffix of length lo is common, of length hi is not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[len(a) - mid : len(a) - lo] == b[len(b) - mid : len(b) - lo]:
            lo = mid
        else:
            hi = mid
    return lo


def align_base(base: str, source: str, anchor: int) -> list[Segment]:
    """Line ``base`` up with ``source[anchor:]``: common prefix, then common suffix."""
    visible = source[anchor:] if anchor else source
    if base == visible:
        return [(0, len(base), anchor)] if base else []
    head = common_prefix(base, visible)
    tail = common_suffix(base, visible, min(len(base), len(visible)) - head)
    out: list[Segment] = []
    if head:
        out.append((0, head, anchor))
    if tail:
        out.append((len(base) - tail, len(base), anchor + len(visible) - tail))
    return out


class ProvenanceIndex:
    """Character -> TOKEN answers over one :class:`Timeline` (kept by the timeline).

    Reads the timeline's content arrays directly; the base alignments are kept
    across ``extend`` (they depend only on earlier events), the rest is derived
    from arrays that only grow.
    """

    __slots__ = ("_bases", "_flagging", "_tl")

    def __init__(self, timeline: Timeline) -> None:
        self._tl = timeline
        self._bases: dict[int, list[Segment]] = {}
        self._flagging: tuple[int, array[int]] | None = None

    # ─────────────── attempts, cheaply ───────────────

    def attempt_starts(self) -> list[int]:
        """First seq of every attempt (the rules of ``Timeline.attempts``), cached."""
        tl = self._tl
        cached: list[int] | None = tl._cache.get("attempt_starts")
        if cached is None:
            by_rank = tl._lm_by_rank
            bounds = sorted([*by_rank[_RETRY], *by_rank[_FALLBACK], *by_rank[_CONTINUATION]])
            cached = [0] if len(tl) else []
            conts = set(by_rank[_CONTINUATION])
            for seq in bounds:
                if seq in conts and tl._tokens_between(cached[-1], seq) == 0:
                    continue
                if seq != cached[-1]:
                    cached.append(seq)
            tl._cache["attempt_starts"] = cached
        return cached

    def attempt_number(self, seq: int) -> int:
        return bisect_right(self.attempt_starts(), seq)

    def _attempt_end(self, seq: int) -> int:
        """The first seq after the attempt holding ``seq`` (len() for the last)."""
        starts = self.attempt_starts()
        i = bisect_right(starts, seq)
        return starts[i] if i < len(starts) else len(self._tl)

    def _any_between(self, rank: int, lo: int, hi: int) -> bool:
        """Is there an event of ``rank`` with ``lo <= seq <= hi``?"""
        seqs = self._tl._lm_by_rank[rank]
        i = bisect_left(seqs, lo)
        return i < len(seqs) and seqs[i] <= hi

    def visible_start(self, seq: int) -> int:
        """Where, in ``content_at(seq)``, the visible output of the attempt at ``seq`` begins.

        The fold keeps a failed attempt's tokens in front of the next attempt's
        (the quirk in ``docs/format.md``); an attempt's own output is its
        checkpoint plus its tokens, or the final content once COMPLETE.
        """
        start = self.attempt_starts()[self.attempt_number(seq) - 1]
        if start == 0:
            return 0
        if self._any_between(_CONTINUATION, start, seq) or self._any_between(
                _COMPLETE, start, seq):
            return 0
        return self._tl.content_length_at(start)

    def _has_output(self, start: int, stop: int) -> bool:
        """Does the attempt from ``start`` show anything by seq ``stop`` (inclusive)?"""
        return (self._tl._tokens_between(start, stop + 1) > 0
                or self._any_between(_CONTINUATION, start, stop)
                or self._any_between(_COMPLETE, start, stop))

    def source_anchor(self, seq: int) -> int:
        """Where the latest attempt with output at ``seq`` begins in ``content_at(seq)``."""
        starts = self.attempt_starts()
        i = self.attempt_number(seq) - 1
        stop = seq
        while i > 0 and not self._has_output(starts[i], stop):
            stop = starts[i] - 1
            i -= 1
        return self.visible_start(stop)

    # ─────────────── bases ───────────────

    def base_segments(self, v: int) -> list[Segment]:
        """How version ``v``'s base lines up with the content just before it."""
        cached = self._bases.get(v)
        if cached is None:
            tl = self._tl
            start = tl._c_seq[tl._v_first[v]]
            base = tl._versions[v].full()[: tl._versions[v].base_len]
            if start <= 0:
                cached = []
            else:
                prior = tl.content_at(start - 1)
                cached = align_base(base, prior, self.source_anchor(start - 1))
            self._bases[v] = cached
        return cached

    # ─────────────── judges ───────────────

    def _flagging_seqs(self) -> array[int]:
        """Seqs of GUARDRAIL events with violations and DRIFT events that detected drift."""
        from array import array as _array

        tl = self._tl
        n = len(tl._lm_by_rank[_GUARDRAIL]) + len(tl._lm_by_rank[_DRIFT])
        if self._flagging is None or self._flagging[0] != n:
            seqs = sorted([*tl._lm_by_rank[_GUARDRAIL], *tl._lm_by_rank[_DRIFT]])
            keep = _array("q")
            for s in seqs:
                ev = tl._lm_envs[s].event
                if (isinstance(ev, GuardrailEvent) and ev.result.violations) or (
                        isinstance(ev, DriftEvent) and ev.result.detected):
                    keep.append(s)
            self._flagging = (n, keep)
        return self._flagging[1]

    def _judges(self, spans: list[tuple[int, int, int]]) -> tuple[tuple[int, ...], int, int | None]:
        """Judges within ``spans`` of ``(lo, hi, min_at)`` (seqs inclusive; a judge
        counts when its ``at`` is at least ``min_at``)."""
        tl = self._tl
        found: set[int] = set()
        count = 0
        last: int | None = None
        flagging = self._flagging_seqs()
        for lo, hi, min_at in spans:
            for rank in (_GUARDRAIL, _DRIFT):
                seqs = tl._lm_by_rank[rank]
                a, b = bisect_left(seqs, lo), bisect_right(seqs, hi)
                if a >= b:
                    continue
                if min_at > 0:
                    # "at" is the token index the check ran at; checks before the
                    # token's index did not see it (rare: they are usually in order)
                    while a < b and _at(tl, seqs[a]) < min_at:
                        a += 1
                    if a >= b:
                        continue
                count += b - a
                last = seqs[b - 1] if last is None else max(last, seqs[b - 1])
            fa, fb = bisect_left(flagging, lo), bisect_right(flagging, hi)
            for s in flagging[fa : min(fb, fa + JUDGES_KEPT)]:
                if min_at <= 0 or _at(tl, s) >= min_at:
                    found.add(s)
        return tuple(sorted(found)[:JUDGES_KEPT]), count, last

    def _visible_span(self, lo: int, hi: int, min_at: int) -> tuple[int, int, int]:
        """From ``lo`` to the end of its attempt, at most ``hi``."""
        return lo, min(hi, self._attempt_end(lo) - 1), min_at

    # ─────────────── one character ───────────────

    def at(self, seq: int, offset: int) -> CharProvenance:
        """Provenance of ``content_at(seq)[offset]``."""
        tl = self._tl
        tl._check(seq)
        length = tl.content_length_at(seq)
        if not 0 <= offset < length:
            raise IndexError(f"offset {offset} is outside the content at seq {seq} "
                             f"(length {length})")
        char = tl._versions[tl._version_of(bisect_right(tl._c_seq, seq) - 1)].full()[offset]
        level, i = seq, offset
        restored: int | None = None
        spans: list[tuple[int, int, int]] = []
        token_seq: int | None = None
        token_offset = -1
        written_by = seq
        conts = tl._lm_by_rank[_CONTINUATION]
        while True:
            k = bisect_right(tl._c_seq, level) - 1
            v = tl._version_of(k)
            lo = tl._v_first[v]
            version = tl._versions[v]
            start_v = tl._c_seq[lo] if v > 0 else -1
            if i >= version.base_len:
                j = bisect_right(tl._c_len, i, lo + (1 if v > 0 else 0), k + 1)
                token_seq = tl._c_seq[j]
                token_offset = i - (tl._c_len[j - 1] if j - 1 >= lo else 0)
                written_by = token_seq
                first = token_seq
                spans.append(self._visible_span(token_seq, level, int(tl._tokens.index[token_seq])))
            else:
                first = start_v
            # CONTINUATIONs after the character arrived that kept the content as it
            # was (no new version): each restored the whole content, this included
            a, b = bisect_right(conts, first), bisect_right(conts, level)
            for c in conts[a:b]:
                spans.append(self._visible_span(c, level, 0))
            if restored is None and b > a:
                restored = conts[b - 1]
            if token_seq is not None:
                break
            segment = _segment_holding(self.base_segments(v), i)
            if segment is None:
                written_by = start_v  # the CONTINUATION's or COMPLETE's own text
                break
            creator = tl._lm_envs[start_v].event
            if isinstance(creator, ContinuationEvent):
                if restored is None:
                    restored = start_v
                spans.append(self._visible_span(start_v, level, 0))
            elif isinstance(creator, CompleteEvent):
                spans.append((start_v, level, 0))
            i = segment[2] + (i - segment[0])
            level = start_v - 1
        judged, count, last = self._judges(spans)
        ts = gap = None
        if token_seq is not None:
            ts = tl._ts[token_seq]
            before = tl._rank.rfind(TOKEN_RANK, 0, token_seq)
            gap = ts - tl._ts[before] if before >= 0 else None
        return CharProvenance(
            seq=seq, offset=offset, char=char, token_seq=token_seq, token_offset=token_offset,
            written_by=written_by,
            attempt=self.attempt_number(token_seq) if token_seq is not None else None,
            restored_by=restored, judged_by=judged, judged_count=count, last_judge=last,
            ts=ts, gap_ms=gap,
        )

    # ─────────────── spans ───────────────

    def unproduced(
        self, seq: int, start: int = 0, stop: int | None = None
    ) -> list[tuple[int, int]]:
        """The ``[lo, hi)`` ranges of ``content_at(seq)[start:stop]`` no TOKEN produced."""
        tl = self._tl
        tl._check(seq)
        length = tl.content_length_at(seq)
        stop = length if stop is None else min(stop, length)
        start = max(0, start)
        out: list[tuple[int, int]] = []
        # (level seq, lo, hi, where lo lands in the top content)
        work = [(seq, start, stop, start)] if start < stop else []
        while work:
            level, lo, hi, dst = work.pop()
            k = bisect_right(tl._c_seq, level) - 1
            if k < 0:
                continue
            v = tl._version_of(k)
            base_len = tl._versions[v].base_len
            if v == 0 or lo >= base_len:
                continue  # tokens only
            top = min(hi, base_len)
            start_v = tl._c_seq[tl._v_first[v]]
            pos = lo
            for s_lo, s_hi, src in self.base_segments(v):
                a, b = max(pos, s_lo), min(top, s_hi)
                if a >= b:
                    continue
                if a > pos:
                    out.append((dst + pos - lo, dst + a - lo))
                work.append((start_v - 1, src + a - s_lo, src + b - s_lo, dst + a - lo))
                pos = b
            if pos < top:
                out.append((dst + pos - lo, dst + top - lo))
        out.sort()
        merged: list[tuple[int, int]] = []
        for a, b in out:
            if merged and merged[-1][1] >= a:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged


def _segment_holding(segments: list[Segment], i: int) -> Segment | None:
    for seg in segments:
        if seg[0] <= i < seg[1]:
            return seg
    return None


def _at(tl: Timeline, seq: int) -> int:
    ev = tl._lm_envs[seq].event
    at = getattr(ev, "at", 0)
    return at if isinstance(at, int) else 0
