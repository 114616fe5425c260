"""``with_ttl``: make any store hide streams that have gone quiet for ``ttl_ms``.

The spec's wrapper filters single events by age; that cuts the head off a long
stream and changes its replayed state. Here a whole stream expires together,
``ttl_ms`` after its newest event, which keeps every visible stream replayable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from l0core.events import EventEnvelope, JSONDict, Snapshot
from l0core.stores.base import BaseEventStore, BaseEventStoreWithSnapshots, Clock


class TTLEventStore(BaseEventStoreWithSnapshots):
    def __init__(self, store: BaseEventStore, ttl_ms: int, *, clock: Clock | None = None) -> None:
        if ttl_ms <= 0:
            raise ValueError(f"ttl_ms must be > 0, got {ttl_ms}")
        super().__init__(store.config, ttl=ttl_ms, clock=clock)
        self.inner = store

    def describe(self) -> str:
        return f"{self.inner.describe()} (ttl {self.ttl} ms)"

    async def _expired(self, stream_id: str) -> bool:
        last = await self.inner.get_last_event(stream_id)
        return last is None or self.is_expired(last.event.ts)

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        return await self.inner.append_many(stream_id, events, expected_seq=expected_seq)

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        if await self._expired(stream_id):
            return []
        return await self.inner.get_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        if await self._expired(stream_id):
            return []
        return await self.inner.read_events(stream_id, from_seq=from_seq, to_seq=to_seq)

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        if await self._expired(stream_id):
            return
        async for batch in self.inner.iter_batches(stream_id, from_seq=from_seq,
                                                   batch_size=batch_size):
            yield batch

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        last = await self.inner.get_last_event(stream_id)
        return None if last is None or self.is_expired(last.event.ts) else last

    async def exists(self, stream_id: str) -> bool:
        return not await self._expired(stream_id)

    async def delete(self, stream_id: str) -> None:
        await self.inner.delete(stream_id)

    async def list_streams(self) -> list[str]:
        return [s for s in await self.inner.list_streams() if not await self._expired(s)]

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        if isinstance(self.inner, BaseEventStoreWithSnapshots):
            await self.inner.save_snapshot(snapshot)

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        if isinstance(self.inner, BaseEventStoreWithSnapshots) and not await self._expired(
            stream_id
        ):
            return await self.inner.list_snapshots(stream_id)
        return []

    async def close(self) -> None:
        await self.inner.close()
        await super().close()


def with_ttl(store: BaseEventStore, ttl_ms: int, *, clock: Clock | None = None) -> TTLEventStore:
    return TTLEventStore(store, ttl_ms, clock=clock)
