"""Which index a catalog query on SQLite should walk: the order's or the filter's.

SQLite keeps no statistics unless ``ANALYZE`` writes them, and a read-only open may
not write. Without them the planner takes any index a filter can use, so
``status:error`` sorted by duration walks all 50,000 errors of a million streams to
sort them, where walking the duration index and skipping the other statuses finds
the first page after about 4,000 rows. Text search is the same choice: the FTS
index's matches for a common word are a third of the store.

So before a page is read, each condition an index could serve is *probed*: how many
rows match it, counted up to a cap. A condition with fewer matches than the cap is
narrow, and its index is the better start (fewer than cap rows to sort). One with
more is wide: walking the order's index meets a match every ``total / matches`` rows,
so a page of ``limit`` costs under ``limit * total / cap`` rows. The cap
``sqrt(limit * total)`` makes both bounds equal, so no query reads more than about
``2 * sqrt(limit * total)`` rows (28,000 for a 200-row page of a million streams),
and every probe stops at the cap.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from l0core.catalog.query import SummaryFilter, SummaryQuery, text_words
from l0core.stores.catalog_sql import Dialect, TextClause, filter_sql

MIN_CAP = 1000
"""Below this many rows either plan is fast; probing would cost more than it saves."""

SERVED_BY_ORDER = {"start_ts": frozenset({"status", "model", "start_ts"}),
                   "stream_id": frozenset({"stream_id"})}
"""Filter columns whose index also gives the order (``(status, start_ts)``,
``(model, start_ts)``, the ``start_ts`` and ``stream_id`` keys): nothing to choose."""


@dataclass(frozen=True, slots=True)
class Plan:
    keyless: frozenset[str] = field(default_factory=frozenset)
    """Columns whose conditions are written so that no index serves them."""
    text_per_row: bool = False
    """Check the text condition row by row instead of starting from the FTS matches."""


def index_conditions(flt: SummaryFilter) -> dict[str, SummaryFilter]:
    """Each column of ``summaries`` with an index, and the part of ``flt`` on it."""
    found: dict[str, SummaryFilter] = {}
    if flt.status is not None or flt.has_error is not None:
        found["status"] = SummaryFilter(status=flt.status, has_error=flt.has_error)
    if flt.model is not None:
        found["model"] = SummaryFilter(model=flt.model)
    if flt.since is not None or flt.until is not None:
        found["start_ts"] = SummaryFilter(since=flt.since, until=flt.until)
    if flt.id_prefix:
        found["stream_id"] = SummaryFilter(id_prefix=flt.id_prefix)
    return found


def choose_plan(conn: sqlite3.Connection, query: SummaryQuery, total: int, summaries: str,
                dialect: Dialect, text: TextClause,
                text_matches: tuple[str, list[Any]] | None) -> Plan:
    """The plan for ``query`` on a catalog of ``total`` summaries.

    ``text_matches`` is the ``SELECT`` of the FTS index's candidates for the query's
    words and its parameters; None when no FTS index can serve them (every content
    would be read, so row by row is never worse)."""
    cap = max(MIN_CAP, math.isqrt((query.limit + 1) * max(total, 1)))
    if total <= cap:
        return Plan()
    served = SERVED_BY_ORDER.get(query.order, frozenset())
    wide: set[str] = set()
    narrow = False
    for name, part in index_conditions(query.filter).items():
        if name in served:
            continue
        where, params = filter_sql(part, dialect, text)
        if _at_least(conn, f"SELECT 1 FROM {summaries} s WHERE {' AND '.join(where)}",
                     params, cap):
            wide.add(name)
        else:
            narrow = True
    text_per_row = False
    if text_words(query.filter.text or ""):
        text_per_row = (narrow or text_matches is None
                        or _at_least(conn, text_matches[0], text_matches[1], cap))
    return Plan(frozenset(wide), text_per_row)


def _at_least(conn: sqlite3.Connection, select: str, params: list[Any], cap: int) -> bool:
    """True when ``select`` returns ``cap`` rows or more (reading no more than that)."""
    row = conn.execute(f"SELECT count(*) FROM ({select} LIMIT ?)", [*params, cap]).fetchone()
    return int(row[0]) >= cap
