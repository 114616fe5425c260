"""Attempts: a recorded stream split into the tries that produced its output.

The seed fold glues a failed attempt's tokens onto the next attempt's until
COMPLETE overwrites the content (the fold rules in ``docs/format.md``), so the
debugger shows each attempt on its own: where it started and why, what it
produced, how it ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from l0core.events import (
    CompleteEvent,
    ContinuationEvent,
    ErrorEvent,
    FallbackEvent,
    RecordedEvent,
    RetryEvent,
)


@dataclass(slots=True)
class Attempt:
    """One try at producing the output: from a START, RETRY, FALLBACK or CONTINUATION.

    ``content`` is the text this attempt's own TOKEN events produced;
    ``resumed_from`` the checkpoint text a CONTINUATION made it start from (its
    visible output is ``resumed_from + content``).
    """

    number: int
    start_seq: int
    end_seq: int
    started_by: str
    content: str
    resumed_from: str
    token_count: int
    outcome: str
    reason: str | None
    fallback_index: int

    def copy(self) -> Attempt:
        return Attempt(self.number, self.start_seq, self.end_seq, self.started_by,
                       self.content, self.resumed_from, self.token_count, self.outcome,
                       self.reason, self.fallback_index)


def split_attempts(
    n_events: int,
    landmarks: Iterable[int],
    event_at: Callable[[int], RecordedEvent],
    tokens_between: Callable[[int, int], int],
    token_text: Callable[[int, int], str],
) -> list[Attempt]:
    """Split seqs ``0..n_events-1`` into attempts (rules: ``Timeline.attempts``).

    ``landmarks`` are the non-TOKEN seqs in order; ``tokens_between(a, b)`` and
    ``token_text(a, b)`` count and join the TOKEN events with ``a <= seq < b``.
    """
    if n_events <= 0:
        return []
    rows: list[dict[str, Any]] = []
    cur: dict[str, Any] = dict(start=0, by="start", resumed="", outcome="running",
                               reason=None, fallback=0)
    for seq in landmarks:
        ev = event_at(seq)
        if isinstance(ev, RetryEvent | FallbackEvent) or (
            isinstance(ev, ContinuationEvent) and tokens_between(cur["start"], seq) > 0
        ):
            if cur["outcome"] in ("running", "completed"):
                cur["outcome"] = "fell_back" if isinstance(ev, FallbackEvent) else "retried"
                cur["reason"] = ev.reason if isinstance(ev, RetryEvent) else None
            cur["end"] = seq - 1
            rows.append(cur)
            by = {RetryEvent: "retry", FallbackEvent: "fallback"}.get(type(ev), "continuation")
            fallback = ev.to if isinstance(ev, FallbackEvent) else cur["fallback"]
            cur = dict(start=seq, by=by, resumed="", outcome="running", reason=None,
                       fallback=fallback)
        if isinstance(ev, ContinuationEvent):
            cur["resumed"] = ev.checkpoint
        elif isinstance(ev, CompleteEvent):
            cur["outcome"], cur["reason"] = "completed", None
        elif isinstance(ev, ErrorEvent):
            cur["outcome"], cur["reason"] = "errored", ev.error.message
    cur["end"] = n_events - 1
    rows.append(cur)
    return [
        Attempt(
            number=n,
            start_seq=r["start"],
            end_seq=r["end"],
            started_by=r["by"],
            content=token_text(r["start"], r["end"] + 1),
            resumed_from=r["resumed"],
            token_count=tokens_between(r["start"], r["end"] + 1),
            outcome=r["outcome"],
            reason=r["reason"],
            fallback_index=r["fallback"],
        )
        for n, r in enumerate(rows, start=1)
    ]
