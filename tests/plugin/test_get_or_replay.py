"""``get_or_replay``: the spec's caching pattern, on a memory store and a file store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from l0core import ErrorEvent, FileEventStore, InMemoryEventStore, StartEvent, TokenEvent
from l0core.recorded import cache_key, get_or_replay, get_or_replay_sync
from l0core.testing import FakeClock


class Model:
    """Counts its calls, so a test sees whether a hit reached the model."""

    def __init__(self, chunks: list[str], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.calls = 0

    async def stream(self) -> AsyncIterator[str]:
        self.calls += 1
        for i, chunk in enumerate(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise ConnectionResetError("the model went away")
            yield chunk

    def sync_stream(self) -> Iterator[str]:
        self.calls += 1
        for i, chunk in enumerate(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise ConnectionResetError("the model went away")
            yield chunk


async def test_miss_records_then_hit_replays() -> None:
    store = InMemoryEventStore()
    model = Model(["Hel", "lo", "!"])
    key = cache_key("Say hello", "gpt-4o-mini")
    first = await get_or_replay(store, key, model.stream, prompt="Say hello", model="gpt-4o-mini")
    assert (first.replayed, first.content, model.calls) == (False, "Hello!", 1)
    events = [e.event for e in await store.get_events(key)]
    assert isinstance(events[0], StartEvent) and events[0].options.prompt == "Say hello"
    assert [e.value for e in events if isinstance(e, TokenEvent)] == ["Hel", "lo", "!"]
    seen: list[str] = []
    second = await get_or_replay(store, key, model.stream, on_token=seen.append)
    assert (second.replayed, second.content, model.calls) == (True, "Hello!", 1)
    assert seen == ["Hel", "lo", "!"]
    assert second.state.token_count == first.state.token_count == 3
    assert second.state.completed and first.state.completed


async def test_a_hit_can_replay_the_recorded_gaps() -> None:
    store = InMemoryEventStore()
    clock = FakeClock(1_000_000.0)

    async def produce() -> AsyncIterator[str]:
        for chunk, gap in (("a", 100.0), ("b", 250.0), ("c", 1000.0)):
            clock.now += gap  # the model takes this long for each chunk
            yield chunk

    await get_or_replay(store, "paced", produce, clock=clock)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    hit = await get_or_replay(store, "paced", produce, speed=2.0, sleep=sleep)
    assert hit.replayed and hit.content == "abc"
    assert waits == pytest.approx([0.05, 0.125, 0.5])


async def test_a_failure_is_recorded_raised_and_not_cached() -> None:
    store = InMemoryEventStore()
    broken = Model(["a", "b", "c"], fail_after=2)
    with pytest.raises(ConnectionResetError):
        await get_or_replay(store, "k1", broken.stream)
    last = await store.get_last_event("k1")
    assert last is not None and isinstance(last.event, ErrorEvent)
    assert last.event.failure_type == "network"
    healthy = Model(["x", "y"])
    again = await get_or_replay(store, "k1", healthy.stream)
    assert (again.replayed, again.content, healthy.calls) == (False, "xy", 1)


async def test_retry_failed_off_replays_the_failure() -> None:
    store = InMemoryEventStore()
    with pytest.raises(ConnectionResetError):
        await get_or_replay(store, "k", Model(["a", "b"], fail_after=1).stream)
    model = Model(["z"])
    result = await get_or_replay(store, "k", model.stream, retry_failed=False)
    assert result.replayed and model.calls == 0
    assert result.state.error is not None and result.content == "a"


async def test_produce_may_return_text_or_an_awaitable_stream() -> None:
    store = InMemoryEventStore()
    whole = await get_or_replay(store, "text", lambda: "all at once")
    assert whole.content == "all at once" and whole.state.token_count == 1

    async def create() -> AsyncIterator[str]:  # like AsyncOpenAI's un-awaited create()
        return Model(["a", "b"]).stream()

    streamed = await get_or_replay(store, "awaited", create)
    assert streamed.content == "ab"
    with pytest.raises(TypeError, match="expected a str or an"):
        await get_or_replay(store, "bad", lambda: 42)  # type: ignore[arg-type, return-value]


def test_sync_form_with_a_file_store(tmp_path: Path) -> None:
    model = Model(["one ", "two"])
    store = FileEventStore(tmp_path)
    first = get_or_replay_sync(store, "k", model.sync_stream)
    second = get_or_replay_sync(store, "k", model.sync_stream)
    assert (first.replayed, second.replayed, model.calls) == (False, True, 1)
    assert first.content == second.content == "one two"
    assert (tmp_path / "k.jsonl").exists()
    reopened = FileEventStore(tmp_path)  # another process would find it too
    third = get_or_replay_sync(reopened, "k", model.sync_stream)
    assert third.replayed and model.calls == 1


async def test_sync_form_under_a_running_loop() -> None:
    store = InMemoryEventStore()
    model = Model(["a"])
    assert not get_or_replay_sync(store, "k", model.sync_stream).replayed
    assert (await get_or_replay(store, "k", model.stream)).replayed
    assert model.calls == 1


def test_cache_key_is_a_valid_stream_id_and_stable() -> None:
    key = cache_key("Explain quantum computing\n", "gpt-4o")
    assert key == cache_key("Explain quantum computing\n", "gpt-4o")
    assert key != cache_key("Explain quantum computing\n", "gpt-4o-mini")
    assert key.startswith("l0c_") and len(key) == 44
    assert cache_key("a", "bc") != cache_key("ab", "c")
