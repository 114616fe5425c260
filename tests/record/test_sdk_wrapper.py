"""The wrapper's own rules, whatever the provider: loops, strictness, misuse, finalisation."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from l0core.events import ErrorEvent, RecordedEvent, TokenEvent
from l0core.record import RecordingError, record_anthropic, record_openai
from l0core.stores.file import FileEventStore
from l0core.stores.memory import InMemoryEventStore
from l0core.testing.fake_provider import FakeProvider, Reply
from tests.record.sdk_checks import TEXTS, check_replay, read_sync, recorded
from tests.record.test_anthropic_sdk import REQUEST as MESSAGES
from tests.record.test_anthropic_sdk import event_text as anthropic_text
from tests.record.test_openai_sdk import CHAT, chat_text


class LoopNotingStore(InMemoryEventStore):
    """A memory store that notes the event loop each append ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.loops: set[asyncio.AbstractEventLoop] = set()

    async def append_many(self, stream_id: str, events: Sequence[RecordedEvent | Any], *,
                          expected_seq: int | None = None) -> int:
        self.loops.add(asyncio.get_running_loop())
        return await super().append_many(stream_id, events, expected_seq=expected_seq)


def test_a_sync_stream_appends_on_the_loop_it_is_given() -> None:
    store = LoopNotingStore()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        with FakeProvider(default=Reply(texts=TEXTS)) as fake, \
                openai.OpenAI(base_url=fake.openai_base_url, api_key="t", max_retries=0) as c:
            rec = record_openai(c.chat.completions.create(**CHAT, stream=True), store,
                                request=CHAT, loop=loop)
            seen = read_sync(rec, chat_text)
        assert store.loops == {loop}
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
    asyncio.run(check_replay(store, seen, failure_type=None))


def test_a_sync_stream_without_a_loop_uses_the_recording_thread() -> None:
    store = LoopNotingStore()
    with FakeProvider(default=Reply(texts=TEXTS)) as fake, \
            openai.OpenAI(base_url=fake.openai_base_url, api_key="t", max_retries=0) as c:
        read_sync(record_openai(c.chat.completions.create(**CHAT, stream=True), store,
                                request=CHAT), chat_text)
        read_sync(record_openai(c.chat.completions.create(**CHAT, stream=True), store,
                                request=CHAT), chat_text)
    assert len(store.loops) == 1  # one thread, shared by every sync recording
    (loop,) = store.loops
    assert loop.is_running()


def test_strict_raises_when_the_store_refused(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir()
    store = FileEventStore(str(tmp_path / "ro"), read_only=True)
    with FakeProvider(default=Reply(texts=TEXTS)) as fake, \
            openai.OpenAI(base_url=fake.openai_base_url, api_key="t", max_retries=0) as c:
        lenient = record_openai(c.chat.completions.create(**CHAT, stream=True), store,
                                request=CHAT)
        assert read_sync(lenient, chat_text).error is None  # the caller's stream is untouched
        strict = record_openai(c.chat.completions.create(**CHAT, stream=True), store,
                               request=CHAT, strict=True)
        seen = read_sync(strict, chat_text)
    assert seen.texts == list(TEXTS)
    assert isinstance(seen.error, RecordingError)
    asyncio.run(store.close())


async def test_a_response_that_is_not_a_stream_is_refused_and_recorded() -> None:
    store = InMemoryEventStore()
    with FakeProvider(default=Reply(texts=TEXTS)) as fake:
        async with openai.AsyncOpenAI(base_url=fake.openai_base_url, api_key="t",
                                      max_retries=0) as client:
            rec = record_openai(client.chat.completions.create(**CHAT, stream=True), store)
            plain = record_openai(_Awaitable(object()), store)
            with pytest.raises(TypeError, match="not a stream"):
                async for _ in plain:
                    pass
            await rec.close()  # never read: abort, and the un-awaited call is closed
    events = await recorded(store, plain.recording.stream_id)
    assert isinstance(events[-1], ErrorEvent)
    closed = await recorded(store, rec.recording.stream_id)
    assert isinstance(closed[-1], ErrorEvent) and closed[-1].error.code == "closed_early"


class _Awaitable:
    def __init__(self, value: object) -> None:
        self.value = value

    def __await__(self) -> Any:
        if False:
            yield
        return self.value


def test_a_dropped_sync_stream_is_recorded_as_abandoned() -> None:
    store = InMemoryEventStore()
    with FakeProvider(default=Reply(texts=TEXTS)) as fake, \
            openai.OpenAI(base_url=fake.openai_base_url, api_key="t", max_retries=0) as c:
        rec = record_openai(c.chat.completions.create(**CHAT, stream=True), store,
                            request=CHAT)
        for _ in range(3):  # the role chunk and two texts, read by hand
            next(rec)
        stream_id = rec.recording.stream_id
        group = rec._group  # the pump outlives the wrapper: wait on it below
        del rec
        gc.collect()
        assert group._pump is not None
        group._pump.result(timeout=30)
    events = asyncio.run(recorded(store, stream_id))
    assert [e.value for e in events if isinstance(e, TokenEvent)] == list(TEXTS[:2])
    assert isinstance(events[-1], ErrorEvent) and events[-1].failure_type == "abort"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_read_timeout_is_a_timeout(provider: str) -> None:
    """The server holds the stream after two texts; the client's read timeout fires."""
    store = InMemoryEventStore()
    with FakeProvider(Reply(texts=TEXTS, hold_after=2)) as fake:
        if provider == "openai":
            with openai.OpenAI(base_url=fake.openai_base_url, api_key="t", max_retries=0,
                               timeout=0.5) as client:
                seen = read_sync(record_openai(
                    client.chat.completions.create(**CHAT, stream=True), store, request=CHAT),
                    chat_text)
        else:
            with anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="t",
                                     max_retries=0, timeout=0.5) as client:
                seen = read_sync(record_anthropic(
                    client.messages.create(**MESSAGES, stream=True), store, request=MESSAGES),
                    anthropic_text)
    assert seen.error is not None and seen.texts == list(TEXTS[:2])
    asyncio.run(check_replay(store, seen, failure_type="timeout"))
