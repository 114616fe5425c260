"""Record the streams of the ``openai`` SDK: Chat Completions and Responses, sync and async.

::

    req = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    with record_openai(client.chat.completions.create(**req, stream=True), store,
                       request=req) as stream:
        for chunk in stream:            # the SDK's own ChatCompletionChunk objects
            ...

Accepted: ``create(..., stream=True)`` (``Stream``/``AsyncStream`` of
``ChatCompletionChunk`` or of Responses events; async: also the un-awaited
call), and the ``.stream(...)`` helpers (``client.chat.completions.stream``,
``client.responses.stream``: their managers or the streams they open). What is
read from each item (docs/format.md "Recording the SDKs"):

====================================  ==========================================
chat chunk ``model``, Responses        START's model (the request's if absent)
``response.created``
``choices[0].delta.content``,          TOKEN, stamped when the item arrived
``response.output_text.delta``,
``delta.refusal``,
``response.refusal.delta``
``delta.tool_calls[i]``,               the tool call's own stream: START (id,
``response.output_item.added`` +       name), one TOKEN per arguments delta
``response.function_call_arguments``
``finish_reason``,                     the stream reached its end: COMPLETE
``response.completed``                 when the iteration ends
an ``error`` event,                    ERROR "model", named after the error's
``response.failed``,                   code (the Responses API does not raise;
``response.incomplete``                chat streams raise ``APIError``)
====================================  ==========================================

Only choice 0 of a chat stream is recorded. The SDK is never imported here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, TypeVar, overload

from l0core.events import JSONDict, SerializedError
from l0core.record.sdk_request import get, jsonable, last_user_text, request_options
from l0core.record.sdk_stream import AsyncRecordedStream, RecordedStream, record_sdk_stream
from l0core.record.session import DEFAULT_CHECKPOINT_EVERY
from l0core.record.stream_events import StreamEvents, classify_sdk_failure
from l0core.stores.base import BaseEventStore, Clock

T = TypeVar("T")

CHAT = "chat.completions"
RESPONSES = "responses"


def openai_prompt(request: Mapping[str, Any]) -> str | None:
    """The last user message of ``messages`` (chat) or ``input`` (Responses)."""
    if "messages" in request:
        return last_user_text(request["messages"], ("text",))
    return last_user_text(request.get("input"), ("input_text", "text"))


def observe_openai(item: Any, rec: StreamEvents) -> None:
    """Read one item of any OpenAI stream (raw chunk, helper event, Responses event)."""
    kind = getattr(item, "type", None) if not isinstance(item, Mapping) else item.get("type")
    if kind is None or get(item, "object") == "chat.completion.chunk":
        _chat_chunk(item, rec)
    elif kind == "chunk":  # ChatCompletionStream's event carrying the raw chunk
        _chat_chunk(get(item, "chunk"), rec)
    elif isinstance(kind, str) and (kind == "error" or kind.startswith("response.")):
        _responses_event(kind, item, rec)
    # the chat helper's other events ("content.delta", ...) repeat what the chunk said


def _chat_chunk(chunk: Any, rec: StreamEvents) -> None:
    if not rec.started:
        rec.api = CHAT
    rec.model(get(chunk, "model"))
    for choice in get(chunk, "choices") or ():
        if get(choice, "index") not in (0, None):
            continue
        delta = get(choice, "delta")
        if delta is not None:
            rec.text(get(delta, "content"))
            rec.text(get(delta, "refusal"))  # a refusal is what the model said instead
            for call in get(delta, "tool_calls") or ():
                key = get(call, "index")
                function = get(call, "function")
                rec.tool_start(key, get(call, "id"), get(function, "name"))
                rec.tool_args(key, get(function, "arguments"))
            legacy = get(delta, "function_call")
            if legacy is not None:
                rec.tool_start("function_call", None, get(legacy, "name"))
                rec.tool_args("function_call", get(legacy, "arguments"))
        if get(choice, "finish_reason"):
            rec.done()


def _responses_event(kind: str, event: Any, rec: StreamEvents) -> None:
    if not rec.started:
        rec.api = RESPONSES
    if kind in ("response.created", "response.in_progress"):
        rec.model(get(get(event, "response"), "model"))
    elif kind in ("response.output_text.delta", "response.refusal.delta"):
        rec.text(get(event, "delta"))
    elif kind == "response.output_item.added":
        item = get(event, "item")
        if get(item, "type") == "function_call":
            rec.tool_start(get(event, "output_index"), get(item, "call_id"), get(item, "name"))
    elif kind == "response.function_call_arguments.delta":
        rec.tool_args(get(event, "output_index"), get(event, "delta"))
    elif kind == "response.completed":
        rec.model(get(get(event, "response"), "model"))
        rec.done()
    elif kind == "response.incomplete":
        details = get(get(event, "response"), "incomplete_details")
        reason = get(details, "reason")
        _failed(rec, "ResponseIncomplete", reason,
                f"response incomplete: {reason or 'no reason given'}", name="ResponseIncomplete")
    elif kind == "response.failed":
        error = get(get(event, "response"), "error")
        _failed(rec, "ResponseFailed", get(error, "code"), get(error, "message"))
    elif kind == "error":
        _failed(rec, "ResponseError", get(event, "code"), get(event, "message"),
                param=get(event, "param"))


def _failed(rec: StreamEvents, fallback: str, code: Any, message: Any, *,
            name: str | None = None, param: Any = None) -> None:
    """ERROR named after the error's ``code`` (as ``l0tui import`` names it)."""
    has_code = isinstance(code, str) and bool(code)
    name = name or (code if has_code else fallback)
    meta: JSONDict = {"param": jsonable(param)} if param is not None else {}
    rec.failed(SerializedError(
        name=name,
        message=message if isinstance(message, str) else "",
        code=code if has_code else None,
        metadata=meta or None,
    ), "timeout" if "timeout" in name.lower() else "model")


@overload
def record_openai(
    source: AsyncIterable[T] | Awaitable[AsyncIterable[T]]
    | AbstractAsyncContextManager[AsyncIterable[T]],
    store: BaseEventStore,
    *,
    stream_id: str | None = None,
    request: Mapping[str, Any] | None = None,
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
    strict: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    classify: Callable[[BaseException], str] = classify_sdk_failure,
) -> AsyncRecordedStream[T]: ...


@overload
def record_openai(
    source: Iterable[T] | AbstractContextManager[Iterable[T]],
    store: BaseEventStore,
    *,
    stream_id: str | None = None,
    request: Mapping[str, Any] | None = None,
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
    strict: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    classify: Callable[[BaseException], str] = classify_sdk_failure,
) -> RecordedStream[T]: ...


def record_openai(
    source: Any,
    store: BaseEventStore,
    *,
    stream_id: str | None = None,
    request: Mapping[str, Any] | None = None,
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
    strict: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    classify: Callable[[BaseException], str] = classify_sdk_failure,
) -> RecordedStream[Any] | AsyncRecordedStream[Any]:
    """Record an OpenAI SDK stream to ``store`` while the caller reads it.

    ``request`` is what was passed to ``create``/``stream`` (model, messages or
    input, params) for START; ``prompt``/``model``/``metadata`` override or add.
    ``clock`` stamps the events (default: the store's). Sync streams hand their
    events to ``loop`` (default: l0core's recording thread) and wait for the store
    only when they end. ``strict`` raises :class:`~l0core.record.RecordingError`
    at the end when the store refused a batch.
    """
    req = request or {}
    return record_sdk_stream(
        source, store, observe=observe_openai, provider="openai",
        api=RESPONSES if "input" in req else CHAT,
        options=request_options(req, prompt_of=openai_prompt, prompt=prompt, model=model,
                                metadata=metadata),
        stream_id=stream_id, clock=clock, checkpoint_every=checkpoint_every, strict=strict,
        loop=loop, classify=classify,
    )
