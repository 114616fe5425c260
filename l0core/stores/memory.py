"""``InMemoryEventStore``: the spec's memory store, thread-safe, with snapshots and TTL.

A stream expires ``ttl`` ms after its last append (by the store's clock), like a
Redis key whose expiry every append refreshes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from l0core.catalog import (
    StreamSummary,
    SummaryFilter,
    SummaryPage,
    SummaryQuery,
    advance_summary,
    apply_query,
    final_content,
)
from l0core.catalog.query import count_matching
from l0core.codec import decode_event, decode_snapshot, encode_event, encode_snapshot
from l0core.events import EventEnvelope, JSONDict, Snapshot, validate_stream_id
from l0core.stores.base import BaseEventStoreWithSnapshots, Clock, StorageAdapterConfig


class InMemoryEventStore(BaseEventStoreWithSnapshots):
    """Events and snapshots in process memory. Safe across tasks and threads.

    Summaries are advanced under the same lock as the events; queries filter them in
    memory with the catalog's reference semantics."""

    keeps_summaries = True

    def __init__(
        self,
        config: StorageAdapterConfig | None = None,
        *,
        prefix: str | None = None,
        ttl: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config or StorageAdapterConfig(type="memory"), prefix=prefix, ttl=ttl,
                         clock=clock)
        self._lock = threading.Lock()
        self._streams: dict[str, list[EventEnvelope]] = {}
        self._touched: dict[str, float] = {}
        self._snapshots: dict[str, dict[int, Snapshot]] = {}
        self._summaries: dict[str, StreamSummary] = {}
        self._version = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def describe(self) -> str:
        return "memory://"

    # ── expiry ──

    def _live(self, stream_id: str) -> list[EventEnvelope] | None:
        """The stream's events, dropping it first if it has expired. Hold the lock."""
        events = self._streams.get(stream_id)
        if events is None:
            return None
        if self.ttl > 0 and self.is_expired(self._touched[stream_id]):
            del self._streams[stream_id]
            del self._touched[stream_id]
            self._snapshots.pop(stream_id, None)
            self._summaries.pop(stream_id, None)
            self._version += 1
            return None
        return events

    # ── writing ──

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        decoded = [decode_event(e) for e in events]
        with self._lock:
            stream = self._live(stream_id)
            last = -1 if stream is None else len(stream) - 1
            self._check_expected(stream_id, expected_seq, last)
            if stream is None:
                stream = self._streams[stream_id] = []
            seq = last
            for event in decoded:
                seq += 1
                stream.append(EventEnvelope(stream_id, seq, event))
            summary = self._summaries.get(stream_id)
            if summary is None:
                summary = self._summaries[stream_id] = StreamSummary(stream_id=stream_id)
            advance_summary(summary, events)
            self._version += 1
            self._touched[stream_id] = self.clock()
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            loop.call_soon_threadsafe(_resolve, fut)
        return seq

    # ── reading ──

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        with self._lock:
            stream = self._live(stream_id)
            return [] if stream is None else list(stream)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        with self._lock:
            stream = self._live(stream_id) or []
            end = len(stream) if to_seq is None else max(0, min(len(stream), to_seq + 1))
            return stream[max(0, from_seq):end]

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)
        with self._lock:
            stream = self._live(stream_id)
            return stream[-1] if stream else None

    async def exists(self, stream_id: str) -> bool:
        validate_stream_id(stream_id)
        with self._lock:
            return self._live(stream_id) is not None

    async def delete(self, stream_id: str) -> None:
        self._check_writable()
        validate_stream_id(stream_id)
        with self._lock:
            self._streams.pop(stream_id, None)
            self._touched.pop(stream_id, None)
            self._snapshots.pop(stream_id, None)
            self._summaries.pop(stream_id, None)
            self._version += 1

    async def list_streams(self) -> list[str]:
        with self._lock:
            return [sid for sid in list(self._streams) if self._live(sid) is not None]

    async def _wait_for_append(self, stream_id: str, last_seq: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            stream = self._live(stream_id)
            if stream is not None and len(stream) - 1 > last_seq:
                return
            self._waiters.append((loop, fut))
        try:
            await asyncio.wait_for(fut, timeout=max(timeout, 0.5))
        except TimeoutError:
            pass

    # ── the catalog ──

    def _live_summaries(self) -> list[StreamSummary]:
        """Copies of every live summary (hold the lock)."""
        return [s.copy()
                for sid, s in list(self._summaries.items()) if self._live(sid) is not None]

    def _content(self, stream_id: str) -> str | None:
        with self._lock:
            stream = self._live(stream_id)
            events = [] if stream is None else list(stream)
        return final_content([encode_event(env.event) for env in events])

    async def get_summary(self, stream_id: str) -> StreamSummary | None:
        validate_stream_id(stream_id)
        with self._lock:
            if self._live(stream_id) is None:
                return None
            s = self._summaries[stream_id]
            return s.copy()

    async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
        with self._lock:
            summaries = self._live_summaries()
        return apply_query(summaries, query, self._content)

    async def count_summaries(self, flt: SummaryFilter | None = None) -> int:
        with self._lock:
            summaries = self._live_summaries()
        return count_matching(summaries, flt or SummaryFilter(), self._content)

    async def catalog_version(self) -> object:
        with self._lock:
            return self._version

    # ── snapshots ──

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_writable()
        copy = decode_snapshot(encode_snapshot(snapshot))  # validates and detaches
        with self._lock:
            self._snapshots.setdefault(copy.stream_id, {})[copy.seq] = copy

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        with self._lock:
            if self._live(stream_id) is None and stream_id in self._streams:
                return []
            snaps = self._snapshots.get(stream_id, {})
            return [snaps[s] for s in sorted(snaps)]

    # ── the spec's extras ──

    def clear(self) -> None:
        with self._lock:
            self._streams.clear()
            self._touched.clear()
            self._snapshots.clear()
            self._summaries.clear()
            self._version += 1

    def get_stream_count(self) -> int:
        with self._lock:
            return sum(1 for sid in list(self._streams) if self._live(sid) is not None)

    def get_total_event_count(self) -> int:
        with self._lock:
            return sum(
                len(events) for sid in list(self._streams) if (events := self._live(sid))
            )


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def create_in_memory_event_store(*, ttl: int = 0, clock: Clock | None = None) -> InMemoryEventStore:
    return InMemoryEventStore(ttl=ttl, clock=clock)


def open_store(config: StorageAdapterConfig) -> InMemoryEventStore:
    """Registry entry for ``memory://``."""
    return InMemoryEventStore(config)
