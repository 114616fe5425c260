"""The browser's catalog window: forward and backward pages join into the whole order."""

from __future__ import annotations

from l0core.catalog import SummaryFilter, SummaryQuery
from l0core.events import StartEvent
from l0core.stores.memory import InMemoryEventStore
from l0tui import catalog_window
from l0tui.catalog_window import CatalogWindow


async def _store(n: int) -> InMemoryEventStore:
    store = InMemoryEventStore()
    for i in range(n):
        await store.append(f"s{i:04d}", StartEvent(ts=1000.0 + (i * 7919) % n))
    return store


async def test_paging_both_ways_walks_the_whole_order_in_a_bounded_window() -> None:
    store = await _store(2500)
    everything = [s.stream_id for s in
                  (await store.query_summaries(SummaryQuery(limit=10_000))).items]
    window = CatalogWindow(store)
    await window.load_first()
    seen = [r.stream_id for r in window.rows]
    while not window.at_end:
        before = len(window.rows)
        trimmed = await window.extend_forward()
        seen.extend(r.stream_id for r in window.rows[before - trimmed:])
        assert len(window.rows) <= catalog_window.MAX_ROWS
    assert seen == everything
    assert window.offset == len(everything) - len(window.rows)
    steps = 0
    while not window.at_start:
        await window.extend_backward()
        steps += 1
        assert len(window.rows) <= catalog_window.MAX_ROWS
        start = window.offset
        assert start is not None
        assert [r.stream_id for r in window.rows] == everything[start:start + len(window.rows)]
    assert window.offset == 0 and steps > 3
    await window.load_last()
    assert [r.stream_id for r in window.rows] == everything[-len(window.rows):]


async def test_reload_keeps_the_stretch_and_slots_in_new_rows() -> None:
    store = await _store(600)
    window = CatalogWindow(store, order="stream_id", descending=False)
    await window.load_first()
    await window.extend_forward()
    await window.extend_forward()
    first = window.rows[0].stream_id
    await store.append("s0001x", StartEvent(ts=5.0))
    await window.reload()
    ids = [r.stream_id for r in window.rows]
    assert ids[0] == first == "s0000" and "s0001x" in ids and ids == sorted(ids)
    window.set_query(flt=SummaryFilter(id_prefix="s05"))
    await window.load_first()
    assert [r.stream_id for r in window.rows] == [f"s05{i:02d}" for i in range(100)]
    assert await window.count() == 100
