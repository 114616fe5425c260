"""Record the streams of the ``anthropic`` SDK's Messages API, sync and async.

::

    req = {"model": "claude-sonnet-4-5", "max_tokens": 512,
           "messages": [{"role": "user", "content": "Hi"}]}
    with record_anthropic(client.messages.stream(**req), store, request=req) as stream:
        for text in stream.text_stream:     # or: for event in stream
            ...

Accepted: ``client.messages.create(..., stream=True)`` (``Stream``/``AsyncStream``
of raw events; async: also the un-awaited call) and ``client.messages.stream(...)``
(its manager, or the ``MessageStream`` it opened). ``text_stream``,
``get_final_message()`` and ``get_final_text()`` read through the wrapper. What
is read from each event (docs/format.md "Recording the SDKs"):

=====================================  =========================================
``message_start``                      START's model (the request's if absent)
``content_block_delta`` text_delta     TOKEN, stamped when the event arrived
``content_block_start`` tool_use,      the tool call's own stream: START (id,
``input_json_delta``                   name), one TOKEN per partial JSON
``message_stop``                       the end: COMPLETE when iteration ends
``event: error`` (the SDK raises)      ERROR "model"
=====================================  =========================================

Thinking blocks are not recorded. The SDK is never imported here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, TypeVar, overload

from l0core.record.sdk_request import get, last_user_text, request_options
from l0core.record.sdk_stream import AsyncRecordedStream, RecordedStream, record_sdk_stream
from l0core.record.session import DEFAULT_CHECKPOINT_EVERY
from l0core.record.stream_events import StreamEvents, classify_sdk_failure
from l0core.stores.base import BaseEventStore, Clock

T = TypeVar("T")

MESSAGES = "messages"
_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use"})


def anthropic_prompt(request: Mapping[str, Any]) -> str | None:
    """The text of the last user message."""
    return last_user_text(request.get("messages"), ("text",))


def message_text(event: Any) -> str | None:
    """The text a ``content_block_delta`` event adds (what ``text_stream`` yields)."""
    if get(event, "type") != "content_block_delta":
        return None
    delta = get(event, "delta")
    text = get(delta, "text") if get(delta, "type") == "text_delta" else None
    return text if isinstance(text, str) else None


def observe_anthropic(event: Any, rec: StreamEvents) -> None:
    """Read one Messages stream event (raw, or ``MessageStream``'s; its extras are skipped)."""
    kind = get(event, "type")
    if kind == "message_start":
        rec.model(get(get(event, "message"), "model"))
    elif kind == "content_block_start":
        block = get(event, "content_block")
        if get(block, "type") in _TOOL_BLOCKS:
            rec.tool_start(get(event, "index"), get(block, "id"), get(block, "name"))
    elif kind == "content_block_delta":
        delta = get(event, "delta")
        delta_type = get(delta, "type")
        if delta_type == "text_delta":
            rec.text(get(delta, "text"))
        elif delta_type == "input_json_delta":
            rec.tool_args(get(event, "index"), get(delta, "partial_json"))
    elif kind == "message_stop":
        rec.done()
    # "text", "input_json", "thinking", ... are MessageStream's restatements


@overload
def record_anthropic(
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
def record_anthropic(
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


def record_anthropic(
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
    """Record an Anthropic SDK stream to ``store`` while the caller reads it.

    The keywords are :func:`~l0core.record.openai_sdk.record_openai`'s.
    """
    return record_sdk_stream(
        source, store, observe=observe_anthropic, provider="anthropic", api=MESSAGES,
        options=request_options(request, prompt_of=anthropic_prompt, prompt=prompt,
                                model=model, metadata=metadata),
        stream_id=stream_id, clock=clock, checkpoint_every=checkpoint_every, strict=strict,
        loop=loop, classify=classify, text_of=message_text,
    )
