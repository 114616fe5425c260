"""Summaries in SQL tables: the columns, rows <-> ``StreamSummary``, a query as SQL.

The SQLite and PostgreSQL stores keep a stream's summary in two rows
(docs/format.md, "The catalog"):

- the fields every TOKEN moves (:data:`LIVE_COLUMNS`: ``last_ts``, ``duration_ms``,
  ``event_count``, ``token_count``, ``last_seq``) live in the stream's row of the
  ``streams`` table, which every append rewrites anyway: appending to a running
  stream writes no other row and moves no index;
- the other fields are one row of the ``summaries`` table (:data:`STORED_COLUMNS`),
  written only when one of them changes, with an index on ``(field, stream_id)``
  per sort field. A live field cannot be indexed without undoing that, so each has
  a copy ``sort_<field>`` in ``summaries``, NULL while the stream runs and indexed
  where it is not; running streams, few, are sorted when a query asks.

A :class:`SummaryQuery` becomes one ``SELECT`` over both (joined by stream id) that
an index serves, keyset pagination included; ordering by a live field merges two
ordered scans. Only the dialect differs between the stores: placeholders, booleans,
substring search and the text index, handed in as a :class:`Dialect`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery, value_of
from l0core.catalog.summary import SUMMARY_FIELDS, StreamSummary

SUMMARY_COLUMNS = SUMMARY_FIELDS[:SUMMARY_FIELDS.index("options") + 1]
"""The columns a summary is read from: its fields in declaration order, up to the last
one stores keep (``read_status`` and ``read_note`` are the scan's), so that a row is
the summary's positional arguments."""

LIVE_ORDERS = ("last_ts", "duration_ms", "event_count", "token_count")
"""Sort fields every TOKEN moves."""
LIVE_COLUMNS = (*LIVE_ORDERS, "last_seq")
"""Fields kept in the ``streams`` row."""
SORT_COLUMNS = tuple(f"sort_{f}" for f in LIVE_ORDERS)
STABLE_ORDERS = ("start_ts", "end_ts", "model", "status", "retries", "violation_count",
                 "fallback_index")
"""Sort fields with an index on ``(field, stream_id)`` in ``summaries``; ``stream_id``
has its own key and the live ones their ``sort_`` copies."""

STORED_COLUMNS = (
    "stream_id", "model", "prompt_head", "start_ts", "end_ts", "status", "retry_attempts",
    "network_retry_count", "violation_count", "drift_detected", "fallback_index",
    "failure_type", "error_head", "retries", *SORT_COLUMNS, "options",
)
"""The columns of a ``summaries`` row, in the order of :func:`stored_values`."""

_OPS = {"<": "<", "<=": "<=", "=": "=", ">=": ">=", ">": ">", "!=": "<>"}

TextClause = Callable[[list[str]], tuple[str, list[Any]]]
"""Search words (already in the stored text's form) -> an SQL condition and its params."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the SQL of two stores."""

    placeholder: str
    """``?`` (sqlite3) or ``%s`` (psycopg)."""
    contains: str
    """A function ``f(haystack, needle)`` that is > 0 when needle occurs (case-sensitive)."""
    is_true: Callable[[str, bool], str]
    """``column`` is true / false."""
    collate: str = ""
    """Appended to ``stream_id`` where it is compared or ordered (code point order)."""
    keyless: Callable[[str], str] = str
    """``column`` written so that no index serves a condition on it (SQLite's unary
    ``+``), for :func:`filter_sql`'s ``keyless`` fields."""


def column(name: str) -> str:
    """A summary field as SQL, the ``summaries`` table aliased ``s`` and ``streams`` ``t``."""
    return f"t.{name}" if name in LIVE_COLUMNS else f"s.{name}"


SELECT_SUMMARY = ", ".join(column(c) for c in SUMMARY_COLUMNS)
"""The select list :func:`row_summaries` reads."""


def stored_key(summary: StreamSummary) -> tuple[Any, ...]:
    """What decides whether the ``summaries`` row must be written: every stored column
    but ``options``, which only a stream's first event sets (a new row)."""
    s = summary
    ended = s.status != "running"
    return (s.model, s.prompt_head, s.start_ts, s.end_ts, s.status, s.retry_attempts,
            s.network_retry_count, s.violation_count, s.drift_detected, s.fallback_index,
            s.failure_type, s.error_head, s.retries,
            s.last_ts if ended else None, s.duration_ms if ended else None,
            s.event_count if ended else None, s.token_count if ended else None)


def stored_values(summary: StreamSummary) -> tuple[Any, ...]:
    """The ``summaries`` row of ``summary`` in :data:`STORED_COLUMNS` order."""
    return (summary.stream_id, *stored_key(summary), orjson.dumps(summary.options).decode())


def live_values(summary: StreamSummary | None) -> tuple[Any, ...]:
    """The :data:`LIVE_ORDERS` fields for the ``streams`` row (NULLs without a summary)."""
    if summary is None:
        return (None, None, None, None)
    return (summary.last_ts, summary.duration_ms, summary.event_count, summary.token_count)


def row_summaries(rows: Iterable[Sequence[Any]]) -> list[StreamSummary]:
    """Rows selected as :data:`SELECT_SUMMARY` back into summaries; a listing calls this
    once per page.

    The columns are the summary's fields in order, so a row is passed positionally (in
    C, ten times cheaper than nineteen keywords). They already hold Python's types
    (REAL/float8 floats, INTEGER/bigint ints, psycopg's jsonb dicts) but for SQLite's
    0/1 flag and its options' JSON text, fixed afterwards."""
    out = [StreamSummary(*row) for row in rows]
    for s in out:
        drift: Any = s.drift_detected
        if drift.__class__ is not bool:
            s.drift_detected = bool(drift)
        options: Any = s.options
        if options.__class__ is not dict:
            s.options = orjson.loads(options) if options else {}
    return out


def row_summary(row: Sequence[Any]) -> StreamSummary:
    """One row as :func:`row_summaries` reads it."""
    return row_summaries((row,))[0]


def _prefix_bound(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` (code point order)."""
    last = ord(prefix[-1])
    return None if last >= 0x10FFFF else prefix[:-1] + chr(last + 1)


def filter_sql(flt: SummaryFilter, d: Dialect, text: TextClause,
               keyless: frozenset[str] = frozenset()) -> tuple[list[str], list[Any]]:
    """``flt`` as conditions (to be ANDed) and their parameters, in order; conditions on
    the ``keyless`` columns are written so that no index serves them."""
    p = d.placeholder
    where: list[str] = []
    params: list[Any] = []

    def c(name: str) -> str:
        return d.keyless(column(name)) if name in keyless else column(name)
    if flt.status is not None:
        if flt.status:
            where.append(f"{c('status')} IN ({', '.join(p for _ in flt.status)})")
            params.extend(sorted(flt.status))
        else:
            where.append("1 = 0")
    for name, value in (("model", flt.model), ("failure_type", flt.failure_type)):
        if value is not None:
            where.append(f"{c(name)} = {p}")
            params.append(value)
    if flt.since is not None:
        where.append(f"{c('start_ts')} >= {p}")
        params.append(flt.since)
    if flt.until is not None:
        where.append(f"{c('start_ts')} < {p}")
        params.append(flt.until)
    for wanted, positive in ((flt.has_retries, f"{c('retries')} > 0"),
                             (flt.has_violations, f"{c('violation_count')} > 0"),
                             (flt.has_fallback, f"{c('fallback_index')} > 0")):
        if wanted is not None:
            where.append(positive if wanted else f"NOT ({positive})")
    if flt.has_drift is not None:
        where.append(d.is_true(c("drift_detected"), flt.has_drift))
    if flt.has_error is not None:
        where.append(f"{c('status')} {'=' if flt.has_error else '<>'} 'error'")
    if flt.id_prefix:
        sid = c("stream_id") + d.collate
        where.append(f"{sid} >= {p}")
        params.append(flt.id_prefix)
        bound = _prefix_bound(flt.id_prefix)
        if bound is None:
            where.append(f"substr({c('stream_id')}, 1, {len(flt.id_prefix)}) = {p}")
            params.append(flt.id_prefix)
        else:
            where.append(f"{sid} < {p}")
            params.append(bound)
    if flt.id_contains is not None:
        where.append(f"{d.contains}({c('stream_id')}, {p}) > 0")
        params.append(flt.id_contains)
    for cmp in flt.comparisons:
        where.append(f"{c(cmp.field)} {_OPS[cmp.op]} {p}")
        params.append(cmp.value)
    if flt.text is not None:
        words = [w for w in flt.text.casefold().split() if w]
        if words:
            clause, extra = text(words)
            where.append(clause)
            params.extend(extra)
    return where, params


@dataclass(frozen=True, slots=True)
class OrderPart:
    """One ordered scan of a query: its extra conditions, ``ORDER BY`` and their params."""

    where: list[str]
    order: str
    params: list[Any]


def order_parts(query: SummaryQuery, d: Dialect) -> list[OrderPart]:
    """The scans that, merged, give ``query``'s order: one, or for a :data:`LIVE_ORDERS`
    field two (ended streams by the indexed ``sort_`` copy, running streams by the live
    column), leaving out a part the filter's status rules out."""
    if query.order not in LIVE_ORDERS:
        return [_part(query, d, column(query.order), [])]
    flt = query.filter
    running = (flt.status is None or "running" in flt.status) and flt.has_error is not True
    ended = flt.status is None or bool(flt.status - {"running"})
    sort_col = f"s.sort_{query.order}"
    parts = []
    if ended:
        parts.append(_part(query, d, sort_col, [f"{sort_col} IS NOT NULL"]))
    if running:
        parts.append(_part(query, d, column(query.order), ["s.status = 'running'"]))
    return parts


def _part(query: SummaryQuery, d: Dialect, col: str, where: list[str]) -> OrderPart:
    direction = "DESC" if query.descending else "ASC"
    sid = "s.stream_id" + d.collate
    by_id = query.order == "stream_id"
    order = f"ORDER BY {sid} {direction}" if by_id else (
        f"ORDER BY {col} {direction}, {sid} {direction}")
    if query.after is None:
        return OrderPart(where, order, [])
    op = "<" if query.descending else ">"
    p = d.placeholder
    if by_id:
        return OrderPart([*where, f"{sid} {op} {p}"], order, [query.after[1]])
    return OrderPart([*where, f"({col}, {sid}) {op} ({p}, {p})"], order,
                     [query.after[0], query.after[1]])


def select_page(query: SummaryQuery, d: Dialect, source: str, where: list[str],
                params: list[Any]) -> tuple[str, list[Any]]:
    """The ``SELECT`` of ``limit + 1`` rows of ``query``; ``source`` is the ``FROM``
    (``summaries s JOIN streams t ...``), ``where``/``params`` the filter's."""
    p = d.placeholder
    texts, values = [], []
    for part in order_parts(query, d):
        conds = [*where, *part.where]
        texts.append(f"SELECT {SELECT_SUMMARY} FROM {source}"
                     f"{' WHERE ' + ' AND '.join(conds) if conds else ''} {part.order} "
                     f"LIMIT {p}")
        values += [*params, *part.params, query.limit + 1]
    if not texts:
        return f"SELECT {SELECT_SUMMARY} FROM {source} WHERE 1 = 0", []
    if len(texts) == 1:
        return texts[0], values
    direction = "DESC" if query.descending else "ASC"
    merged = " UNION ALL ".join(f"SELECT * FROM ({t}) part{i}" for i, t in enumerate(texts))
    return (f"SELECT * FROM ({merged}) parts ORDER BY {query.order} {direction}, "
            f"stream_id{d.collate} {direction} LIMIT {p}",
            [*values, query.limit + 1])


def page_of(rows: list[StreamSummary], query: SummaryQuery) -> SummaryPage:
    """The page from ``limit + 1`` rows fetched: the extra one only says another follows."""
    items = rows[:query.limit]
    more = len(rows) > query.limit
    after = (value_of(items[-1], query.order), items[-1].stream_id) if more and items else None
    return SummaryPage(items, after)
