"""Timing facts from recorded timestamps: time to first token, gaps, stalls, rate.

All from the ``ts`` the recorder wrote (Unix ms), with C-level loops over arrays
so a million-event stream takes well under a second.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
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
