"""Hypothesis strategies for recorded streams (shared by the fold, timeline and store tests).

* :func:`events` draws any valid event of the ten kinds; :func:`event_lists` draws
  them in any order (the fold must cope with every order).
* :func:`runs` draws a stream shaped like a real run: START, then attempts of
  tokens with checkpoints, guardrails and drift, ended by RETRY (network or
  model), FALLBACK or ERROR, a CONTINUATION after a retry when a checkpoint
  exists, and finally COMPLETE (whose content is what the runtime reports: the
  last attempt's checkpoint plus its own tokens) or a terminal ERROR.
* :func:`envelopes` wraps events with seqs; :func:`batch_bounds` splits a list
  into consecutive batches for ``Timeline.extend``.

Every event drawn here passes :func:`l0core.codec.encode_event`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    DriftEventResult,
    ErrorEvent,
    EventEnvelope,
    FallbackEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)

# Small alphabets make equal tokens, repeated words and search hits likely.
_TEXT = st.text(alphabet="ab c\n\u00e9\U0001f600", max_size=6)
_TS = st.integers(min_value=1_700_000_000_000, max_value=1_700_000_100_000).map(float)
_EXTRAS = ["none"] * 5 + ["checkpoint"] * 2 + ["guardrail", "drift"]
_REASONS = ("network_error", "guardrail_violation", "drift", "timeout", "zero_output")


def violations() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "rule": st.sampled_from(["pii", "json", "length"]),
            "message": _TEXT,
            "severity": st.sampled_from(["warning", "error", "fatal"]),
            "recoverable": st.booleans(),
        }
    )


def serialized_errors() -> st.SearchStrategy[SerializedError]:
    return st.builds(
        SerializedError,
        name=st.sampled_from(["Error", "TimeoutError", "NetworkError"]),
        message=_TEXT,
        code=st.none() | st.sampled_from(["ECONNRESET", "E_TIMEOUT"]),
    )


def events(ts: st.SearchStrategy[float] = _TS) -> st.SearchStrategy[RecordedEvent]:
    """Any one valid event of the ten kinds."""
    at = st.integers(min_value=0, max_value=50)
    return st.one_of(
        st.builds(StartEvent, ts=ts, options=st.builds(
            SerializedOptions, model=st.sampled_from(["gpt-x", "claude-y"]),
            prompt=_TEXT)),
        st.builds(TokenEvent, ts=ts, value=_TEXT, index=st.integers(0, 60)),
        st.builds(CheckpointEvent, ts=ts, at=at, content=_TEXT),
        st.builds(GuardrailEvent, ts=ts, at=at, result=st.builds(
            GuardrailEventResult, violations=st.lists(violations(), max_size=2),
            should_retry=st.booleans(), should_halt=st.booleans())),
        st.builds(DriftEvent, ts=ts, at=at, result=st.builds(
            DriftEventResult, detected=st.booleans(),
            types=st.lists(st.sampled_from(["tone", "format"]), max_size=2),
            confidence=st.floats(0, 1))),
        st.builds(RetryEvent, ts=ts, reason=st.sampled_from(_REASONS),
                  attempt=st.integers(1, 5), counts_toward_limit=st.booleans()),
        st.builds(FallbackEvent, ts=ts, to=st.integers(0, 3)),
        st.builds(ContinuationEvent, ts=ts, checkpoint=_TEXT, at=at),
        st.builds(CompleteEvent, ts=ts, content=_TEXT, token_count=st.integers(0, 60)),
        st.builds(ErrorEvent, ts=ts, error=serialized_errors(),
                  failure_type=st.sampled_from(["network", "model", "timeout"]),
                  recovery_strategy=st.sampled_from(["retry", "fallback", "halt"]),
                  policy=st.sampled_from(["default", "strict"])),
    )


def event_lists(min_size: int = 0, max_size: int = 60) -> st.SearchStrategy[list[RecordedEvent]]:
    """Events of all kinds in any order, timestamps not necessarily increasing."""
    return st.lists(events(), min_size=min_size, max_size=max_size)


@st.composite
def runs(draw: st.DrawFn, max_attempts: int = 4, max_tokens: int = 12) -> list[RecordedEvent]:
    """A realistic run (see the module docstring), with non-decreasing timestamps."""
    clock = [float(draw(st.integers(1_700_000_000_000, 1_700_000_001_000)))]

    def tick() -> float:
        clock[0] += draw(st.sampled_from([0.0, 1.0, 15.0, 40.0, 2500.0]))
        return clock[0]

    out: list[RecordedEvent] = [StartEvent(ts=tick(), options=SerializedOptions(model="m"))]
    index = 0
    checkpoint: str | None = None
    resumed = ""
    produced = ""
    retry_number = 0
    fallback = 0
    n_attempts = draw(st.integers(1, max_attempts))
    for attempt in range(n_attempts):
        for _ in range(draw(st.integers(0, max_tokens))):
            value = draw(_TEXT)
            out.append(TokenEvent(ts=tick(), value=value, index=index))
            index += 1
            produced += value
            extra = draw(st.sampled_from(_EXTRAS))
            if extra == "checkpoint":
                checkpoint = resumed + produced
                out.append(CheckpointEvent(ts=tick(), at=index, content=checkpoint))
            elif extra == "guardrail":
                out.append(GuardrailEvent(ts=tick(), at=index, result=GuardrailEventResult(
                    violations=draw(st.lists(violations(), min_size=1, max_size=2)),
                    should_retry=True)))
            elif extra == "drift":
                out.append(DriftEvent(ts=tick(), at=index, result=DriftEventResult(
                    detected=draw(st.booleans()), types=["tone"], confidence=0.5)))
        if attempt == n_attempts - 1:
            break
        if checkpoint is not None and draw(st.integers(0, 4)) == 0:
            # resumed in place (no retry recorded): a new attempt by continuation
            resumed, produced = checkpoint, ""
            out.append(ContinuationEvent(ts=tick(), checkpoint=checkpoint, at=len(checkpoint)))
            continue
        if draw(st.integers(0, 2)) == 0:
            out.append(ErrorEvent(ts=tick(), error=draw(serialized_errors()),
                                  failure_type="network", recovery_strategy="retry",
                                  policy="default"))
        if draw(st.integers(0, 3)) == 0:
            fallback += 1
            out.append(FallbackEvent(ts=tick(), to=fallback))
        else:
            retry_number += 1
            out.append(RetryEvent(ts=tick(), reason=draw(st.sampled_from(_REASONS)),
                                  attempt=retry_number, counts_toward_limit=draw(st.booleans())))
        resumed, produced = "", ""
        if checkpoint is not None and draw(st.integers(0, 2)) > 0:
            resumed = checkpoint
            out.append(ContinuationEvent(ts=tick(), checkpoint=checkpoint, at=len(checkpoint)))
        elif draw(st.booleans()):
            index = 0
    if draw(st.integers(0, 5)) == 0:
        out.append(ErrorEvent(ts=tick(), error=draw(serialized_errors()),
                              failure_type="model", recovery_strategy="halt", policy="default"))
    elif draw(st.integers(0, 7)) > 0:
        out.append(CompleteEvent(ts=tick(), content=resumed + produced, token_count=index))
    return out


def envelopes(
    evs: list[RecordedEvent], stream_id: str = "s1", first_seq: int = 0
) -> list[EventEnvelope]:
    return [EventEnvelope(stream_id, first_seq + i, e) for i, e in enumerate(evs)]


@st.composite
def batch_bounds(draw: st.DrawFn, length: int) -> list[tuple[int, int]]:
    """Consecutive ``[lo, hi)`` ranges covering ``0..length`` (some may be empty)."""
    cuts = sorted(draw(st.lists(st.integers(0, length), max_size=5)))
    edges = [0, *cuts, length]
    return list(pairwise(edges))
