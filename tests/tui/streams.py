"""Fixed recorded streams for the TUI tests: fixed timestamps, built in memory.

Each builder returns the typed events; :func:`make_store` appends them to an
``InMemoryEventStore`` under their ids. Times start at 2026-01-01T00:00:00Z.
"""

from __future__ import annotations

from collections.abc import Callable

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
from l0core.stores.memory import InMemoryEventStore

T0 = 1_767_225_600_000.0  # 2026-01-01T00:00:00Z


class _Clock:
    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self, step: float = 50.0) -> float:
        self.t += step
        return self.t


def _tokens(clock: _Clock, words: list[str], step: float = 50.0) -> list[RecordedEvent]:
    return [TokenEvent(ts=clock(step), value=w, index=i) for i, w in enumerate(words)]


def retry_run() -> list[RecordedEvent]:
    """A guardrail violation, a retry, then a clean completion."""
    c = _Clock(T0)
    return [
        StartEvent(ts=T0, options=SerializedOptions(model="gpt-4o", prompt="Say hi")),
        *_tokens(c, ["Hello", " Bob,", " your", " SSN", " is", " 123-45-6789"]),
        GuardrailEvent(ts=c(), at=6, result=GuardrailEventResult(
            violations=[{"rule": "no-pii", "message": "SSN in output", "severity": "error",
                         "recoverable": True}], should_retry=True)),
        RetryEvent(ts=c(), reason="guardrail violation: no-pii", attempt=1,
                   counts_toward_limit=True),
        *_tokens(c, ["Hi", " there", ",", " Bob", "!"]),
        CompleteEvent(ts=c(), content="Hi there, Bob!", token_count=5),
    ]


def error_run() -> list[RecordedEvent]:
    """A network retry, a stall, then an error."""
    c = _Clock(T0 + 3_600_000)
    return [
        StartEvent(ts=c.t, options=SerializedOptions(model="claude-3-5-sonnet")),
        *_tokens(c, ["The", " answer"]),
        RetryEvent(ts=c(), reason="ECONNRESET", attempt=1, counts_toward_limit=False),
        *_tokens(c, ["The", " answer", " is"]),
        TokenEvent(ts=c(3_500.0), value=" 4", index=3),
        ErrorEvent(ts=c(), error=SerializedError(name="TimeoutError",
                                                 message="no token for 5000 ms"),
                   failure_type="timeout", recovery_strategy="halt", policy="default"),
    ]


def violation_run() -> list[RecordedEvent]:
    """Checkpoint, guardrail warning, drift, completion."""
    c = _Clock(T0 + 7_200_000)
    return [
        StartEvent(ts=c.t, options=SerializedOptions(model="gpt-4o-mini", guardrail_count=2)),
        *_tokens(c, ["Once", " upon", " a", " time"]),
        CheckpointEvent(ts=c(), at=3, content="Once upon a time"),
        *[TokenEvent(ts=c(), value=w, index=4 + i)
          for i, w in enumerate([" there", " was", " a", " DAMN", " dragon"])],
        GuardrailEvent(ts=c(), at=8, result=GuardrailEventResult(
            violations=[{"rule": "profanity", "message": "word 'DAMN'",
                         "severity": "warning", "recoverable": True}])),
        DriftEvent(ts=c(), at=9, result=DriftEventResult(detected=True, types=["tone"],
                                                         confidence=0.82)),
        TokenEvent(ts=c(), value=".", index=9),
        CompleteEvent(ts=c(), content="Once upon a time there was a DAMN dragon.",
                      token_count=10),
    ]


def fallback_run() -> list[RecordedEvent]:
    """Checkpoint, retry resumed by a continuation, then a fallback model completes."""
    c = _Clock(T0 + 10_800_000)
    return [
        StartEvent(ts=c.t, options=SerializedOptions(model="gpt-4o", fallback_count=1)),
        *_tokens(c, ["Step", " one", "."]),
        CheckpointEvent(ts=c(), at=2, content="Step one."),
        TokenEvent(ts=c(), value=" Step", index=3),
        RetryEvent(ts=c(), reason="zero tokens", attempt=1, counts_toward_limit=True),
        ContinuationEvent(ts=c(), checkpoint="Step one.", at=2),
        *[TokenEvent(ts=c(), value=w, index=3 + i) for i, w in enumerate([" Step", " two"])],
        FallbackEvent(ts=c(), to=1),
        *_tokens(c, ["Step", " one", ".", " Step", " two", "."]),
        CompleteEvent(ts=c(), content="Step one. Step two.", token_count=6),
    ]


HOSTILE_TOKENS = [
    "[bold red]not bold[/]",
    " \x1b[31mANSI red\x1b[0m",
    " \x1b]0;pwned title\x07",
    " \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
    " nul\x00bel\x07bs\x08del\x7f csi\x9b",
    " emoji 🎉👩‍👩‍👧",
    " مرحبا بالعالم",
    " \u202eevil-rtl-override",
    "\nnext line\ttab",
]


def hostile_run() -> list[RecordedEvent]:
    """Markup, escape sequences, control characters, emoji, RTL text."""
    c = _Clock(T0 + 14_400_000)
    return [
        StartEvent(ts=c.t, options=SerializedOptions(model="[blink]model[/blink]\x1b[5m")),
        *_tokens(c, HOSTILE_TOKENS),
        ErrorEvent(ts=c(), error=SerializedError(name="[red]Err[/red]",
                                                 message="\x1b[2J\x1b[Hcleared?"),
                   failure_type="unknown", recovery_strategy="halt", policy="default"),
    ]


def running_run() -> list[RecordedEvent]:
    """Still being written: no COMPLETE or ERROR yet."""
    c = _Clock(T0 + 18_000_000)
    return [
        StartEvent(ts=c.t, options=SerializedOptions(model="gpt-4o")),
        *_tokens(c, ["Still", " going"]),
    ]


STREAMS: dict[str, Callable[[], list[RecordedEvent]]] = {
    "retry-run": retry_run,
    "error-run": error_run,
    "violation-run": violation_run,
    "fallback-run": fallback_run,
    "hostile-run": hostile_run,
    "running-run": running_run,
}


async def make_store(names: list[str] | None = None) -> InMemoryEventStore:
    store = InMemoryEventStore()
    for name in names or list(STREAMS):
        await store.append_many(name, STREAMS[name]())
    return store


def long_events(n: int, *, step: float = 10.0) -> list[RecordedEvent]:
    """START, ``n - 2`` tokens and COMPLETE, ``step`` ms apart."""
    events: list[RecordedEvent] = [StartEvent(ts=T0, options=SerializedOptions(model="m"))]
    events += [TokenEvent(ts=T0 + (i + 1) * step, value=f"t{i} ", index=i) for i in range(n - 2)]
    events.append(CompleteEvent(ts=T0 + (n - 1) * step, content="done", token_count=n - 2))
    return events
