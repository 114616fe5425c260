"""The memory store against the conformance suite, plus its spec extras."""

from __future__ import annotations

from l0core import InMemoryEventStore, create_in_memory_event_store
from l0core.stores.base import BaseEventStore, Clock
from l0core.testing import StoreConformance, tokens
from tests.catalog_suite import CatalogSuite


class TestMemoryStore(StoreConformance):
    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return InMemoryEventStore(ttl=ttl, clock=clock)


async def test_counts_and_clear() -> None:
    store = create_in_memory_event_store()
    await store.append_many("a", tokens(3))
    await store.append_many("b", tokens(2))
    assert store.get_stream_count() == 2
    assert store.get_total_event_count() == 5
    store.clear()
    assert store.get_stream_count() == 0
    assert store.get_total_event_count() == 0
    assert await store.list_streams() == []


class TestMemoryCatalog(CatalogSuite):
    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return InMemoryEventStore(ttl=ttl, clock=clock)
