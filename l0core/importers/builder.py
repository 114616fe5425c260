"""Building one imported stream's events: START, TOKENs, its tool calls' streams, the end.

Every format decoder says what happened (text arrived, a tool call began, the
provider reported an error) and the builder turns it into recorded events with
the right indexes, timestamps and final content, the same way for every format
(docs/format.md, section 10). Events are collected in ``out`` and taken by the
reader after each record, so the stream is produced lazily. A tool call becomes a
stream of its own, as the SDK recorders write it; its events are held until the
response ends, because they come out after the response's stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from l0core.events import (
    CompleteEvent,
    ErrorEvent,
    RecordedEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)

RECOVERY = "halt"
"""Nothing in a capture retried: every imported ERROR halts."""
POLICY = "default"
TRUNCATED_NAME = "IncompleteStreamError"
"""The name the SDK recorders give a stream that ended before its final event."""
TRUNCATED_FAILURE = "network"


class Clock:
    """The ts of each event: the source's capture time, or ``base + n`` ms when it has none."""

    __slots__ = ("base", "last", "missing", "n", "synthetic")

    def __init__(self, first_ts: float | None, base: float, synthetic: str) -> None:
        self.missing = first_ts is None
        self.base = base
        self.synthetic = synthetic
        self.last: float = first_ts if first_ts is not None else base
        self.n = 0

    def at(self, ts: float | None) -> float:
        if self.missing:
            value = self.base + self.n
            self.n += 1
            return value
        if ts is not None:
            self.last = ts
        return self.last


def synthetic_clock(first_ts: float | None, created_ms: float | None,
                    mtime_ms: int | None) -> Clock:
    """A clock for a stream whose first record had capture time ``first_ts`` (or none)."""
    if created_ms is not None:
        return Clock(first_ts, created_ms, "created+1ms")
    if mtime_ms is not None:
        return Clock(first_ts, mtime_ms, "mtime+1ms")
    return Clock(first_ts, 0, "0+1ms")


@dataclass(slots=True)
class ToolCall:
    """A tool call seen in a response: its own stream's START data and argument tokens."""

    number: int
    key: object
    call_id: str | None
    name: str | None
    start_ts: float
    tokens: list[TokenEvent] = field(default_factory=list)
    size: int = 0

    def add(self, value: str, ts: float) -> None:
        self.tokens.append(TokenEvent(ts=ts, value=value, index=len(self.tokens)))
        self.size += len(value)


class TextBuffer:
    """The output text so far, in about as many bytes as the text itself.

    Small pieces are joined every few thousand, so a million tokens cost a few
    hundred strings instead of a million objects (or a UCS-4 ``StringIO`` buffer).
    """

    __slots__ = ("_chunks", "_pieces")

    def __init__(self) -> None:
        self._chunks: list[str] = []
        self._pieces: list[str] = []

    def write(self, text: str) -> None:
        self._pieces.append(text)
        if len(self._pieces) >= 4096:
            self._chunks.append("".join(self._pieces))
            self._pieces = []

    def getvalue(self) -> str:
        return "".join(self._chunks) + "".join(self._pieces)


class StreamBuilder:
    """The events of one stream, in order; ``out`` holds the ones not taken yet."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.out: list[RecordedEvent] = []
        self.tokens = 0
        self._text = TextBuffer()
        self.tools: dict[object, ToolCall] = {}
        self.ended = False
        self.outcome = "running"
        self.end: CompleteEvent | ErrorEvent | None = None

    def take(self) -> list[RecordedEvent]:
        out, self.out = self.out, []
        return out

    def start(self, options: SerializedOptions, ts: float | None) -> None:
        self.out.append(StartEvent(ts=self.clock.at(ts), options=options))

    def text(self, value: object, ts: float | None) -> None:
        """Output text: one TOKEN (an empty delta gives none)."""
        if self.ended or not isinstance(value, str) or not value:
            return
        self.out.append(TokenEvent(ts=self.clock.at(ts), value=value, index=self.tokens))
        self.tokens += 1
        self._text.write(value)

    def tool_start(self, key: object, ts: float | None, call_id: object = None,
                   name: object = None) -> None:
        """A tool call appeared (``key`` tells its deltas apart: an index, an item id)."""
        if self.ended:
            return
        call = self.tools.get(key)
        if call is None:
            self.tools[key] = ToolCall(len(self.tools), key,
                                       call_id if isinstance(call_id, str) else None,
                                       name if isinstance(name, str) else None,
                                       self.clock.at(ts))
            return
        if call.call_id is None and isinstance(call_id, str):
            call.call_id = call_id
        if call.name is None and isinstance(name, str):
            call.name = name

    def tool_args(self, key: object, delta: object, ts: float | None) -> None:
        """A piece of a tool call's arguments (the call starts here if it was not seen)."""
        if self.ended:
            return
        if key not in self.tools:
            self.tool_start(key, ts)
        if isinstance(delta, str) and delta:
            self.tools[key].add(delta, self.clock.at(ts))

    # ── the end ──
    def complete(self, ts: float | None) -> None:
        if self.ended:
            return
        self._finish(CompleteEvent(ts=self.clock.at(ts), content=self._text.getvalue(),
                                   token_count=self.tokens), "completed")

    def error(self, error: SerializedError, failure_type: str, ts: float | None,
              outcome: str = "error") -> None:
        if self.ended:
            return
        self._finish(ErrorEvent(ts=self.clock.at(ts), error=error, failure_type=failure_type,
                                recovery_strategy=RECOVERY, policy=POLICY), outcome)

    def truncated(self, ts: float | None, message: str,
                  metadata: dict[str, Any] | None = None) -> None:
        """The capture ended before the stream did: ERROR, every token kept."""
        self.error(SerializedError(name=TRUNCATED_NAME, message=message, metadata=metadata),
                   TRUNCATED_FAILURE, ts, outcome="truncated")

    def _finish(self, end: CompleteEvent | ErrorEvent, outcome: str) -> None:
        self.out.append(end)
        self.end = end
        self.ended = True
        self.outcome = outcome
        self._text = TextBuffer()


def tool_events(call: ToolCall, options: SerializedOptions,
                end: CompleteEvent | ErrorEvent | None) -> list[RecordedEvent]:
    """A tool call's stream: START, its argument tokens, and the response's end.

    It completes (``content`` = the arguments) when the response completed and
    takes the response's ERROR when it failed; a response still running leaves it
    running too.
    """
    events: list[RecordedEvent] = [StartEvent(ts=call.start_ts, options=options), *call.tokens]
    if isinstance(end, CompleteEvent):
        events.append(CompleteEvent(ts=end.ts, content="".join(t.value for t in call.tokens),
                                    token_count=len(call.tokens)))
    elif isinstance(end, ErrorEvent):
        events.append(ErrorEvent(ts=end.ts, error=end.error, failure_type=end.failure_type,
                                 recovery_strategy=end.recovery_strategy, policy=end.policy))
    return events


def failure_type_of(name: str | None) -> str:
    """``failureType`` of a provider error: ``timeout`` when its name says so, else ``model``."""
    return "timeout" if name and "timeout" in name.lower() else "model"
