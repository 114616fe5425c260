"""``create_composite_store``: write to several stores, read from one.

Writes go to every store concurrently; if some fail,
:class:`~l0core.errors.CompositeStoreError` says which succeeded and which did not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

from l0core.errors import CompositeStoreError, StoreConfigError
from l0core.events import EventEnvelope, JSONDict, Snapshot
from l0core.stores.base import BaseEventStore, BaseEventStoreWithSnapshots, supports_snapshots


class CompositeEventStore(BaseEventStoreWithSnapshots):
    def __init__(self, stores: Sequence[BaseEventStore], primary_index: int = 0) -> None:
        if not stores:
            raise StoreConfigError("a composite store needs at least one store")
        if not 0 <= primary_index < len(stores):
            raise StoreConfigError(f"primary_index {primary_index} is out of range "
                                   f"for {len(stores)} stores")
        super().__init__()
        self.stores = list(stores)
        self.primary = self.stores[primary_index]
        self.primary_index = primary_index

    def describe(self) -> str:
        return "composite(" + ", ".join(s.describe() for s in self.stores) + ")"

    async def _all(self, what: str, calls: list[Awaitable[Any]]) -> list[Any]:
        results = await asyncio.gather(*calls, return_exceptions=True)
        failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
        if failed:
            raise CompositeStoreError(
                f"{what} failed on {len(failed)} of {len(self.stores)} stores",
                succeeded_indices=[i for i in range(len(results)) if i not in failed],
                failed_indices=failed,
                errors=[results[i] for i in failed],
            )
        return results

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        results = await self._all(
            "append",
            [s.append_many(stream_id, events, expected_seq=expected_seq) for s in self.stores],
        )
        return int(results[self.primary_index])

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        return await self.primary.get_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        return await self.primary.read_events(stream_id, from_seq=from_seq, to_seq=to_seq)

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        async for batch in self.primary.iter_batches(stream_id, from_seq=from_seq,
                                                     batch_size=batch_size):
            yield batch

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        return await self.primary.get_last_event(stream_id)

    async def exists(self, stream_id: str) -> bool:
        return await self.primary.exists(stream_id)

    async def delete(self, stream_id: str) -> None:
        await self._all("delete", [s.delete(stream_id) for s in self.stores])

    async def list_streams(self) -> list[str]:
        return await self.primary.list_streams()

    async def subscribe(
        self, stream_id: str, *, after_seq: int = -1, poll_interval: float = 0.05
    ) -> AsyncIterator[EventEnvelope]:
        async for env in self.primary.subscribe(stream_id, after_seq=after_seq,
                                                poll_interval=poll_interval):
            yield env

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        await self._all("save_snapshot", [
            s.save_snapshot(snapshot)  # type: ignore[attr-defined]
            for s in self.stores if supports_snapshots(s)
        ])

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        if isinstance(self.primary, BaseEventStoreWithSnapshots):
            return await self.primary.list_snapshots(stream_id)
        return []

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.stores), return_exceptions=True)
        await super().close()


def create_composite_store(
    stores: Sequence[BaseEventStore], primary_index: int = 0
) -> CompositeEventStore:
    return CompositeEventStore(stores, primary_index)
