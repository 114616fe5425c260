"""Sample events and a fake clock for testing stores and anything built on them.

They are public because an adapter author's own tests need the same inputs the
conformance suite uses: :func:`every_kind` is the stream that exercises every
event kind and every payload that must survive a round trip unchanged, and
:class:`FakeClock` lets a TTL test move time without sleeping.
"""

from __future__ import annotations

from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    DriftEventResult,
    ErrorEvent,
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


class FakeClock:
    """A clock in Unix ms that only moves when told to (pass it as a store's ``clock``)."""

    def __init__(self, start: float = 1_800_000_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def every_kind(base_ts: float = 1_700_000_000_000.0) -> list[RecordedEvent]:
    """One stream with all ten kinds, unknown keys in every free-form payload."""
    return [
        StartEvent(ts=base_ts, options=SerializedOptions(
            prompt="Explain quantum computing", model="gpt-5-micro",
            retry={"attempts": 3, "backoff": "exponential"},
            metadata={"user": "u1", "nested": {"k": [1, 2.5, None, True]}},
            extra={"futureOption": {"x": 1}},
        )),
        TokenEvent(ts=base_ts + 10, value="Quantum", index=0),
        TokenEvent(ts=base_ts + 20, value=" computing", index=1),
        CheckpointEvent(ts=base_ts + 21, at=1, content="Quantum computing"),
        GuardrailEvent(ts=base_ts + 22, at=1, result=GuardrailEventResult(
            violations=[{"rule": "json", "message": "Not valid JSON yet", "severity": "warning",
                         "recoverable": True, "position": 7, "vendorField": {"a": "b"}}],
            should_retry=False, should_halt=False, extra={"checkedBy": "fast"},
        )),
        DriftEvent(ts=base_ts + 23, at=1, result=DriftEventResult(
            detected=True, types=["tone_shift"], confidence=0.75)),
        RetryEvent(ts=base_ts + 30, reason="network_error", attempt=1, counts_toward_limit=False),
        FallbackEvent(ts=base_ts + 31, to=1),
        ContinuationEvent(ts=base_ts + 32, checkpoint="Quantum computing", at=1),
        TokenEvent(ts=base_ts + 40, value=" is…", index=2),
        ErrorEvent(ts=base_ts + 50, error=SerializedError(
            name="TimeoutError", message="inter-token timeout", code="ETIMEDOUT", stack="at x",
            metadata={"elapsedMs": 5000, "extraDetail": ["a"]}),
            failure_type="timeout", recovery_strategy="retry",
            policy={"retryEnabled": True, "maxRetries": 3}),
        CompleteEvent(ts=base_ts + 60, content="Quantum computing is…", token_count=3),
    ]


def tokens(n: int, *, start: int = 0, prefix: str = "t", ts: float = 1.0) -> list[TokenEvent]:
    """``n`` TOKEN events with values ``prefix0, prefix1, ...`` and indexes from ``start``."""
    return [TokenEvent(ts=ts + i, value=f"{prefix}{i}", index=start + i) for i in range(n)]
