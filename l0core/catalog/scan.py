"""The catalog of a store that keeps no summaries: one fold per stream, remembered.

Read-only opens never write, so a directory written by the TypeScript library, a
spec-layout PostgreSQL table or a store written before summaries existed is
summarised by reading every stream once, with progress. The result lives as long as
the store object; :meth:`ScanCatalog.refresh` reads again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery, apply_query
from l0core.catalog.query import count_matching as _count
from l0core.catalog.summary import StreamSummary, advance_summary, final_content
from l0core.codec import encode_event
from l0core.errors import L0Error, StoreClosedError, StoreConnectionError

if TYPE_CHECKING:
    from l0core.stores.base import BaseEventStore

Progress = Callable[[int, int], None]
"""Called with (streams done, streams in all)."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def fold_summary(store: BaseEventStore, stream_id: str) -> StreamSummary | None:
    """``stream_id``'s summary folded from its events (None when it has none)."""
    summary = StreamSummary(stream_id=stream_id)
    async for batch in store.iter_batches(stream_id):
        advance_summary(summary, [encode_event(env.event) for env in batch])
    return summary if summary.event_count else None


async def fold_content(store: BaseEventStore, stream_id: str) -> str:
    """The final content of ``stream_id`` (what text search looks in)."""
    content = ""
    async for batch in store.iter_batches(stream_id):
        content = final_content([encode_event(env.event) for env in batch], content)
    return content


async def describe(store: BaseEventStore, stream_id: str) -> StreamSummary | None:
    """The summary with what a scan can tell and a store cannot: damage, unreadability."""
    try:
        if (other := await store.content_stream_id(stream_id)) is not None:
            return StreamSummary(stream_id=stream_id, read_status="other_stream",
                                 read_note=f"its events name stream {other!r}")
        summary = await fold_summary(store, stream_id)
        if summary is None:
            return None
        damage = await store.seq_damage(stream_id)
    except (StoreConnectionError, StoreClosedError):
        raise  # the store, not this stream, is the problem
    except (L0Error, ValueError) as exc:
        return StreamSummary(stream_id=stream_id, read_status="unreadable",
                             read_note=_one_line(str(exc)))
    if damage:
        summary.read_status = "damaged"
        summary.read_note = damage.describe()
    return summary


class ScanCatalog:
    """Every summary of one store, folded once and kept in memory."""

    def __init__(self, store: BaseEventStore) -> None:
        self.store = store
        self._summaries: dict[str, StreamSummary] | None = None
        self._contents: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def build(self, progress: Progress | None = None) -> None:
        """Read every stream unless that was done already."""
        async with self._lock:
            if self._summaries is None:
                self._summaries = await self._scan(progress)

    async def refresh(self, progress: Progress | None = None) -> None:
        async with self._lock:
            self._summaries = await self._scan(progress)
            self._contents.clear()

    async def _scan(self, progress: Progress | None) -> dict[str, StreamSummary]:
        ids = sorted(await self.store.list_streams())
        out: dict[str, StreamSummary] = {}
        for done, stream_id in enumerate(ids, 1):
            summary = await describe(self.store, stream_id)
            if summary is not None:
                out[stream_id] = summary
            if progress is not None:
                progress(done, len(ids))
        return out

    async def _all(self) -> dict[str, StreamSummary]:
        await self.build()
        assert self._summaries is not None
        return self._summaries

    async def _load_contents(self, summaries: dict[str, StreamSummary]) -> None:
        for stream_id, summary in summaries.items():
            if stream_id not in self._contents and summary.read_status != "unreadable":
                try:
                    self._contents[stream_id] = await fold_content(self.store, stream_id)
                except (L0Error, ValueError):
                    self._contents[stream_id] = ""

    async def get(self, stream_id: str) -> StreamSummary | None:
        return (await self._all()).get(stream_id)

    async def query(self, query: SummaryQuery) -> SummaryPage:
        summaries = await self._all()
        if query.filter.text is not None:
            await self._load_contents(summaries)
        return apply_query(summaries.values(), query, self._contents.get)

    async def count(self, flt: SummaryFilter) -> int:
        summaries = await self._all()
        if flt.text is not None:
            await self._load_contents(summaries)
        return _count(summaries.values(), flt, self._contents.get)
