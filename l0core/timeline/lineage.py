"""Attempt lineage: why each attempt started, how long it waited, what it carried over.

:mod:`.attempts` splits a stream into attempts; this module adds what a reader
asks next about each one: which event started it (the RETRY's reason and
whether it counted against the retry budget, the FALLBACK's index and the model
it switched to when the START options name the models), the backoff from the
failure to its first token, how it ended and, for a continuation, exactly which
text it carried over and from which attempt.

Model names come from the START options: ``model`` is the primary;
``fallbackModels`` (a list, in ``options.metadata`` or among the options' own
unknown keys) names fallback 1, 2, ...; a ``models`` list there names every
index from 0.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from l0core.events import (
    CompleteEvent,
    ErrorEvent,
    RecordedEventType,
    RetryEvent,
    SerializedOptions,
    StartEvent,
)

if TYPE_CHECKING:
    from l0core.timeline.index import Timeline


@dataclass(frozen=True, slots=True)
class AttemptLineage:
    """One attempt with the facts that explain it (times in ms, seqs inclusive).

    ``trigger_seq`` is the RETRY, FALLBACK or CONTINUATION that opened it (None
    for the first). ``failure_seq`` is what the previous attempt failed with:
    its ERROR if it recorded one, else the trigger; ``backoff_ms`` runs from it to
    this attempt's first token. ``continuation_seq`` and ``carried_over`` are the
    CONTINUATION it resumed from and that checkpoint's text; ``carried_from`` the
    attempts whose tokens wrote that text. ``end_seq_event`` is the COMPLETE or
    ERROR that ended it (None when the next attempt's trigger did).
    """

    number: int
    start_seq: int
    end_seq: int
    started_by: str
    trigger_seq: int | None
    retry_reason: str | None
    retry_number: int | None
    counts_toward_limit: bool | None
    fallback_index: int
    model: str | None
    failure_seq: int | None
    backoff_ms: float | None
    first_token_seq: int | None
    token_count: int
    chars: int
    outcome: str
    reason: str | None
    end_event_seq: int | None
    continuation_seq: int | None
    carried_over: str
    carried_from: tuple[int, ...]
    duration_ms: float

    def describe_start(self) -> str:
        """``start``, ``retry (network, not counted): reason``, ``fallback #1 → model``."""
        if self.started_by == "retry":
            counted = "counted" if self.counts_toward_limit else "not counted"
            text = f"retry {self.retry_number} ({counted})" if self.retry_number else \
                f"retry ({counted})"
            return f"{text}: {self.retry_reason}" if self.retry_reason else text
        if self.started_by == "fallback":
            text = f"fallback #{self.fallback_index}"
            return f"{text} → {self.model}" if self.model else text
        if self.started_by == "continuation":
            return "continuation"
        return f"start ({self.model})" if self.model else "start"


def model_names(options: SerializedOptions) -> dict[int, str]:
    """Fallback index -> model name, from what the START options say."""
    out: dict[int, str] = {}
    if isinstance(options.model, str):
        out[0] = options.model
    for source in (options.metadata or {}, options.extra):
        models = source.get("models")
        if isinstance(models, list):
            for i, name in enumerate(models):
                if isinstance(name, str):
                    out.setdefault(i, name)
        fallbacks = source.get("fallbackModels", source.get("fallback_models"))
        if isinstance(fallbacks, list):
            for i, name in enumerate(fallbacks, start=1):
                if isinstance(name, str):
                    out.setdefault(i, name)
    return out


def attempt_lineage(tl: Timeline) -> list[AttemptLineage]:
    """The lineage of every attempt of ``tl`` (cost: one :meth:`Timeline.attempts`)."""
    attempts = tl.attempts()
    starts = tl.landmarks(RecordedEventType.START)
    models: dict[int, str] = {}
    if starts:
        start_ev = tl.envelope(starts[0]).event
        if isinstance(start_ev, StartEvent):
            models = model_names(start_ev.options)
    errors = list(tl.landmarks(RecordedEventType.ERROR))
    out: list[AttemptLineage] = []
    prev_error: int | None = None
    for a in attempts:
        trigger = tl.envelope(a.start_seq).event if a.started_by != "start" else None
        retry_reason = retry_number = counts = None
        if isinstance(trigger, RetryEvent):
            retry_reason, retry_number = trigger.reason, trigger.attempt
            counts = trigger.counts_toward_limit
        first_token = tl.next_landmark(a.start_seq - 1, RecordedEventType.TOKEN)
        if first_token is not None and first_token > a.end_seq:
            first_token = None
        failure: int | None = None
        if trigger is not None:
            failure = prev_error if prev_error is not None else a.start_seq
        backoff = (tl.ts(first_token) - tl.ts(failure)
                   if first_token is not None and failure is not None else None)
        cont_seq = _continuation_of(tl, a.start_seq, a.end_seq, first_token)
        carried_from: tuple[int, ...] = ()
        if cont_seq is not None and a.resumed_from:
            owners = {tl.provenance(cont_seq, i).attempt for i in
                      _samples(len(a.resumed_from))}
            carried_from = tuple(sorted(n for n in owners if n is not None))
        end_event: int | None = None
        k = bisect_right(errors, a.end_seq) - 1
        prev_error = errors[k] if k >= 0 and errors[k] >= a.start_seq else None
        last_ev = tl.envelope(a.end_seq).event
        if isinstance(last_ev, CompleteEvent | ErrorEvent):
            end_event = a.end_seq
        elif a.outcome == "errored" and prev_error is not None:
            end_event = prev_error
        else:
            complete = tl.previous_landmark(a.end_seq + 1, RecordedEventType.COMPLETE)
            if complete is not None and complete >= a.start_seq:
                end_event = complete
        out.append(AttemptLineage(
            number=a.number, start_seq=a.start_seq, end_seq=a.end_seq,
            started_by=a.started_by,
            trigger_seq=a.start_seq if trigger is not None else None,
            retry_reason=retry_reason, retry_number=retry_number,
            counts_toward_limit=counts,
            fallback_index=a.fallback_index, model=models.get(a.fallback_index),
            failure_seq=failure, backoff_ms=backoff, first_token_seq=first_token,
            token_count=a.token_count, chars=len(a.content),
            outcome=a.outcome, reason=a.reason, end_event_seq=end_event,
            continuation_seq=cont_seq, carried_over=a.resumed_from, carried_from=carried_from,
            duration_ms=tl.ts(a.end_seq) - tl.ts(a.start_seq),
        ))
    return out


def _continuation_of(tl: Timeline, start: int, end: int, first_token: int | None) -> int | None:
    """The CONTINUATION an attempt resumed from: its latest one before its first token."""
    stop = end if first_token is None else first_token
    seq = tl.previous_landmark(stop + 1, RecordedEventType.CONTINUATION)
    return seq if seq is not None and seq >= start else None


def _samples(n: int, most: int = 64) -> range:
    """Up to about ``most`` evenly spread offsets of ``0..n-1`` (with the last)."""
    step = max(1, n // most)
    return range(n - 1, -1, -step)


def lineage_rows(lineage: list[AttemptLineage]) -> list[dict[str, Any]]:
    """The lineage as plain rows (for JSON output)."""
    return [
        {
            "attempt": a.number, "start_seq": a.start_seq, "end_seq": a.end_seq,
            "started_by": a.started_by, "trigger_seq": a.trigger_seq,
            "retry_reason": a.retry_reason, "retry_number": a.retry_number,
            "counts_toward_limit": a.counts_toward_limit,
            "fallback_index": a.fallback_index, "model": a.model,
            "failure_seq": a.failure_seq, "backoff_ms": a.backoff_ms,
            "first_token_seq": a.first_token_seq, "token_count": a.token_count,
            "chars": a.chars, "outcome": a.outcome, "reason": a.reason,
            "end_event_seq": a.end_event_seq, "continuation_seq": a.continuation_seq,
            "carried_over": a.carried_over, "carried_from": list(a.carried_from),
            "duration_ms": a.duration_ms,
        }
        for a in lineage
    ]


__all__ = ["AttemptLineage", "attempt_lineage", "lineage_rows", "model_names"]
