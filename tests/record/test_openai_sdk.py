"""record_openai with the real ``openai`` SDK against the fake provider.

Chat Completions and Responses, sync and async, ``create(stream=True)`` (async:
the un-awaited call and the awaited stream) and the ``.stream()`` helpers; each
scenario of ``sdk_checks`` (whole stream, cut connection, API error event, early
break) must replay to exactly the text the caller read from the SDK's objects.
"""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from l0core.events import CompleteEvent, ErrorEvent, StartEvent, TokenEvent
from l0core.record import record_openai
from l0core.record.provider_sse import ApiError, Script, ToolCall
from l0core.stores.base import BaseEventStore
from l0core.testing import FakeClock
from l0core.testing.fake_provider import FakeProvider, Reply
from tests.record.sdk_checks import (
    SCENARIOS,
    TEXTS,
    check_replay,
    check_scenario,
    read_async,
    read_sync,
    recorded,
    reply_for,
)

CHAT = {"model": "gpt-4o-mini", "temperature": 0.2,
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Say hello"}]}
RESPONSES = {"model": "gpt-4o-mini", "input": "Say hello", "max_output_tokens": 50}


def sync_client(fake: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0)


def async_client(fake: FakeProvider) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0)


def chat_text(item: Any) -> str | None:
    """The text an application reads from a raw chunk or a ``.stream()`` event."""
    if isinstance(item, ChatCompletionChunk):
        return item.choices[0].delta.content if item.choices else None
    return item.delta if item.type == "content.delta" else None  # type: ignore[no-any-return]


def responses_text(item: Any) -> str | None:
    return item.delta if item.type == "response.output_text.delta" else None  # type: ignore[no-any-return]


def open_sync(client: openai.OpenAI, api: str, style: str) -> Any:
    if api == "chat":
        if style == "create":
            return client.chat.completions.create(**CHAT, stream=True)
        return client.chat.completions.stream(**CHAT)
    if style == "create":
        return client.responses.create(**RESPONSES, stream=True)
    return client.responses.stream(**RESPONSES)


async def open_async(client: openai.AsyncOpenAI, api: str, style: str) -> Any:
    if api == "chat":
        if style == "create":
            return client.chat.completions.create(**CHAT, stream=True)
        if style == "awaited":
            return await client.chat.completions.create(**CHAT, stream=True)
        return client.chat.completions.stream(**CHAT)
    if style == "create":
        return client.responses.create(**RESPONSES, stream=True)
    if style == "awaited":
        return await client.responses.create(**RESPONSES, stream=True)
    return client.responses.stream(**RESPONSES)


def request_of(api: str) -> dict[str, Any]:
    return CHAT if api == "chat" else RESPONSES


def text_of(api: str) -> Any:
    return chat_text if api == "chat" else responses_text


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("style", ["create", "stream"])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_sync(store: BaseEventStore, api: str, style: str, scenario: str) -> None:
    with FakeProvider(reply_for(scenario)) as fake, sync_client(fake) as client:
        rec = record_openai(open_sync(client, api, style), store, request=request_of(api))
        seen = read_sync(rec, text_of(api), stop_after=2 if scenario == "break" else None)
    # the Responses API reports an error as an event; Chat Completions raise APIError
    asyncio.run(check_scenario(store, seen, scenario, error_raises=api == "chat"))
    if scenario == "cut":
        assert isinstance(seen.error, openai.APIConnectionError)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("style", ["create", "awaited", "stream"])
@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_async(store: BaseEventStore, api: str, style: str, scenario: str) -> None:
    with FakeProvider(reply_for(scenario)) as fake:
        async with async_client(fake) as client:
            rec = record_openai(await open_async(client, api, style), store,
                                request=request_of(api))
            seen = await read_async(rec, text_of(api),
                                    stop_after=2 if scenario == "break" else None)
    await check_scenario(store, seen, scenario, error_raises=api == "chat")


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_sync_break_out_of_a_plain_for_loop(memory_store: BaseEventStore, api: str) -> None:
    with FakeProvider(Reply(texts=TEXTS)) as fake, sync_client(fake) as client:
        rec = record_openai(open_sync(client, api, "create"), memory_store,
                            request=request_of(api))
        seen = read_sync(rec, text_of(api), stop_after=2, use_with=False)
        # the loop's iterator was closed by the break: recorded, and the response closed
        assert rec.response.is_closed
    asyncio.run(check_scenario(memory_store, seen, "break"))


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_async_break_out_of_a_plain_for_loop(memory_store: BaseEventStore,
                                                    api: str) -> None:
    with FakeProvider(Reply(texts=TEXTS)) as fake:
        async with async_client(fake) as client:
            rec = record_openai(await open_async(client, api, "create"), memory_store,
                                request=request_of(api))
            seen = await read_async(rec, text_of(api), stop_after=2, use_with=False)
    await check_scenario(memory_store, seen, "break")


@pytest.mark.parametrize("style", ["create", "stream"])
@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_cancelled_task(memory_store: BaseEventStore, api: str, style: str) -> None:
    two = asyncio.Event()
    seen: list[str] = []
    with FakeProvider(Reply(texts=TEXTS, hold_after=2)) as fake:
        async with async_client(fake) as client:
            rec = record_openai(await open_async(client, api, style), memory_store,
                                request=request_of(api))

            async def read() -> None:
                async with rec as stream:
                    async for item in stream:
                        text = text_of(api)(item)
                        if text:
                            seen.append(text)
                        if len(seen) == 2:
                            two.set()

            task = asyncio.create_task(read())
            await two.wait()  # the server holds the stream: the task waits for a chunk
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert seen == list(TEXTS[:2])
    events = await recorded(memory_store, rec.recording.stream_id)
    assert [e.value for e in events if isinstance(e, TokenEvent)] == seen
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert (last.failure_type, last.error.code, last.error.name) == (
        "abort", "cancelled", "CancelledError")


def test_the_caller_gets_the_sdks_own_objects(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(texts=TEXTS)) as fake, sync_client(fake) as client:
        raw = client.chat.completions.create(**CHAT, stream=True)
        with record_openai(raw, memory_store, request=CHAT) as stream:
            assert stream.response is raw.response  # attributes are the stream's
            items = list(stream)
    assert items and all(type(i) is ChatCompletionChunk for i in items)
    assert "".join(filter(None, map(chat_text, items))) == "".join(TEXTS)


def test_get_final_completion_reads_through_the_recorder(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(texts=TEXTS)) as fake, sync_client(fake) as client, \
            record_openai(client.chat.completions.stream(**CHAT), memory_store,
                          request=CHAT) as stream:
        final = stream.get_final_completion()
        snapshot = stream.current_completion_snapshot
    assert final.choices[0].message.content == "".join(TEXTS)
    assert snapshot.choices[0].message.content == "".join(TEXTS)
    events = asyncio.run(recorded(memory_store, stream.recording.stream_id))
    assert isinstance(events[-1], CompleteEvent) and events[-1].content == "".join(TEXTS)


async def test_get_final_response_async(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(texts=TEXTS)) as fake:
        async with async_client(fake) as client, \
                record_openai(client.responses.stream(**RESPONSES), memory_store,
                              request=RESPONSES) as stream:
            final = await stream.get_final_response()
    assert final.output_text == "".join(TEXTS)
    events = await recorded(memory_store, stream.recording.stream_id)
    assert isinstance(events[-1], CompleteEvent) and events[-1].content == "".join(TEXTS)


def test_start_options_come_from_the_request_and_the_response(
        memory_store: BaseEventStore) -> None:
    request = {**CHAT, "max_tokens": 50, "extra_headers": {"Authorization": "secret"}}
    with FakeProvider(Reply(model="gpt-4o-mini-2024-07-18")) as fake, \
            sync_client(fake) as client:
        rec = record_openai(client.chat.completions.create(**request, stream=True),
                            memory_store, stream_id="chat-start-1", request=request,
                            metadata={"user": "u1"})
        seen = read_sync(rec, chat_text)
    events = asyncio.run(check_replay(memory_store, seen, failure_type=None))
    start = events[0]
    assert isinstance(start, StartEvent) and seen.stream_id == "chat-start-1"
    assert start.options.model == "gpt-4o-mini-2024-07-18"  # what the response says
    assert start.options.prompt == "Say hello"  # the last user message
    assert start.options.metadata == {
        "provider": "openai", "api": "chat.completions", "requestModel": "gpt-4o-mini",
        "user": "u1"}
    # the parameters under their own names, as l0tui import writes them; no headers
    assert start.options.extra == {"temperature": 0.2, "max_tokens": 50}


def test_tokens_are_stamped_when_they_arrive(memory_store: BaseEventStore) -> None:
    clock = FakeClock(1_000.0)
    with FakeProvider(Reply(texts=TEXTS)) as fake, sync_client(fake) as client:
        stream = record_openai(client.chat.completions.create(**CHAT, stream=True),
                               memory_store, request=CHAT, clock=clock)
        with stream:
            for _ in stream:
                clock.now += 10  # the caller takes 10 ms per chunk
    events = asyncio.run(recorded(memory_store, stream.recording.stream_id))
    # START when the stream was handed over; chunk k (the role chunk first) at k * 10
    assert events[0].ts == 1_000.0
    assert [e.ts for e in events if isinstance(e, TokenEvent)] == [1_010.0, 1_020.0, 1_030.0,
                                                                  1_040.0, 1_050.0]
    assert isinstance(events[-1], CompleteEvent) and events[-1].ts == 1_070.0


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_tool_calls_get_their_own_streams(store: BaseEventStore, api: str) -> None:
    calls = [ToolCall("get_weather", ('{"city":', ' "Paris"}'), id="call_7"),
             ToolCall("get_time", ('{}',), id="call_8")]
    with FakeProvider(Reply(texts=("Checking.",), tool_calls=calls)) as fake, \
            sync_client(fake) as client:
        rec = record_openai(open_sync(client, api, "create"), store, stream_id="tools-1",
                            request=request_of(api))
        seen = read_sync(rec, text_of(api))
    args: dict[int, list[str]] = {}
    for item in seen.items:  # what the caller read of the tool calls
        if api == "chat":
            for call in (item.choices[0].delta.tool_calls or []) if item.choices else []:
                if call.function and call.function.arguments:
                    args.setdefault(call.index, []).append(call.function.arguments)
        elif item.type == "response.function_call_arguments.delta":
            args.setdefault(item.output_index, []).append(item.delta)
    assert rec.recording.tool_stream_ids == ["tools-1-tool-0", "tools-1-tool-1"]
    asyncio.run(check_replay(store, seen, failure_type=None))
    for n, (call, parts) in enumerate(zip(calls, args.values(), strict=True)):
        events = asyncio.run(recorded(store, f"tools-1-tool-{n}"))
        start = events[0]
        assert isinstance(start, StartEvent) and start.options.metadata is not None
        assert start.options.metadata["toolName"] == call.name
        assert start.options.metadata["toolCallId"] == call.id
        assert start.options.metadata["parentStreamId"] == "tools-1"
        assert [e.value for e in events if isinstance(e, TokenEvent)] == parts
        assert list(call.arguments) == parts
        assert isinstance(events[-1], CompleteEvent)
        assert events[-1].content == "".join(call.arguments)


async def test_a_cut_during_a_tool_call_ends_its_stream_too(memory_store: BaseEventStore) -> None:
    call = ToolCall("lookup", ('{"q":', ' "x"', "}"))
    reply = Reply(texts=(), tool_calls=[call], cut_after_events=3)  # role, call, 1st args
    with FakeProvider(reply) as fake:
        async with async_client(fake) as client:
            rec = record_openai(client.chat.completions.create(**CHAT, stream=True),
                                memory_store, stream_id="toolcut", request=CHAT)
            seen = await read_async(rec, chat_text)
    assert isinstance(seen.error, openai.APIConnectionError)
    await check_replay(memory_store, seen, failure_type="network")
    events = await recorded(memory_store, "toolcut-tool-0")
    assert [e.value for e in events if isinstance(e, TokenEvent)] == ['{"q":']
    assert isinstance(events[-1], ErrorEvent) and events[-1].failure_type == "network"


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_stream_that_stops_without_its_final_event(memory_store: BaseEventStore,
                                                     api: str) -> None:
    """The body ends cleanly but says nothing of an end: recorded as a network failure."""
    unfinished = Script(texts=TEXTS[:3], ending="stop")
    with FakeProvider(Reply(texts=unfinished)) as fake, sync_client(fake) as client:
        rec = record_openai(open_sync(client, api, "create"), memory_store,
                            request=request_of(api))
        seen = read_sync(rec, text_of(api))
    assert seen.error is None and seen.texts == list(TEXTS[:3])
    events = asyncio.run(check_replay(memory_store, seen, failure_type="network"))
    last = events[-1]
    assert isinstance(last, ErrorEvent) and last.error.name == "IncompleteStreamError"


async def test_an_error_status_before_the_stream(memory_store: BaseEventStore) -> None:
    reply = Reply(status=429, error=ApiError("Slow down", "rate_limit_error",
                                             "rate_limit_exceeded", 429))
    with FakeProvider(reply) as fake:
        async with async_client(fake) as client:
            rec = record_openai(client.chat.completions.create(**CHAT, stream=True),
                                memory_store, request=CHAT)
            with pytest.raises(openai.RateLimitError):
                async with rec:
                    pass
    events = await recorded(memory_store, rec.recording.stream_id)
    assert [type(e) for e in events] == [StartEvent, ErrorEvent]
    error = events[1]
    assert isinstance(error, ErrorEvent) and error.failure_type == "model"
    assert error.error.code == "rate_limit_exceeded"
    assert error.error.metadata is not None and error.error.metadata["statusCode"] == 429
