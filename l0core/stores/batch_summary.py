"""A batch's effect on a stream summary, from the wire events a store is appending.

Two ways a store applies a batch:

- :func:`advance`: the store holds the summary (SQLite's writer): fold the batch into
  it, with a shortcut for batches of TOKENs only, most of a recording's batches, so
  the append path pays one pass over the event kinds instead of a full fold.
- :class:`BatchDelta`: the store does not hold the summary (PostgreSQL: it is in the
  table, under the stream's lock): the batch folded on its own plus what it sets, so
  SQL can combine it with the stored row exactly as :func:`compose` does here.

``tests/stores/test_batch_summary.py`` checks both against ``advance_summary``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from l0core.catalog.summary import StreamSummary, advance_summary, summarize_wire


def _duration(s: StreamSummary, last_ts: float | None = None) -> float:
    end = s.end_ts or (s.last_ts if last_ts is None else last_ts)
    return max(0.0, end - s.start_ts) if s.start_ts else 0.0


TOKENS = frozenset({"TOKEN"})


def kinds_of(events: Sequence[Mapping[str, Any]]) -> set[str]:
    """The event kinds in a batch (one pass, shared by everything that asks)."""
    return {ev["type"] for ev in events}


def advance(summary: StreamSummary, events: Sequence[Mapping[str, Any]],
            kinds: set[str] | None = None) -> None:
    """:func:`~l0core.catalog.summary.advance_summary`, faster for all-TOKEN batches
    (``kinds``: :func:`kinds_of` the batch, if the caller has it)."""
    if (kinds if kinds is not None else kinds_of(events)) != TOKENS:
        advance_summary(summary, events)
        return
    apply_tokens(summary, after_tokens(summary, events))


TokenMoves = tuple[float, int, int, float]
"""``(last_ts, event_count, token_count, duration_ms)``: all a TOKEN batch moves
(with ``last_seq``, which follows ``event_count``)."""


def after_tokens(summary: StreamSummary, events: Sequence[Mapping[str, Any]]) -> TokenMoves:
    """What a batch of TOKENs only makes of ``summary``, without changing it (a store
    that applies it once the batch is written: :func:`apply_tokens`)."""
    last = events[-1]
    last_ts = float(last["ts"])
    return (last_ts, summary.event_count + len(events), int(last["index"]) + 1,
            _duration(summary, last_ts))


def apply_tokens(summary: StreamSummary, moves: TokenMoves) -> None:
    summary.last_seq += moves[1] - summary.event_count
    summary.last_ts, summary.event_count, summary.token_count, summary.duration_ms = moves


@dataclass(slots=True)
class BatchDelta:
    """What appending one batch does to any summary."""

    alone: StreamSummary
    """The batch folded as if it were the whole stream."""
    sets_start: bool
    """It holds a START (``start_ts`` becomes the last one's)."""
    sets_tokens: bool
    """It holds a TOKEN or COMPLETE (``token_count`` becomes the last one's)."""
    sets_fallback: bool
    sets_end: bool
    """It holds a COMPLETE or ERROR (``end_ts`` becomes the last one's)."""

    @classmethod
    def of(cls, stream_id: str, events: Sequence[Mapping[str, Any]]) -> BatchDelta:
        kinds = {ev["type"] for ev in events}
        return cls(summarize_wire(stream_id, events), "START" in kinds,
                   bool(kinds & {"TOKEN", "COMPLETE"}), "FALLBACK" in kinds,
                   bool(kinds & {"COMPLETE", "ERROR"}))


def compose(old: StreamSummary | None, delta: BatchDelta) -> StreamSummary:
    """The summary after the batch, from the one before (None: the stream is new).

    The reference for the SQL of the PostgreSQL append function: field by field the
    same rules.
    """
    d = delta.alone
    if old is None:
        return d.copy()
    s = old.copy()
    if delta.sets_start:
        s.start_ts = d.start_ts
    if delta.sets_end:
        s.end_ts = d.end_ts
    if delta.sets_tokens:
        s.token_count = d.token_count
    if delta.sets_fallback:
        s.fallback_index = d.fallback_index
    s.last_ts = d.last_ts
    s.violation_count += d.violation_count
    s.drift_detected = s.drift_detected or d.drift_detected
    s.retry_attempts += d.retry_attempts
    s.network_retry_count += d.network_retry_count
    if d.status == "error":
        s.status = "error"
        s.failure_type, s.error_head = d.failure_type, d.error_head
    elif d.status == "completed" and s.status != "error":
        s.status = "completed"
    s.event_count += d.event_count
    s.last_seq += d.event_count
    s.duration_ms = _duration(s)
    return s
