"""Every code example of the L0 event-sourcing specification, in Python (docs/format.md).

Each test follows one example and asserts the outcome the spec states.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest

from l0core import (
    BaseEventStore,
    BaseEventStoreWithSnapshots,
    EventEnvelope,
    EventRecorder,
    InMemoryEventStore,
    L0RecordedEventTypes,
    RecordedEventType,
    Snapshot,
    StorageAdapterConfig,
    StreamNotFoundError,
    TokenEvent,
    compare_replays,
    create_composite_store,
    create_event_recorder,
    create_event_replayer,
    create_event_store,
    create_in_memory_event_store,
    decode_envelope,
    encode_envelope,
    get_registered_adapters,
    get_stream_metadata,
    register_storage_adapter,
    replay,
    unregister_storage_adapter,
    with_ttl,
)
from l0core.events import JSONDict


async def record_quick_start(store: InMemoryEventStore, stream_id: str = "my-stream-id") -> None:
    recorder = create_event_recorder(store, stream_id)
    await recorder.record_start({"prompt": "Explain quantum computing", "model": "gpt-5-micro"})
    await recorder.record_token("Quantum", 0)
    await recorder.record_token(" ", 1)
    await recorder.record_token("computing", 2)
    await recorder.record_checkpoint(2, "Quantum computing")
    await recorder.record_token(" ", 3)
    await recorder.record_token("is...", 4)
    await recorder.record_complete("Quantum computing is...", 5)


# ── Quick Start ──


async def test_quick_start_record_and_replay() -> None:
    store = create_in_memory_event_store()
    await record_quick_start(store)
    result = await replay("my-stream-id", store, fire_callbacks=True, speed=0)
    tokens = [env.event.value async for env in result.stream if env.event.type == "TOKEN"]  # type: ignore[union-attr]
    assert tokens == ["Quantum", " ", "computing", " ", "is..."]
    assert result.state.content == "Quantum computing is..."
    assert result.state.token_count == 5
    assert result.state.completed is True


# ── Event Types ──


def test_event_type_constants() -> None:
    assert L0RecordedEventTypes is RecordedEventType
    assert [t.value for t in RecordedEventType] == [
        "START", "TOKEN", "CHECKPOINT", "GUARDRAIL", "DRIFT", "RETRY", "FALLBACK",
        "CONTINUATION", "COMPLETE", "ERROR",
    ]
    assert TokenEvent(ts=1, value="x", index=0).type == "TOKEN"


# ── In-Memory Store ──


async def test_in_memory_store_stats_and_clear() -> None:
    store = create_in_memory_event_store()
    await store.append("stream-1", {"type": "TOKEN", "ts": 1712345678123, "value": "hello",
                                    "index": 0})
    assert store.get_stream_count() == 1
    assert store.get_total_event_count() == 1
    store.clear()
    assert store.get_stream_count() == 0


# ── Using L0EventRecorder ──


async def test_recorder_methods() -> None:
    store = create_in_memory_event_store()
    recorder = create_event_recorder(store)
    assert re.fullmatch(r"l0_[0-9a-z]+_[0-9a-z]+", recorder.get_stream_id())
    assert recorder.get_seq() == 0
    await recorder.record_start({"prompt": "test", "model": "gpt-5-micro"})
    await recorder.record_token("Hello", 0)
    await recorder.record_token(" World", 1)
    await recorder.record_checkpoint(1, "Hello World")
    await recorder.record_guardrail(1, {"violations": [], "shouldRetry": False,
                                        "shouldHalt": False})
    await recorder.record_drift(1, {"detected": False, "types": [], "confidence": 0})
    await recorder.record_retry("rate_limit", 1, True)
    await recorder.record_fallback(1)
    await recorder.record_continuation("Hello World", 1)
    await recorder.record_complete("Hello World", 2)
    assert recorder.get_seq() == 10
    await recorder.record_error({"name": "Error", "message": "Failed"}, "network_error", "retry",
                                "default")
    events = await store.get_events(recorder.stream_id)
    assert [e.event.type for e in events] == [
        "START", "TOKEN", "TOKEN", "CHECKPOINT", "GUARDRAIL", "DRIFT", "RETRY", "FALLBACK",
        "CONTINUATION", "COMPLETE", "ERROR",
    ]
    state = await create_event_replayer(store).replay_to_state(recorder.stream_id)
    assert state.retry_attempts == 1 and state.fallback_index == 1
    assert state.error is not None and state.error.message == "Failed"


async def record_complex(store: InMemoryEventStore, stream_id: str) -> EventRecorder:
    recorder = create_event_recorder(store, stream_id)
    await recorder.record_start({"prompt": "Analyze data", "model": "gpt-5-micro"})
    await recorder.record_token("The", 0)
    await recorder.record_token(" data", 1)
    await recorder.record_token(" shows", 2)
    await recorder.record_guardrail(2, {
        "violations": [{"rule": "json", "message": "Not valid JSON yet", "severity": "warning",
                        "recoverable": True}],
        "shouldRetry": False, "shouldHalt": False,
    })
    await recorder.record_token("...", 3)
    await recorder.record_checkpoint(3, "The data shows...")
    await recorder.record_retry("network_error", 1, False)
    await recorder.record_continuation("The data shows...", 3)
    await recorder.record_token(" growth", 4)
    await recorder.record_complete("The data shows... growth", 5)
    return recorder


async def test_recording_a_complex_stream() -> None:
    store = create_in_memory_event_store()
    await record_complex(store, "complex")
    state = await create_event_replayer(store).replay_to_state("complex")
    assert state.content == "The data shows... growth"
    assert state.token_count == 5
    assert state.checkpoint == "The data shows..."
    assert state.network_retry_count == 1 and state.retry_attempts == 0
    assert state.violations == [{"rule": "json", "message": "Not valid JSON yet",
                                 "severity": "warning", "recoverable": True}]
    assert state.completed


# ── Replay Patterns ──


async def test_basic_replay_yields_every_event_in_order() -> None:
    store = create_in_memory_event_store()
    await record_quick_start(store, "my-stream")
    result = await replay("my-stream", store)
    seqs = [env.seq async for env in result]
    assert seqs == list(range(8))


async def test_replay_with_callbacks() -> None:
    store = create_in_memory_event_store()
    await record_complex(store, "my-stream")
    result = await replay("my-stream", store, fire_callbacks=True)
    tokens: list[str] = []
    violations: list[JSONDict] = []
    retries: list[tuple[int, str]] = []
    kinds: list[str] = []
    result.set_callbacks(
        on_token=tokens.append,
        on_violation=violations.append,
        on_retry=lambda attempt, reason: retries.append((attempt, reason)),
        on_event=lambda env: kinds.append(env.event.type),
    )
    async for _ in result.stream:
        pass
    assert tokens == ["The", " data", " shows", "...", " growth"]
    assert [v["rule"] for v in violations] == ["json"]
    assert retries == [(1, "network_error")]
    assert len(kinds) == 11

    quiet = await replay("my-stream", store, fire_callbacks=False)
    quiet.set_callbacks(on_token=tokens.append)
    await quiet.collect()
    assert len(tokens) == 5


async def _timed_store() -> InMemoryEventStore:
    store = create_in_memory_event_store()
    base = 1_700_000_000_000
    for i, gap in enumerate([0, 100, 300, 50]):
        base += gap
        await store.append("my-stream", TokenEvent(ts=base, value=f"t{i}", index=i))
    return store


@pytest.mark.parametrize(("speed", "expected"), [(1, [0.1, 0.3, 0.05]), (10, [0.01, 0.03, 0.005]),
                                                 (0, [])])
async def test_replay_with_timing(speed: float, expected: list[float]) -> None:
    store = await _timed_store()
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    result = await replay("my-stream", store, speed=speed, sleep=fake_sleep)
    await result.collect()
    assert waits == pytest.approx(expected)


async def test_replay_caps_long_gaps() -> None:
    store = await _timed_store()
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    result = await replay("my-stream", store, speed=1, max_gap_ms=120, sleep=fake_sleep)
    await result.collect()
    assert waits == pytest.approx([0.1, 0.12, 0.05])


async def test_partial_replay_is_inclusive() -> None:
    store = create_in_memory_event_store()
    await store.append_many("my-stream", [TokenEvent(ts=i, value=str(i), index=i)
                                          for i in range(20)])
    result = await replay("my-stream", store, from_seq=5, to_seq=15)
    assert [env.seq async for env in result] == list(range(5, 16))
    assert result.state.content == "".join(str(i) for i in range(5, 16))


async def test_replay_to_state_fields() -> None:
    store = create_in_memory_event_store()
    await record_complex(store, "my-stream")
    state = await create_event_replayer(store).replay_to_state("my-stream")
    assert state.content == "The data shows... growth"
    assert state.token_count == 5
    assert state.checkpoint == "The data shows..."
    assert state.completed is True
    assert len(state.violations) == 1
    assert state.retry_attempts == 0
    assert state.network_retry_count == 1
    assert state.fallback_index == 0
    assert state.drift_detected is False
    assert state.error is None
    events = await store.get_events("my-stream")
    assert state.start_ts == events[0].event.ts
    assert state.end_ts == events[-1].event.ts


async def test_replay_tokens_only() -> None:
    store = await _timed_store()
    replayer = create_event_replayer(store)
    assert [t async for t in replayer.replay_tokens("my-stream")] == ["t0", "t1", "t2", "t3"]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    timed = create_event_replayer(store, sleep=fake_sleep)
    assert [t async for t in timed.replay_tokens("my-stream", speed=1)] == ["t0", "t1", "t2", "t3"]
    assert waits == pytest.approx([0.1, 0.3, 0.05])


async def test_replay_with_generator() -> None:
    store = create_in_memory_event_store()
    await record_quick_start(store, "my-stream")
    replayer = create_event_replayer(store)
    lines = [f"Event {env.seq}: {env.event.type}"
             async for env in replayer.replay("my-stream", speed=0, from_seq=0, to_seq=None)]
    assert lines[0] == "Event 0: START" and lines[-1] == "Event 7: COMPLETE"


async def test_missing_stream_is_a_clear_error() -> None:
    store = create_in_memory_event_store()
    with pytest.raises(StreamNotFoundError, match="'ghost' not found"):
        await replay("ghost", store)
    with pytest.raises(StreamNotFoundError):
        await create_event_replayer(store).replay_to_state("ghost")


# ── Stream Metadata ──


async def test_stream_metadata() -> None:
    store = create_in_memory_event_store()
    await record_quick_start(store, "my-stream")
    meta = await get_stream_metadata(store, "my-stream")
    assert meta is not None
    events = await store.get_events("my-stream")
    assert meta.stream_id == "my-stream"
    assert meta.event_count == 8
    assert meta.token_count == 5
    assert meta.start_ts == events[0].event.ts
    assert meta.end_ts == events[-1].event.ts
    assert meta.completed is True and meta.has_error is False
    assert meta.options.prompt == "Explain quantum computing"
    assert meta.options.model == "gpt-5-micro"
    assert await get_stream_metadata(store, "absent") is None


# ── Comparing Replays ──


async def test_compare_replays() -> None:
    store = create_in_memory_event_store()
    await record_quick_start(store, "stream-1")
    await record_quick_start(store, "stream-2")  # same output, later timestamps
    replayer = create_event_replayer(store)
    s1 = await replayer.replay_to_state("stream-1")
    s2 = await replayer.replay_to_state("stream-2")
    assert compare_replays(s1, s2).identical
    await store.append_many("stream-3", [TokenEvent(ts=1, value="Hi...", index=i)
                                         for i in range(12)])
    s3 = await replayer.replay_to_state("stream-3")
    comparison = compare_replays(s1, s3)
    assert not comparison.identical
    assert any(d.startswith("content: 'Quantum computing is...' vs") for d in
               comparison.differences)
    assert "token_count: 5 vs 12" in comparison.differences
    assert "completed: True vs False" in comparison.differences


# ── Use cases ──


async def test_deterministic_testing_use_case() -> None:
    store = create_in_memory_event_store()
    await record_quick_start(store, "stream-123")
    result = await replay("stream-123", store)
    await result.collect()
    assert result.state.content == "Quantum computing is..."
    assert result.state.violations == []


async def test_time_travel_use_case() -> None:
    store = create_in_memory_event_store()
    await store.append_many("my-stream", [TokenEvent(ts=i, value="x", index=i)
                                          for i in range(60)])
    result = await replay("my-stream", store, to_seq=50)
    await result.collect()
    assert result.state.token_count == 51


async def test_caching_use_case() -> None:
    store = create_in_memory_event_store()
    calls = 0

    async def get_or_replay(prompt: str) -> str:
        nonlocal calls
        cache_key = f"cache_{abs(hash(prompt))}"
        if await store.exists(cache_key):
            result = await replay(cache_key, store)
            async for _ in result.stream:
                pass
            return result.state.content
        calls += 1
        recorder = create_event_recorder(store, cache_key)
        await recorder.record_token("answer", 0)
        await recorder.record_complete("answer", 1)
        return "answer"

    assert await get_or_replay("q") == "answer"
    assert await get_or_replay("q") == "answer"
    assert calls == 1


async def test_audit_trail_use_case() -> None:
    store = create_in_memory_event_store()
    await record_quick_start(store, "user_1_1")
    await record_complex(store, "user_2_2")
    lines = []
    for stream_id in await store.list_streams():
        meta = await get_stream_metadata(store, stream_id)
        assert meta is not None
        lines.append(f"Stream {stream_id}: {meta.token_count} tokens, completed: {meta.completed}")
    assert sorted(lines) == ["Stream user_1_1: 5 tokens, completed: True",
                             "Stream user_2_2: 5 tokens, completed: True"]


# ── Snapshots ──


async def test_snapshots() -> None:
    store = create_in_memory_event_store()
    await store.append_many("my-stream", [TokenEvent(ts=i, value=".", index=i)
                                          for i in range(200)])
    common: dict[str, Any] = {"stream_id": "my-stream", "ts": 1.0, "content": "...",
                              "checkpoint": "...", "violations": []}
    await store.save_snapshot(Snapshot(seq=100, token_count=100, **common))
    await store.save_snapshot(Snapshot(seq=160, token_count=160, **common))
    latest = await store.get_snapshot("my-stream")
    assert latest is not None and latest.seq == 160
    before = await store.get_snapshot_before("my-stream", 150)
    assert before is not None and before.seq == 100


async def test_best_practice_snapshots_every_100_events_accelerate_replay() -> None:
    store = create_in_memory_event_store()
    recorder = create_event_recorder(store, "long")
    from l0core import fold, snapshot_from_state

    for i in range(250):
        await recorder.record_token(f"{i},", i)
        if recorder.get_seq() % 100 == 0:
            upto = recorder.get_seq() - 1
            state = fold(await store.read_events("long", to_seq=upto))
            await store.save_snapshot(snapshot_from_state("long", upto, state, ts=1.0))
    assert [s.seq for s in await store.list_snapshots("long")] == [99, 199]
    replayer = create_event_replayer(store)
    for target in (50, 99, 150, 249):
        expected = fold(await store.read_events("long", to_seq=target))
        assert await replayer.replay_to_state("long", to_seq=target) == expected


# ── Storage adapters ──


async def test_built_in_adapters() -> None:
    mem = await create_event_store({"type": "memory"})
    assert isinstance(mem, InMemoryEventStore)
    assert {"memory", "file", "sqlite", "postgres", "redis"} <= set(get_registered_adapters())


class DictEventStore(BaseEventStore):
    """The spec's 'extending BaseEventStore' example, kept in a dict of JSON lines."""

    def __init__(self, config: StorageAdapterConfig) -> None:
        super().__init__(config)
        self.data: dict[str, list[bytes]] = {}

    async def _append_wire(self, stream_id: str, events: Sequence[JSONDict],
                           expected_seq: int | None) -> int:
        key = self.get_stream_key(stream_id)
        items = self.data.setdefault(key, [])
        self._check_expected(stream_id, expected_seq, len(items) - 1)
        import orjson

        for event in events:
            items.append(orjson.dumps({"streamId": stream_id, "seq": len(items), "event": event}))
        return len(items) - 1

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        import orjson

        return [decode_envelope(orjson.loads(b))
                for b in self.data.get(self.get_stream_key(stream_id), [])]

    async def exists(self, stream_id: str) -> bool:
        return self.get_stream_key(stream_id) in self.data

    async def delete(self, stream_id: str) -> None:
        self.data.pop(self.get_stream_key(stream_id), None)

    async def list_streams(self) -> list[str]:
        prefix = f"{self.prefix}:stream:"
        return [k.removeprefix(prefix) for k in self.data if k.startswith(prefix)]


async def test_registering_a_custom_adapter() -> None:
    register_storage_adapter("dict", DictEventStore)
    try:
        assert "dict" in get_registered_adapters()
        store = await create_event_store({"type": "dict", "connection": "x", "prefix": "l0_events",
                                          "ttl": 86_400_000})
        assert isinstance(store, DictEventStore) and store.ttl == 86_400_000
        assert store.get_stream_key("s") == "l0_events:stream:s"
        assert store.get_meta_key("s") == "l0_events:meta:s"
        await store.append("s", {"type": "TOKEN", "ts": 1, "value": "v", "index": 0})
        assert await store.list_streams() == ["s"]
        last = await store.get_last_event("s")
        assert last is not None and encode_envelope(last)["event"]["value"] == "v"
        assert await store.get_events_after("s", 0) == []
    finally:
        assert unregister_storage_adapter("dict") is True
    assert "dict" not in get_registered_adapters()
    assert unregister_storage_adapter("dict") is False


def test_base_store_helpers() -> None:
    class Snap(BaseEventStoreWithSnapshots, DictEventStore):
        async def save_snapshot(self, snapshot: Snapshot) -> None: ...

        async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
            return []

    store = Snap(StorageAdapterConfig(type="x", prefix="p", ttl=1000))
    assert store.get_snapshot_key("s") == "p:snapshot:s"
    store.clock = lambda: 10_000.0
    assert store.is_expired(8_999.0) and not store.is_expired(9_000.0)


async def test_composite_store_writes_everywhere_reads_primary() -> None:
    a, b = create_in_memory_event_store(), create_in_memory_event_store()
    store = create_composite_store([a, b])
    await store.append("stream-1", TokenEvent(ts=1, value="x", index=0))
    assert len(await a.get_events("stream-1")) == 1
    assert len(await b.get_events("stream-1")) == 1
    await a.append("only-a", TokenEvent(ts=1, value="y", index=0))
    assert await store.exists("only-a")
    second = create_composite_store([a, b], 1)
    assert not await second.exists("only-a")


async def test_with_ttl_hides_old_streams() -> None:
    now = 1_800_000_000_000.0
    inner = create_in_memory_event_store()
    store = with_ttl(inner, 24 * 60 * 60 * 1000, clock=lambda: now)
    await store.append("old", TokenEvent(ts=now - 25 * 3600 * 1000, value="x", index=0))
    await store.append("new", TokenEvent(ts=now - 3600 * 1000, value="y", index=0))
    assert await store.get_events("old") == []
    assert len(await store.get_events("new")) == 1
    assert await store.list_streams() == ["new"]


async def test_retention_cleanup_best_practice() -> None:
    store = create_in_memory_event_store()
    await store.append("old", TokenEvent(ts=1_000, value="x", index=0))
    await store.append("old", {"type": "COMPLETE", "ts": 2_000, "content": "x", "tokenCount": 1})
    await record_quick_start(store, "recent")
    cutoff = 1_000_000
    for stream_id in await store.list_streams():
        meta = await get_stream_metadata(store, stream_id)
        if meta and meta.end_ts < cutoff:
            await store.delete(stream_id)
    assert await store.list_streams() == ["recent"]
