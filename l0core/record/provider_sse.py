"""The Server-Sent Events bytes each provider API would send for a given output.

Test servers and replaying transports need the exact wire shapes the SDKs parse:
OpenAI Chat Completions (``data:`` chunks ending ``data: [DONE]``), OpenAI
Responses (``event:``/``data:`` pairs, ``response.created`` ...
``response.completed``) and Anthropic Messages (``message_start``,
``content_block_*``, ``message_delta``, ``message_stop``). Each generator yields
one complete SSE event per ``bytes``, so a server can pace them or cut the
connection after any of them.

The input is a :class:`Script` (texts, tool calls, how it ends), a plain list of
text deltas, or a recorded event list (:func:`script_from_events`: the last
attempt's tokens; COMPLETE ends normally, an ERROR of failure type "network",
"timeout" or "abort" with a dropped connection, any other with the API's error
event; see :data:`Ending`).
``error_after=N`` injects an API error event after the N-th text delta.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from l0core.events import (
    CompleteEvent,
    ContinuationEvent,
    ErrorEvent,
    EventEnvelope,
    FallbackEvent,
    RecordedEvent,
    RetryEvent,
    StartEvent,
    TokenEvent,
)

Ending = Literal["complete", "error", "cut", "stop"]
"""How a response ends: its final events; the API's error event; the connection dropped
(a server cuts it after the last text); the body just stops, with no final event."""
CUT_FAILURES = frozenset({"network", "timeout", "abort"})
"""ERROR failure types a replay shows as a dropped connection rather than an error event."""

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-5"
CREATED = 1_700_000_000


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error the API reports: inside the stream, or as an HTTP error's body.

    ``type`` is OpenAI's ``error.type`` / Anthropic's ``error.type``
    (``server_error``, ``overloaded_error``, ...); ``status`` is used when the
    error is the HTTP response itself.
    """

    message: str = "The server had an error while processing your request."
    type: str = "server_error"
    code: str | None = None
    status: int = 500


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call as the model streams it: its name and its arguments' deltas."""

    name: str
    arguments: tuple[str, ...] = ()
    id: str | None = None

    @classmethod
    def from_events(cls, events: Iterable[RecordedEvent | EventEnvelope]) -> ToolCall:
        """The tool call a recorded tool stream holds (docs/format.md "Recording the SDKs")."""
        name, call_id, args = "tool", None, []
        for event in _events(events):
            if isinstance(event, StartEvent):
                meta = event.options.metadata or {}
                name = str(meta.get("toolName") or name)
                found = meta.get("toolCallId")
                call_id = found if isinstance(found, str) else None
            elif isinstance(event, TokenEvent):
                args.append(event.value)
        return cls(name=name, arguments=tuple(args), id=call_id)


@dataclass(frozen=True, slots=True)
class Script:
    """What one streamed response says, and how it ends.

    ``token_ts`` holds the recorded time (ms) of each text when the script came
    from a recording, for a transport that paces its replay.
    """

    texts: tuple[str, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    model: str | None = None
    ending: Ending = "complete"
    error: ApiError = field(default_factory=ApiError)
    token_ts: tuple[float, ...] = ()

    def with_error_after(self, n: int, error: ApiError | None = None) -> Script:
        """The first ``n`` texts, then the API's error event (no tool calls)."""
        return replace(self, texts=self.texts[:n], token_ts=self.token_ts[:n], tool_calls=(),
                       ending="error", error=error or self.error)


def _events(items: Iterable[RecordedEvent | EventEnvelope]) -> Iterator[RecordedEvent]:
    for item in items:
        yield item.event if isinstance(item, EventEnvelope) else item


def script_from_events(events: Iterable[RecordedEvent | EventEnvelope]) -> Script:
    """The response a recording describes: model, the last attempt's tokens, the ending."""
    model: str | None = None
    texts: list[str] = []
    stamps: list[float] = []
    ending: Ending = "cut"
    error = ApiError()
    for event in _events(events):
        if isinstance(event, StartEvent):
            model = event.options.model
        elif isinstance(event, TokenEvent):
            texts.append(event.value)
            stamps.append(event.ts)
        elif isinstance(event, RetryEvent | FallbackEvent | ContinuationEvent):
            texts, stamps = [], []
        elif isinstance(event, CompleteEvent):
            ending = "complete"
        elif isinstance(event, ErrorEvent):
            if event.failure_type in CUT_FAILURES:
                ending = "cut"
            else:
                ending = "error"
                code = event.error.code
                error = ApiError(message=event.error.message,
                                 type=code if isinstance(code, str) and code else "server_error")
    return Script(texts=tuple(texts), model=model, ending=ending, error=error,
                  token_ts=tuple(stamps))


def as_script(
    source: Script | Iterable[str] | Iterable[RecordedEvent | EventEnvelope],
    *,
    model: str | None = None,
    tool_calls: Sequence[ToolCall] = (),
    error_after: int | None = None,
    error: ApiError | None = None,
) -> Script:
    """``source`` as a :class:`Script`, with the keyword arguments applied."""
    if isinstance(source, Script):
        script = source
    else:
        items = list(source)
        if all(isinstance(x, str) for x in items):
            script = Script(texts=tuple(str(x) for x in items))
        else:
            script = script_from_events(x for x in items if not isinstance(x, str))
    if model is not None:
        script = replace(script, model=model)
    if tool_calls:
        script = replace(script, tool_calls=tuple(tool_calls))
    if error is not None:
        script = replace(script, error=error)
    if error_after is not None:
        script = script.with_error_after(error_after)
    return script


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event: an optional ``event:`` line and one ``data:`` line of JSON."""
    head = b"event: " + event.encode() + b"\n" if event else b""
    body = data.encode() if isinstance(data, str) else _json(data)
    return head + b"data: " + body + b"\n\n"


# ───────────────────────────── OpenAI Chat Completions ─────────────────────────────


def openai_error_object(error: ApiError) -> dict[str, Any]:
    return {"message": error.message, "type": error.type, "param": None, "code": error.code}


def openai_chat_error_event(error: ApiError | None = None) -> bytes:
    """The error a Chat Completions stream sends mid-stream (the SDK raises ``APIError``)."""
    return sse({"error": openai_error_object(error or ApiError())})


def openai_error_body(error: ApiError | None = None) -> bytes:
    """The JSON body of an HTTP error response of the OpenAI API."""
    return _json({"error": openai_error_object(error or ApiError())})


def openai_chat_sse(
    source: Script | Iterable[str] | Iterable[RecordedEvent | EventEnvelope],
    *,
    model: str | None = None,
    tool_calls: Sequence[ToolCall] = (),
    error_after: int | None = None,
    error: ApiError | None = None,
    include_usage: bool = False,
    completion_id: str = "chatcmpl-l0",
) -> Iterator[bytes]:
    """A Chat Completions stream (``stream=True``) saying ``source``."""
    script = as_script(source, model=model, tool_calls=tool_calls, error_after=error_after,
                       error=error)
    name = script.model or DEFAULT_OPENAI_MODEL

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse({"id": completion_id, "object": "chat.completion.chunk", "created": CREATED,
                    "model": name, "system_fingerprint": None,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                 "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    for text in script.texts:
        yield chunk({"content": text})
    for i, call in enumerate(script.tool_calls):
        yield chunk({"tool_calls": [{"index": i, "id": call.id or f"call_{i}", "type": "function",
                                     "function": {"name": call.name, "arguments": ""}}]})
        for part in call.arguments:
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]})
    if script.ending == "error":
        yield openai_chat_error_event(script.error)
        return
    if script.ending in ("cut", "stop"):
        return
    yield chunk({}, "tool_calls" if script.tool_calls else "stop")
    if include_usage:
        n = len(script.texts) + sum(len(c.arguments) for c in script.tool_calls)
        yield sse({"id": completion_id, "object": "chat.completion.chunk", "created": CREATED,
                   "model": name, "choices": [],
                   "usage": {"prompt_tokens": 1, "completion_tokens": n,
                             "total_tokens": n + 1}})
    yield b"data: [DONE]\n\n"


# ───────────────────────────── OpenAI Responses ─────────────────────────────


def openai_responses_error_event(error: ApiError | None = None, sequence_number: int = 0) -> bytes:
    """The ``error`` event of a Responses stream (the SDK yields it, it does not raise)."""
    e = error or ApiError()
    return sse({"type": "error", "code": e.code or e.type, "message": e.message, "param": None,
                "sequence_number": sequence_number}, "error")


def _response(model: str, status: str, output: list[Any], usage: Any = None) -> dict[str, Any]:
    return {"id": "resp_l0", "object": "response", "created_at": CREATED, "status": status,
            "error": None, "incomplete_details": None, "instructions": None,
            "max_output_tokens": None, "model": model, "output": output,
            "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None}, "store": False, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [],
            "top_p": 1.0, "truncation": "disabled", "usage": usage, "user": None,
            "metadata": {}}


def openai_responses_sse(
    source: Script | Iterable[str] | Iterable[RecordedEvent | EventEnvelope],
    *,
    model: str | None = None,
    tool_calls: Sequence[ToolCall] = (),
    error_after: int | None = None,
    error: ApiError | None = None,
) -> Iterator[bytes]:
    """A Responses API stream (``stream=True``) saying ``source``."""
    script = as_script(source, model=model, tool_calls=tool_calls, error_after=error_after,
                       error=error)
    name = script.model or DEFAULT_OPENAI_MODEL
    seq = 0

    def event(kind: str, **fields: Any) -> bytes:
        nonlocal seq
        data = {"type": kind, **fields, "sequence_number": seq}
        seq += 1
        return sse(data, kind)

    yield event("response.created", response=_response(name, "in_progress", []))
    yield event("response.in_progress", response=_response(name, "in_progress", []))
    output: list[Any] = []
    if script.texts or not script.tool_calls:
        item_id = "msg_l0"
        yield event("response.output_item.added", output_index=0, item={
            "id": item_id, "type": "message", "status": "in_progress", "role": "assistant",
            "content": []})
        yield event("response.content_part.added", item_id=item_id, output_index=0,
                    content_index=0, part={"type": "output_text", "text": "", "annotations": []})
        for text in script.texts:
            yield event("response.output_text.delta", item_id=item_id, output_index=0,
                        content_index=0, delta=text, logprobs=[])
        if script.ending != "complete":
            yield from _responses_end(script, event, seq)
            return
        full = "".join(script.texts)
        part = {"type": "output_text", "text": full, "annotations": []}
        yield event("response.output_text.done", item_id=item_id, output_index=0,
                    content_index=0, text=full, logprobs=[])
        yield event("response.content_part.done", item_id=item_id, output_index=0,
                    content_index=0, part=part)
        message = {"id": item_id, "type": "message", "status": "completed", "role": "assistant",
                   "content": [part]}
        yield event("response.output_item.done", output_index=0, item=message)
        output.append(message)
    for call in script.tool_calls:
        index = len(output)
        item_id = f"fc_l0_{index}"
        item = {"id": item_id, "type": "function_call", "status": "in_progress",
                "call_id": call.id or f"call_{index}", "name": call.name, "arguments": ""}
        yield event("response.output_item.added", output_index=index, item=item)
        for part_text in call.arguments:
            yield event("response.function_call_arguments.delta", item_id=item_id,
                        output_index=index, delta=part_text)
        if script.ending != "complete":
            yield from _responses_end(script, event, seq)
            return
        arguments = "".join(call.arguments)
        yield event("response.function_call_arguments.done", item_id=item_id,
                    output_index=index, name=call.name, arguments=arguments)
        done = {**item, "status": "completed", "arguments": arguments}
        yield event("response.output_item.done", output_index=index, item=done)
        output.append(done)
    n = len(script.texts) + sum(len(c.arguments) for c in script.tool_calls)
    yield event("response.completed", response=_response(name, "completed", output, {
        "input_tokens": 1, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": n,
        "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": n + 1}))


def _responses_end(script: Script, event: Any, seq: int) -> Iterator[bytes]:
    if script.ending == "error":
        yield openai_responses_error_event(script.error, seq)


# ───────────────────────────── Anthropic Messages ─────────────────────────────


def anthropic_error_object(error: ApiError) -> dict[str, Any]:
    kind = error.type if error.type != "server_error" else "api_error"
    return {"type": "error", "error": {"type": kind, "message": error.message}}


def anthropic_error_event(error: ApiError | None = None) -> bytes:
    """``event: error`` of a Messages stream (the SDK raises ``APIStatusError``)."""
    return sse(anthropic_error_object(error or ApiError()), "error")


def anthropic_error_body(error: ApiError | None = None) -> bytes:
    """The JSON body of an HTTP error response of the Anthropic API."""
    return _json(anthropic_error_object(error or ApiError()))


def anthropic_messages_sse(
    source: Script | Iterable[str] | Iterable[RecordedEvent | EventEnvelope],
    *,
    model: str | None = None,
    tool_calls: Sequence[ToolCall] = (),
    error_after: int | None = None,
    error: ApiError | None = None,
    message_id: str = "msg_l0",
) -> Iterator[bytes]:
    """A Messages API stream (``stream=True`` or ``.stream()``) saying ``source``."""
    script = as_script(source, model=model, tool_calls=tool_calls, error_after=error_after,
                       error=error)
    yield sse({"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant",
        "model": script.model or DEFAULT_ANTHROPIC_MODEL, "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}},
        "message_start")
    index = 0
    if script.texts or not script.tool_calls:
        yield sse({"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}}, "content_block_start")
        yield sse({"type": "ping"}, "ping")
        for text in script.texts:
            yield sse({"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": text}}, "content_block_delta")
        if script.ending != "complete":
            yield from _anthropic_end(script)
            return
        yield sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        index = 1
    for i, call in enumerate(script.tool_calls):
        block = index + i
        yield sse({"type": "content_block_start", "index": block, "content_block": {
            "type": "tool_use", "id": call.id or f"toolu_{i}", "name": call.name, "input": {}}},
            "content_block_start")
        for part in call.arguments:
            yield sse({"type": "content_block_delta", "index": block,
                       "delta": {"type": "input_json_delta", "partial_json": part}},
                      "content_block_delta")
        if script.ending != "complete":
            yield from _anthropic_end(script)
            return
        yield sse({"type": "content_block_stop", "index": block}, "content_block_stop")
    n = len(script.texts) + sum(len(c.arguments) for c in script.tool_calls)
    yield sse({"type": "message_delta",
               "delta": {"stop_reason": "tool_use" if script.tool_calls else "end_turn",
                         "stop_sequence": None},
               "usage": {"output_tokens": n}}, "message_delta")
    yield sse({"type": "message_stop"}, "message_stop")


def _anthropic_end(script: Script) -> Iterator[bytes]:
    if script.ending == "error":
        yield anthropic_error_event(script.error)
