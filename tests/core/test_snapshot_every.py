"""``snapshot_every``: the recording helpers save snapshots, and replays start from them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from l0core.fold import fold
from l0core.record import record_iterator, record_stream
from l0core.replay import create_event_replayer
from l0core.stores.base import BaseEventStore
from l0core.stores.memory import InMemoryEventStore
from l0core.stores.sqlite import SQLiteEventStore


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseEventStore]:
    opened: BaseEventStore = (InMemoryEventStore() if request.param == "memory"
                              else SQLiteEventStore(str(tmp_path / "s.db")))
    yield opened
    await opened.close()


async def test_record_stream_saves_a_snapshot_every_n_events(store: BaseEventStore) -> None:
    async with record_stream(store, "long", model="m", snapshot_every=100,
                             checkpoint_every=0) as rec:
        for i in range(1000):
            rec.token(f"w{i} ")
            if i % 150 == 0:
                await rec.flush()  # batches of every size cross the boundaries
    events = await store.get_events("long")
    assert len(events) == 1002  # START, 1000 tokens, COMPLETE
    snaps = await store.list_snapshots("long")  # type: ignore[attr-defined]
    assert [s.seq for s in snaps] == [99 + 100 * k for k in range(10)]
    for snap in snaps:
        want = fold(events[:snap.seq + 1])
        assert (snap.content, snap.token_count) == (want.content, want.token_count)


async def test_replay_to_state_starts_from_the_nearest_snapshot(store: BaseEventStore) -> None:
    async def words() -> AsyncIterator[str]:
        for i in range(500):
            yield f"t{i} "

    async for _ in record_iterator(words(), store, "iter", snapshot_every=64):
        pass
    events = await store.get_events("iter")
    folded = 0
    original = store.read_events

    async def counting(stream_id: str, *, from_seq: int = 0, to_seq: int | None = None):  # type: ignore[no-untyped-def]
        nonlocal folded
        got = await original(stream_id, from_seq=from_seq, to_seq=to_seq)
        folded += len(got)
        return got

    store.read_events = counting  # type: ignore[method-assign]
    for target in (0, 63, 64, 300, len(events) - 1):
        folded = 0
        state = await create_event_replayer(store).replay_to_state("iter", to_seq=target)
        assert state == fold(events[:target + 1]), target
        assert folded <= 64, (target, folded)


async def test_without_snapshot_every_no_snapshot_is_saved(store: BaseEventStore) -> None:
    async with record_stream(store, "plain") as rec:
        for i in range(300):
            rec.token(str(i))
    assert await store.list_snapshots("plain") == []  # type: ignore[attr-defined]
