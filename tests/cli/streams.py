"""Fixed recordings for the command-line and diff-screen tests (fixed UTC timestamps)."""

from __future__ import annotations

from l0core import (
    BaseEventStore,
    CheckpointEvent,
    CompleteEvent,
    ErrorEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)

T0 = 1_767_225_600_000.0  # 2026-01-01 00:00:00 UTC

GOOD_TOKENS = ["The", " capital", " of", " France", " is", " Paris", "."]
BAD_FIRST = ["The", " capital", " of", " France", " is", " Lyon"]
BAD_SECOND = ["The", " capital", " of", " France", " is", " Paris", "!"]
HOSTILE = "[bold red]boom[/] \x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x9b2J ok"


def _start(ts: float, model: str = "gpt-test") -> StartEvent:
    return StartEvent(ts=ts, options=SerializedOptions(prompt="Capital of France?", model=model))


def good_run() -> list[RecordedEvent]:
    events: list[RecordedEvent] = [_start(T0)]
    t = T0 + 120
    for i, value in enumerate(GOOD_TOKENS):
        events.append(TokenEvent(ts=t, value=value, index=i))
        t += 40
    events.append(CheckpointEvent(ts=t, at=len(GOOD_TOKENS), content="".join(GOOD_TOKENS)))
    events.append(CompleteEvent(ts=t + 5, content="".join(GOOD_TOKENS),
                                token_count=len(GOOD_TOKENS)))
    return events


def bad_run() -> list[RecordedEvent]:
    events: list[RecordedEvent] = [_start(T0 + 60_000)]
    t = T0 + 60_000 + 350
    for i, value in enumerate(BAD_FIRST):
        events.append(TokenEvent(ts=t, value=value, index=i))
        t += 55
    violation = {"rule": "fact-check", "message": "Lyon is not the capital", "severity": "error",
                 "recoverable": True}
    events.append(GuardrailEvent(ts=t, at=len(BAD_FIRST), result=GuardrailEventResult(
        violations=[violation], should_retry=True)))
    events.append(RetryEvent(ts=t + 10, reason="guardrail: fact-check", attempt=1,
                             counts_toward_limit=True))
    t += 900
    for i, value in enumerate(BAD_SECOND):
        events.append(TokenEvent(ts=t, value=value, index=i))
        t += 60
    events.append(CompleteEvent(ts=t + 5, content="".join(BAD_SECOND),
                                token_count=len(BAD_SECOND)))
    return events


def error_run() -> list[RecordedEvent]:
    events: list[RecordedEvent] = [_start(T0 + 120_000), TokenEvent(ts=T0 + 120_200, value=HOSTILE,
                                                                    index=0)]
    events.append(ErrorEvent(ts=T0 + 125_000, error=SerializedError(
        name="TimeoutError", message="no token for 5000 ms \x1b[2J"), failure_type="timeout",
        recovery_strategy="retry", policy="default"))
    return events


STREAMS = {"good_run": good_run, "bad_run": bad_run, "error_run": error_run}


async def fill(store: BaseEventStore, names: tuple[str, ...] = tuple(STREAMS)) -> None:
    for name in names:
        await store.append_many(name, STREAMS[name](), expected_seq=-1)
