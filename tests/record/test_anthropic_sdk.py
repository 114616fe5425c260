"""record_anthropic with the real ``anthropic`` SDK against the fake provider.

Sync and async; ``messages.create(stream=True)`` (async: the un-awaited call and
the awaited stream), ``messages.stream()`` read event by event and through
``text_stream``; each scenario of ``sdk_checks`` must replay to exactly the text
the caller read.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import pytest
from anthropic.types import RawContentBlockDeltaEvent

from l0core.events import CompleteEvent, ErrorEvent, StartEvent, TokenEvent
from l0core.record import record_anthropic
from l0core.record.provider_sse import Script, ToolCall
from l0core.stores.base import BaseEventStore
from l0core.testing.fake_provider import FakeProvider, Reply
from tests.record.sdk_checks import (
    OVERLOADED,
    SCENARIOS,
    TEXTS,
    check_replay,
    check_scenario,
    read_async,
    read_sync,
    recorded,
    reply_for,
)

REQUEST = {"model": "claude-sonnet-4-5", "max_tokens": 256, "system": "Be brief.",
           "metadata": {"user_id": "u-1"},
           "messages": [{"role": "user", "content": [{"type": "text", "text": "Say "},
                                                     {"type": "text", "text": "hello"}]}]}


def sync_client(fake: FakeProvider) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="test", max_retries=0)


def async_client(fake: FakeProvider) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=fake.anthropic_base_url, api_key="test",
                                    max_retries=0)


def event_text(item: Any) -> str | None:
    """The text an application reads: raw deltas, or ``MessageStream``'s "text" events."""
    if item.type == "text":
        return item.text  # type: ignore[no-any-return]
    if isinstance(item, RawContentBlockDeltaEvent) and item.delta.type == "text_delta":
        return item.delta.text
    return None


def is_text(item: Any) -> str | None:
    return item if isinstance(item, str) else None


def reading(style: str) -> dict[str, Any]:
    """How ``style`` reads the stream: events through ``event_text``, or ``text_stream``."""
    if style == "text_stream":
        return {"attr": "text_stream"}
    return {}


def text_of(style: str) -> Any:
    if style == "text_stream":
        return is_text
    # MessageStream yields both the raw delta and its "text" event: read one of them
    return (lambda item: item.text if item.type == "text" else None) if style == "stream" \
        else event_text


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("style", ["create", "stream", "text_stream"])
def test_sync(store: BaseEventStore, style: str, scenario: str) -> None:
    with FakeProvider(reply_for(scenario)) as fake, sync_client(fake) as client:
        source = (client.messages.create(**REQUEST, stream=True) if style == "create"
                  else client.messages.stream(**REQUEST))
        rec = record_anthropic(source, store, request=REQUEST)
        seen = read_sync(rec, text_of(style), stop_after=2 if scenario == "break" else None,
                         **reading(style))
    asyncio.run(check_scenario(store, seen, scenario))
    if scenario == "error":
        assert isinstance(seen.error, anthropic.APIStatusError)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("style", ["create", "awaited", "stream", "text_stream"])
async def test_async(store: BaseEventStore, style: str, scenario: str) -> None:
    with FakeProvider(reply_for(scenario)) as fake:
        async with async_client(fake) as client:
            if style == "create":
                source: Any = client.messages.create(**REQUEST, stream=True)
            elif style == "awaited":
                source = await client.messages.create(**REQUEST, stream=True)
            else:
                source = client.messages.stream(**REQUEST)
            rec = record_anthropic(source, store, request=REQUEST)
            seen = await read_async(rec, text_of(style),
                                    stop_after=2 if scenario == "break" else None,
                                    **reading(style))
    await check_scenario(store, seen, scenario)


def test_sync_break_out_of_a_plain_for_loop(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(texts=TEXTS)) as fake, sync_client(fake) as client:
        rec = record_anthropic(client.messages.create(**REQUEST, stream=True), memory_store,
                               request=REQUEST)
        seen = read_sync(rec, event_text, stop_after=2, use_with=False)
    asyncio.run(check_scenario(memory_store, seen, "break"))


async def test_async_break_out_of_a_plain_for_loop(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(texts=TEXTS)) as fake:
        async with async_client(fake) as client:
            rec = record_anthropic(client.messages.create(**REQUEST, stream=True),
                                   memory_store, request=REQUEST)
            seen = await read_async(rec, event_text, stop_after=2, use_with=False)
    await check_scenario(memory_store, seen, "break")


@pytest.mark.parametrize("style", ["create", "stream"])
async def test_cancelled_task(memory_store: BaseEventStore, style: str) -> None:
    two = asyncio.Event()
    seen: list[str] = []
    with FakeProvider(Reply(texts=TEXTS, hold_after=2)) as fake:
        async with async_client(fake) as client:
            source = (client.messages.create(**REQUEST, stream=True) if style == "create"
                      else client.messages.stream(**REQUEST))
            rec = record_anthropic(source, memory_store, request=REQUEST)

            async def read() -> None:
                async with rec as stream:
                    async for item in stream:
                        text = text_of(style)(item)
                        if text:
                            seen.append(text)
                        if len(seen) == 2:
                            two.set()

            task = asyncio.create_task(read())
            await two.wait()  # the server holds the stream: the task waits for an event
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert seen == list(TEXTS[:2])
    events = await recorded(memory_store, rec.recording.stream_id)
    assert [e.value for e in events if isinstance(e, TokenEvent)] == seen
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert (last.failure_type, last.error.code) == ("abort", "cancelled")


def test_get_final_text_and_message(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(texts=TEXTS, model="claude-sonnet-4-5-20250929")) as fake, \
            sync_client(fake) as client, \
            record_anthropic(client.messages.stream(**REQUEST), memory_store,
                             stream_id="final-1", request=REQUEST) as stream:
        text = stream.get_final_text()
        message = stream.get_final_message()
        assert stream.request_id == "req_fake_1"  # the MessageStream's own attribute
    assert text == "".join(TEXTS) and message.stop_reason == "end_turn"
    events = asyncio.run(recorded(memory_store, "final-1"))
    start = events[0]
    assert isinstance(start, StartEvent)
    assert start.options.model == "claude-sonnet-4-5-20250929"
    assert start.options.prompt == "Say hello"
    assert start.options.metadata == {
        "provider": "anthropic", "api": "messages", "requestModel": "claude-sonnet-4-5"}
    # the request's own "metadata" parameter is not START's metadata option
    assert start.options.extra == {"max_tokens": 256, "system": "Be brief.",
                                   "request.metadata": {"user_id": "u-1"}}
    assert isinstance(events[-1], CompleteEvent) and events[-1].content == "".join(TEXTS)


def test_tool_use_gets_its_own_stream(store: BaseEventStore) -> None:
    call = ToolCall("get_weather", ('{"city"', ': "Paris"}'), id="toolu_9")
    with FakeProvider(Reply(texts=("Let me check.",), tool_calls=[call])) as fake, \
            sync_client(fake) as client, \
            record_anthropic(client.messages.stream(**REQUEST), store, stream_id="tool-a",
                             request=REQUEST) as stream:
        message = stream.get_final_message()
    tool_block = message.content[1]
    assert tool_block.type == "tool_use" and tool_block.input == {"city": "Paris"}
    events = asyncio.run(recorded(store, "tool-a-tool-0"))
    start = events[0]
    assert isinstance(start, StartEvent) and start.options.metadata is not None
    assert (start.options.metadata["toolName"], start.options.metadata["toolCallId"]) == (
        "get_weather", "toolu_9")
    assert [e.value for e in events if isinstance(e, TokenEvent)] == list(call.arguments)
    assert isinstance(events[-1], CompleteEvent)
    main = asyncio.run(recorded(store, "tool-a"))
    assert isinstance(main[-1], CompleteEvent) and main[-1].content == "Let me check."


def test_an_error_status_before_the_stream(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(status=529, error=OVERLOADED)) as fake, \
            sync_client(fake) as client:
        rec = record_anthropic(client.messages.stream(**REQUEST), memory_store,
                               request=REQUEST)
        with pytest.raises(anthropic.APIStatusError) as raised, rec:
            pass
    assert raised.value.status_code == 529
    events = asyncio.run(recorded(memory_store, rec.recording.stream_id))
    assert [type(e) for e in events] == [StartEvent, ErrorEvent]
    error = events[1]
    assert isinstance(error, ErrorEvent) and error.failure_type == "model"
    assert error.error.code == "overloaded_error"
    assert error.error.metadata is not None and error.error.metadata["statusCode"] == 529


def test_a_stream_that_stops_without_message_stop(memory_store: BaseEventStore) -> None:
    with FakeProvider(Reply(texts=Script(texts=TEXTS[:2], ending="stop"))) as fake, \
            sync_client(fake) as client:
        rec = record_anthropic(client.messages.create(**REQUEST, stream=True), memory_store,
                               request=REQUEST)
        seen = read_sync(rec, event_text)
    assert seen.error is None
    asyncio.run(check_replay(memory_store, seen, failure_type="network"))
