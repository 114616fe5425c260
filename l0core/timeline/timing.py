"""Timing facts from recorded timestamps: time to first token, gaps, stalls, rate.

All from the ``ts`` the recorder wrote (Unix ms), with C-level loops over arrays
so a million-event stream takes well under a second.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress


@dataclass(slots=True)
class Timing:
    """Timing facts from the recorded ``ts`` values (milliseconds).

    Gaps are between consecutive TOKEN events; stalls are gaps between any two
    consecutive events of at least the threshold, as ``(seq after the gap, gap)``.
    """

    time_to_first_token_ms: float | None
    duration_ms: float
    median_gap_ms: float
    p95_gap_ms: float
    max_gap_ms: float
    stalls: list[tuple[int, float]] = field(default_factory=list)

    def copy(self) -> Timing:
        return Timing(self.time_to_first_token_ms, self.duration_ms, self.median_gap_ms,
                      self.p95_gap_ms, self.max_gap_ms, list(self.stalls))


def summarize(
    ts: array[float], token_ts: array[float], ttft: float | None, stall_ms: float
) -> Timing:
    """Timing of a stream whose events have ``ts`` and whose tokens have ``token_ts``."""
    if not ts:
        return Timing(None, 0.0, 0.0, 0.0, 0.0, [])
    gaps = sorted(map(float.__sub__, token_ts[1:], token_ts[:-1]))
    if gaps:
        half = len(gaps) // 2
        median = gaps[half] if len(gaps) % 2 else (gaps[half - 1] + gaps[half]) / 2
        p95 = gaps[min(len(gaps) - 1, round(0.95 * (len(gaps) - 1)))]
        biggest = gaps[-1]
    else:
        median = p95 = biggest = 0.0
    deltas = array("d", map(float.__sub__, ts[1:], ts[:-1]))
    stall_seqs = compress(range(1, len(ts)), map(stall_ms.__le__, deltas))
    stalls = [(seq, deltas[seq - 1]) for seq in stall_seqs]
    return Timing(ttft, ts[-1] - ts[0], median, p95, biggest, stalls)


def per_bucket(sorted_ts: array[float], t0: float, t1: float, buckets: int) -> list[int]:
    """How many of ``sorted_ts`` fall in each of ``buckets`` equal slices of [t0, t1].

    Stamps before ``t0`` count in the first bucket, after ``t1`` in the last.
    """
    if buckets <= 0:
        return []
    out = [0] * buckets
    if not sorted_ts:
        return out
    width = (t1 - t0) / buckets
    if width <= 0:
        out[0] = len(sorted_ts)
        return out
    prev = 0
    for b in range(buckets):
        nxt = len(sorted_ts) if b == buckets - 1 else bisect_left(
            sorted_ts, t0 + (b + 1) * width, prev)
        out[b] += nxt - prev
        prev = nxt
    return out


PERCENTILES: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)
"""The gap percentiles reported per attempt."""


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ascending values by nearest rank (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    n = len(sorted_values)
    return sorted_values[min(n - 1, max(0, round(q * (n - 1))))]


@dataclass(slots=True)
class AttemptTiming:
    """Timing of one attempt: first token, gaps between its tokens, stalls, rate.

    ``first_token_ms`` runs from the attempt's first event (the START, RETRY,
    FALLBACK or CONTINUATION that opened it) to its first token;
    ``gap_percentiles`` maps each of :data:`PERCENTILES` to a gap in ms;
    ``tokens_per_s`` is the tokens after the first over the time from the first
    to the last (None with fewer than two tokens or no time between them).
    A stall belongs to the attempt in which the wait began (the event before it),
    so the silence that a FALLBACK ends is the failed attempt's.
    """

    attempt: int
    start_seq: int
    end_seq: int
    tokens: int
    first_token_ms: float | None
    gap_percentiles: dict[float, float]
    max_gap_ms: float
    stalls: list[tuple[int, float]]
    tokens_per_s: float | None


def attempt_timing(
    number: int, start: int, end: int, opened_at: float, stamps: array[float],
    stalls: Sequence[tuple[int, float]],
) -> AttemptTiming:
    """Timing of the attempt ``[start, end]``, opened at ``opened_at``, whose TOKEN
    events have the ``ts`` values ``stamps`` (in seq order)."""
    gaps = sorted(map(float.__sub__, stamps[1:], stamps[:-1]))
    span = stamps[-1] - stamps[0] if stamps else 0.0
    return AttemptTiming(
        attempt=number, start_seq=start, end_seq=end, tokens=len(stamps),
        first_token_ms=stamps[0] - opened_at if stamps else None,
        gap_percentiles={q: percentile(gaps, q) for q in PERCENTILES},
        max_gap_ms=gaps[-1] if gaps else 0.0,
        stalls=[(s, g) for s, g in stalls if start <= s - 1 <= end],
        tokens_per_s=(len(stamps) - 1) / (span / 1000.0) if len(stamps) > 1 and span > 0
        else None,
    )


def arrival_gaps(sorted_ts: array[float]) -> array[float]:
    """``sorted_ts[i + 1] - sorted_ts[i]`` for each i: the wait before each arrival."""
    return array("d", map(float.__sub__, sorted_ts[1:], sorted_ts[:-1]))


def max_gap_per_bucket(
    sorted_ts: array[float], gaps: array[float], t0: float, t1: float, buckets: int
) -> list[float]:
    """The longest wait before a token arriving in each of ``buckets`` slices of [t0, t1].

    ``gaps`` is :func:`arrival_gaps` of ``sorted_ts``: a token's gap is the time
    since the token before it in arrival order; a bucket with no token, or only
    the first, has 0.0.
    """
    if buckets <= 0:
        return []
    out = [0.0] * buckets
    if len(sorted_ts) < 2:
        return out
    width = (t1 - t0) / buckets
    if width <= 0:
        out[0] = max(gaps)
        return out
    prev = 1  # token 0 has no gap; token i's gap is gaps[i - 1]
    for b in range(buckets):
        nxt = len(sorted_ts) if b == buckets - 1 else max(prev, bisect_left(
            sorted_ts, t0 + (b + 1) * width, prev))
        if nxt > prev:
            out[b] = max(gaps[prev - 1 : nxt - 1])
        prev = nxt
    return out
