"""A recording as the SDK calls it answers: what each call streamed and how it ended.

An SDK recorder writes one stream per call (``name``, ``name-2``, ...; tool calls
beside them as ``<call>-tool-<n>``); a recorded ``ai2070-l0`` run is one stream
whose attempts were each one request to the model. So the calls a recording
answers are the attempts of its streams, in order (the attempt rules are
``Timeline.attempts``). How an attempt ended decides how its replay ends:

- COMPLETE, or a RETRY that uses the retry budget (the model finished and the
  runtime rejected the output): the stream finishes normally;
- a network RETRY, a FALLBACK, a CONTINUATION after tokens, an ERROR of type
  ``network``/``timeout``/``abort``, or no end at all: the connection is cut after
  the last token;
- any other ERROR: the provider's error event (an HTTP error status when no token
  came first and the recording kept one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from l0core.events import (
    CompleteEvent,
    ErrorEvent,
    RetryEvent,
    SerializedError,
    StartEvent,
    TokenEvent,
)
from l0core.stores.base import BaseEventStore
from l0core.timeline import Timeline

Ending = Literal["complete", "cut", "error"]
CUT_FAILURES = frozenset({"network", "timeout", "abort"})


@dataclass(slots=True)
class RecordedTool:
    """A tool call of a recorded call: its id and name, and its argument deltas."""

    call_id: str | None
    name: str | None
    start_ms: float
    deltas: list[tuple[float, str]] = field(default_factory=list)


@dataclass(slots=True)
class RecordedCall:
    """One SDK call's worth of a recording."""

    stream_id: str
    attempt: int
    model: str | None
    start_ms: float
    end_ms: float
    texts: list[tuple[float, str]]
    ending: Ending
    why: str
    error: SerializedError | None = None
    tools: list[RecordedTool] = field(default_factory=list)

    @property
    def content(self) -> str:
        return "".join(text for _, text in self.texts)


def _ending(timeline: Timeline, start: int, end: int, outcome: str) -> tuple[Ending, str,
                                                                           SerializedError | None]:
    last = timeline.envelope(end).event
    if outcome == "completed":
        return "complete", "completed", None
    if outcome == "errored" and isinstance(last, ErrorEvent):
        if last.failure_type in CUT_FAILURES:
            return "cut", f"the recording ended in a {last.failure_type} error", last.error
        return "error", f"the recording ended in a {last.failure_type} error", last.error
    if end + 1 < len(timeline):
        nxt = timeline.envelope(end + 1).event
        if isinstance(nxt, RetryEvent) and nxt.counts_toward_limit:
            return "complete", f"the runtime retried it ({nxt.reason})", None
        if isinstance(nxt, RetryEvent):
            return "cut", f"a network retry followed ({nxt.reason})", None
        return "cut", f"a {nxt.type} followed", None
    return "cut", "the recording ends before the stream finished", None


def _calls_of(timeline: Timeline) -> list[RecordedCall]:
    head = timeline.envelope(0).event if len(timeline) else None
    model = head.options.model if isinstance(head, StartEvent) else None
    calls = []
    for a in timeline.attempts():
        texts = []
        for env in timeline.events(a.start_seq, a.end_seq + 1):
            if isinstance(env.event, TokenEvent) and env.event.value:
                texts.append((env.event.ts, env.event.value))
        ending, why, error = _ending(timeline, a.start_seq, a.end_seq, a.outcome)
        calls.append(RecordedCall(
            stream_id=timeline.stream_id, attempt=a.number, model=model,
            start_ms=timeline.ts(a.start_seq), end_ms=timeline.ts(a.end_seq), texts=texts,
            ending=ending, why=why, error=error))
    return calls


def _tool_of(timeline: Timeline) -> RecordedTool:
    head = timeline.envelope(0).event
    meta = head.options.metadata or {} if isinstance(head, StartEvent) else {}
    call_id, name = meta.get("toolCallId"), meta.get("toolName")
    tool = RecordedTool(call_id if isinstance(call_id, str) else None,
                        name if isinstance(name, str) else None, head.ts)
    for env in timeline.events(0, len(timeline)):
        if isinstance(env.event, TokenEvent) and env.event.value:
            tool.deltas.append((env.event.ts, env.event.value))
        elif isinstance(env.event, CompleteEvent | ErrorEvent):
            break
    return tool


async def recorded_calls(store: BaseEventStore, stream_ids: list[str]) -> list[RecordedCall]:
    """The calls the streams ``stream_ids`` (in call order) answer; tool-call streams
    ``<id>-tool-<n>`` in ``store`` join the last attempt of their stream."""
    known = set(await store.list_streams())
    calls: list[RecordedCall] = []
    for sid in stream_ids:
        own = _calls_of(Timeline(sid, await store.get_events(sid)))
        n = 0
        while own and f"{sid}-tool-{n}" in known:
            tid = f"{sid}-tool-{n}"
            own[-1].tools.append(_tool_of(Timeline(tid, await store.get_events(tid))))
            n += 1
        calls.extend(own)
    return calls
