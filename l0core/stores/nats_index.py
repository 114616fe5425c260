"""Summary records in memory, with a sorted list per order field kept up to date.

The NATS store's catalog holds every record of a location (``nats_catalog``); this
is what answers queries over them. Each order field gets its ``(value, streamId)``
list the first time a query asks for it, and from then on every change moves one
entry (a bisection and a list insert), so a sort or filter change on a large
catalog walks a sorted list instead of sorting it, and keyset pages start by
bisection. Counts are remembered until a record changes.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery, matches, sort_key
from l0core.catalog.summary import StreamSummary
from l0core.stores.nats_summaries import SummaryRecord

Visible = Callable[[SummaryRecord], bool]
TextHit = Callable[[SummaryRecord], bool]


def _remove(keys: list[tuple[Any, str]], key: tuple[Any, str]) -> None:
    i = bisect.bisect_left(keys, key)
    if i < len(keys) and keys[i] == key:
        del keys[i]


class SummaryIndex:
    """Records by stream id (with their bucket revision), and their orders."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[SummaryRecord, int]] = {}
        self.version = 0
        self._orders: dict[str, list[tuple[Any, str]]] = {}
        self._counts: dict[SummaryFilter, int] = {}

    def __len__(self) -> int:
        return len(self.records)

    def get(self, sid: str) -> tuple[SummaryRecord, int] | None:
        return self.records.get(sid)

    def put(self, sid: str, rec: SummaryRecord, revision: int) -> None:
        old = self.records.get(sid)
        self.records[sid] = (rec, revision)
        for order, keys in self._orders.items():
            if old is not None:
                _remove(keys, sort_key(old[0].summary, order))
            bisect.insort(keys, sort_key(rec.summary, order))
        self._changed()

    def pop(self, sid: str) -> bool:
        old = self.records.pop(sid, None)
        if old is None:
            return False
        for order, keys in self._orders.items():
            _remove(keys, sort_key(old[0].summary, order))
        self._changed()
        return True

    def _changed(self) -> None:
        self.version += 1
        self._counts.clear()

    def ordered(self, order: str) -> list[tuple[Any, str]]:
        keys = self._orders.get(order)
        if keys is None:
            keys = sorted(sort_key(rec.summary, order) for rec, _ in self.records.values())
            self._orders[order] = keys
        return keys

    def page(self, query: SummaryQuery, visible: Visible,
             text_hit: TextHit | None) -> list[SummaryRecord]:
        """The records of one page, and one more when another page follows."""
        keys = self.ordered(query.order)
        if query.descending:
            end = len(keys) if query.after is None else bisect.bisect_left(keys, query.after)
            indices: Iterable[int] = range(end - 1, -1, -1)
        else:
            start = 0 if query.after is None else bisect.bisect_right(keys, query.after)
            indices = range(start, len(keys))
        flt = replace(query.filter, text=None)
        out: list[SummaryRecord] = []
        for i in indices:
            held = self.records.get(keys[i][1])
            if held is None or sort_key(held[0].summary, query.order) != keys[i]:
                continue  # an entry the record has moved away from
            rec = held[0]
            if (visible(rec) and matches(rec.summary, flt)
                    and (text_hit is None or text_hit(rec))):
                out.append(rec)
                if len(out) > query.limit:
                    break
        return out

    def count(self, flt: SummaryFilter, visible: Visible, text_hit: TextHit | None,
              *, timeless: bool) -> int:
        if timeless and flt in self._counts:
            return self._counts[flt]
        plain = replace(flt, text=None)
        if plain.is_empty() and text_hit is None:
            n = (len(self.records) if timeless else
                 sum(1 for rec, _ in self.records.values() if visible(rec)))
        else:
            n = sum(1 for rec, _ in self.records.values()
                    if visible(rec) and matches(rec.summary, plain)
                    and (text_hit is None or text_hit(rec)))
        if timeless:
            self._counts[flt] = n
        return n


def page_of(records: list[SummaryRecord], query: SummaryQuery) -> SummaryPage:
    """A query's page from :meth:`SummaryIndex.page`'s records (one extra: more follow)."""
    items: list[StreamSummary] = [rec.summary.copy() for rec in records[:query.limit]]
    more = len(records) > query.limit
    next_after = sort_key(items[-1], query.order) if more and items else None
    return SummaryPage(items, next_after)
