"""Every path to "the state at seq N" agrees with folding events 0..N (docs/format.md).

Paths: ``replay(to_seq=N)``, ``replay_to_state(to_seq=N)`` with and without
snapshots, and a snapshot plus the events after it, on random streams.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l0core import (
    InMemoryEventStore,
    RecordedEvent,
    create_event_replayer,
    fold,
    replay,
    snapshot_from_state,
    state_from_snapshot,
)
from l0core.codec import decode_snapshot, encode_snapshot
from tests.core.strategies import event_lists, runs

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


async def _check(events: list[RecordedEvent], n: int, snap_at: list[int]) -> None:
    store = InMemoryEventStore()
    await store.append_many("s", events)
    expected = fold(events[: n + 1])

    result = await replay("s", store, to_seq=n)
    assert await result.collect() == expected

    plain = InMemoryEventStore()
    await plain.append_many("s", events)
    assert await create_event_replayer(plain).replay_to_state("s", to_seq=n) == expected

    for seq in snap_at:
        snap = snapshot_from_state("s", seq, fold(events[: seq + 1]), ts=0.0)
        # Snapshots survive the wire format exactly.
        snap = decode_snapshot(encode_snapshot(snap))
        await store.save_snapshot(snap)
    assert await create_event_replayer(store).replay_to_state("s", to_seq=n) == expected

    usable = [s for s in snap_at if s <= n]
    if usable:
        base = max(usable)
        restored = state_from_snapshot((await store.get_snapshot_before("s", n)) or
                                       snapshot_from_state("s", -1, fold([]), 0.0))
        assert fold(events[base + 1: n + 1], restored) == expected


@SETTINGS
@given(data=st.data(), events=event_lists(min_size=1, max_size=40))
async def test_every_path_agrees_on_any_order(data: st.DataObject,
                                              events: list[RecordedEvent]) -> None:
    n = data.draw(st.integers(0, len(events) - 1))
    snaps = data.draw(st.lists(st.integers(0, len(events) - 1), max_size=4, unique=True))
    await _check(events, n, snaps)


@SETTINGS
@given(data=st.data(), events=runs())
async def test_every_path_agrees_on_realistic_runs(data: st.DataObject,
                                                   events: list[RecordedEvent]) -> None:
    n = data.draw(st.integers(0, len(events) - 1))
    snaps = data.draw(st.lists(st.integers(0, len(events) - 1), max_size=4, unique=True))
    await _check(events, n, snaps)
