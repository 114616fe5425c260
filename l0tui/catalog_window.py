"""A window of a store's catalog: the few hundred summaries the browser can show.

The browser never holds every summary. It holds a contiguous slice of the query's
result, fetched with keyset pages: forward after the last row, backward by asking
the reverse order after the first row. Moving near either edge extends the window
and trims the other side, so memory stays bounded however large the store. Plain
Python over ``l0core`` (no Textual), so it is tested on its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from l0core.catalog import StreamSummary, SummaryFilter, SummaryQuery
from l0core.catalog.query import sort_key
from l0core.stores.base import BaseEventStore

PAGE = 200
"""Rows fetched per step."""
MAX_ROWS = 1000
"""Most rows kept; the far side is trimmed beyond this."""


class CatalogWindow:
    """``rows`` is a slice of ``query``'s result; ``at_start``/``at_end`` say whether it
    reaches the first/last matching row. ``offset`` is the position of ``rows[0]`` in
    the whole result when known (None after jumping to the end of a huge result)."""

    def __init__(self, store: BaseEventStore, *, order: str = "start_ts",
                 descending: bool = True, flt: SummaryFilter | None = None) -> None:
        self.store = store
        self.query = SummaryQuery(filter=flt or SummaryFilter(), order=order,  # type: ignore[arg-type]
                                  descending=descending, limit=PAGE)
        self.rows: list[StreamSummary] = []
        self.at_start = True
        self.at_end = True
        self.offset: int | None = 0
        self.total = 0

    # ── what to show ──

    def set_query(self, *, order: str | None = None, descending: bool | None = None,
                  flt: SummaryFilter | None = None) -> None:
        """Change the filter or order; call :meth:`load_first` (or :meth:`reload`) next."""
        changes: dict[str, Any] = {}
        if order is not None:
            changes["order"] = order
        if descending is not None:
            changes["descending"] = descending
        if flt is not None:
            changes["filter"] = flt
        self.query = replace(self.query, **changes)

    def _key(self, summary: StreamSummary) -> tuple[Any, str]:
        return sort_key(summary, self.query.order)

    # ── fetching ──

    async def count(self) -> int:
        self.total = await self.store.count_summaries(self.query.filter)
        return self.total

    async def load_first(self, rows: int = PAGE) -> None:
        """The first ``rows`` matches."""
        page = await self.store.query_summaries(replace(self.query, limit=rows, after=None))
        self.rows = list(page.items)
        self.at_start = True
        self.at_end = page.next_after is None
        self.offset = 0

    async def load_last(self) -> None:
        """The last page of matches (the reverse order's first page, turned round)."""
        reverse = replace(self.query, descending=not self.query.descending, limit=PAGE,
                          after=None)
        page = await self.store.query_summaries(reverse)
        self.rows = list(reversed(page.items))
        self.at_end = True
        self.at_start = page.next_after is None
        self.offset = 0 if self.at_start else (
            max(0, self.total - len(self.rows)) if self.total else None)

    async def extend_forward(self) -> int:
        """Fetch the page after the last row; the number of rows trimmed from the top."""
        if self.at_end or not self.rows:
            return 0
        page = await self.store.query_summaries(
            replace(self.query, after=self._key(self.rows[-1])))
        self.rows.extend(page.items)
        self.at_end = page.next_after is None
        trimmed = max(0, len(self.rows) - MAX_ROWS)
        if trimmed:
            del self.rows[:trimmed]
            self.at_start = False
            if self.offset is not None:
                self.offset += trimmed
        return trimmed

    async def extend_backward(self) -> int:
        """Fetch the page before the first row; the number of rows added at the top."""
        if self.at_start or not self.rows:
            return 0
        reverse = replace(self.query, descending=not self.query.descending,
                          after=self._key(self.rows[0]))
        page = await self.store.query_summaries(reverse)
        before = list(reversed(page.items))
        self.rows[:0] = before
        self.at_start = page.next_after is None
        if self.offset is not None:
            self.offset = 0 if self.at_start else max(0, self.offset - len(before))
        elif self.at_start:
            self.offset = 0
        excess = max(0, len(self.rows) - MAX_ROWS)
        if excess:
            del self.rows[-excess:]
            self.at_end = False
        return len(before)

    async def reload(self) -> None:
        """Read the same stretch again (new streams, changed statuses), from its start.

        The window restarts at the row before its first one, so rows that moved keep
        their place and new ones slot in where the order puts them."""
        size = max(PAGE, len(self.rows))
        if self.at_start or not self.rows:
            await self.load_first(size)
            return
        reverse = replace(self.query, descending=not self.query.descending, limit=1,
                          after=self._key(self.rows[0]))
        before = await self.store.query_summaries(reverse)
        after = self._key(before.items[0]) if before.items else None
        page = await self.store.query_summaries(replace(self.query, limit=size, after=after))
        self.rows = list(page.items)
        self.at_start = after is None
        self.at_end = page.next_after is None

    def index_of(self, stream_id: str) -> int | None:
        for i, row in enumerate(self.rows):
            if row.stream_id == stream_id:
                return i
        return None
