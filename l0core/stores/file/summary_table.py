"""The file store's catalog in memory: one compact column per summary field.

A hundred thousand ``StreamSummary`` objects cost seconds to build and hundreds of
megabytes; a column per field (``array`` for numbers, small integer codes for status,
model and failure type, one list for the ids) loads in milliseconds and filters with
one pass per condition. Rows are only materialised as ``StreamSummary`` for the page a
query returns. Options, error heads and final contents live beside the columns
(:class:`Side`), read from the index file only when needed.

Index records (``catalog_records``) are applied with :meth:`SummaryTable.apply`; the
query methods follow the reference semantics of :mod:`l0core.catalog.query` exactly.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Callable, Iterable, Mapping
from itertools import compress
from typing import Any, TypeVar

import orjson

from l0core.catalog.query import SummaryFilter, SummaryQuery, text_words
from l0core.catalog.summary import HEAD_CHARS, ReadStatus, StreamSummary, SummaryStatus

INT_FIELDS = ("lastSeq", "eventCount", "tokenCount", "retryAttempts", "networkRetryCount",
              "violationCount", "fallbackIndex")
FLOAT_FIELDS = ("startTs", "endTs", "lastTs", "durationMs")
FILE_FIELDS = ("ino", "size", "end")
STATUSES: tuple[SummaryStatus, ...] = ("running", "completed", "error")
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}

_V = TypeVar("_V")

MEMO_ENTRIES = 24
"""Row lists and derived columns a table keeps between queries (8 bytes per row each)."""

LIVE, BAD, HAS_CONTENT, OPTIONS_KNOWN = 1, 2, 4, 8
"""Bits of the ``flags`` column."""

_SNAKE = {"lastSeq": "last_seq", "eventCount": "event_count", "tokenCount": "token_count",
          "retryAttempts": "retry_attempts", "networkRetryCount": "network_retry_count",
          "violationCount": "violation_count", "fallbackIndex": "fallback_index",
          "startTs": "start_ts", "endTs": "end_ts", "lastTs": "last_ts",
          "durationMs": "duration_ms"}
_BY_ORDER = {snake: camel for camel, snake in _SNAKE.items()}
_BY_ORDER["retry_attempts"] = "retryAttempts"
_BY_ORDER["network_retry_count"] = "networkRetryCount"


class Codes:
    """A string column as small integers: the values once, a code per row."""

    __slots__ = ("code", "values")

    def __init__(self, values: Iterable[str] = ("",)) -> None:
        self.values: list[str] = list(values)
        self.code = {v: i for i, v in enumerate(self.values)}

    def of(self, value: str) -> int:
        c = self.code.get(value)
        if c is None:
            c = self.code[value] = len(self.values)
            self.values.append(value)
        return c


class Side:
    """Per-row values kept out of the columns: a blob from the index file plus overrides."""

    __slots__ = ("blob", "offsets", "over", "read")

    def __init__(self) -> None:
        self.over: dict[int, Any] = {}
        self.offsets: array[int] | None = None
        """``rows + 1`` offsets into the blob (rows of the index file's base only)."""
        self.read: Callable[[int, int], bytes] | None = None
        """Reads ``(offset, length)`` of the blob from the index file."""
        self.blob: bytes | None = None

    def base_bytes(self, row: int) -> bytes | None:
        offsets = self.offsets
        if offsets is None or row + 1 >= len(offsets):
            return None
        a, b = offsets[row], offsets[row + 1]
        if a == b:
            return b""
        if self.blob is not None:
            return self.blob[a:b]
        assert self.read is not None
        return self.read(a, b - a)

    def load(self) -> None:
        """Read the whole blob into memory (before scanning every row)."""
        if self.blob is None and self.offsets is not None and self.read is not None:
            self.blob = self.read(0, self.offsets[-1]) if len(self.offsets) > 1 else b""


class SummaryTable:
    """Every stream's summary and file identity, column by column."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._row_of: dict[str, int] | None = {}
        self.ints: dict[str, array[int]] = {k: array("q") for k in INT_FIELDS + FILE_FIELDS}
        self.floats: dict[str, array[float]] = {k: array("d") for k in FLOAT_FIELDS}
        self.mtime: array[float] = array("d")
        """Last append (Unix ms, the writer's clock): what TTL expiry looks at."""
        self.status = array("b")
        self.drift = array("b")
        self.flags = array("b")
        self.model = array("i")
        self.failure = array("i")
        self.models = Codes()
        self.failures = Codes()
        self.error_head = Side()
        self.options = Side()
        self.content = Side()
        """Casefolded final content (UTF-8) of streams that ended."""
        self.bad: dict[int, tuple[ReadStatus, str]] = {}
        self.live = 0
        self._memo: dict[tuple[Any, ...], Any] = {}
        """Sorted and selected rows and derived columns, valid until the next change
        (see :meth:`ordered`)."""

    @property
    def row_of(self) -> dict[str, int]:
        """The row of each stream id, made on first use after :meth:`set_ids`: hashing a
        hundred thousand ids costs 27 ms, and a query that looks none up (``ls
        --status error``) need not pay it."""
        rows = self._row_of
        if rows is None:
            rows = self._row_of = dict(zip(self.ids, range(len(self.ids)), strict=True))
            rows.pop("", None)  # killed rows (none in a table just loaded)
        return rows

    def set_ids(self, ids: list[str]) -> None:
        """Take ``ids`` as the stream id of each row (an index file's base)."""
        self.ids = ids
        self._row_of = None

    # ── building ──

    def _new_row(self, stream_id: str) -> int:
        self._memo.clear()
        row = len(self.ids)
        self.ids.append(stream_id)
        self.row_of[stream_id] = row
        for col in self.ints.values():
            col.append(0)
        for fcol in self.floats.values():
            fcol.append(0.0)
        self.ints["lastSeq"][row] = -1
        self.mtime.append(0.0)
        for bcol in (self.status, self.drift, self.flags):
            bcol.append(0)
        self.model.append(0)
        self.failure.append(0)
        return row

    def apply(self, rec: Mapping[str, Any]) -> int | None:
        """Apply one index record (``catalog_records``); returns the row it touched."""
        self._memo.clear()
        stream_id = rec["id"]
        row = self.row_of.get(stream_id)
        if rec.get("deleted"):
            if row is not None:
                self.kill(row)
            return None
        if row is None:
            row = self._new_row(stream_id)
        flags = self.flags[row]
        if not flags & LIVE:
            self.live += 1
        old_ino = self.ints["ino"][row]
        ints, floats = self.ints, self.floats
        for k in FILE_FIELDS:
            ints[k][row] = rec[k]
        self.mtime[row] = rec.get("mtime", 0.0)
        bad = rec.get("bad")
        new_flags = LIVE
        if bad is not None:
            self.bad[row] = (bad[0], bad[1])
            new_flags |= BAD | OPTIONS_KNOWN
            for k in INT_FIELDS:
                ints[k][row] = -1 if k == "lastSeq" else 0
            for k in FLOAT_FIELDS:
                floats[k][row] = 0.0
            self.status[row] = self.drift[row] = 0
            self.model[row] = self.failure[row] = 0
            self.options.over[row] = {}
            self.error_head.over.pop(row, None)
            self.content.over.pop(row, None)
        else:
            self.bad.pop(row, None)
            for k in INT_FIELDS:
                ints[k][row] = rec[k]
            for k in FLOAT_FIELDS:
                floats[k][row] = rec[k]
            self.status[row] = STATUS_CODE[rec["status"]]
            self.drift[row] = 1 if rec["driftDetected"] else 0
            self.model[row] = self.models.of(rec["model"])
            self.failure[row] = self.failures.of(rec["failureType"])
            self.error_head.over[row] = rec["errorHead"]
            if "options" in rec:
                self.options.over[row] = rec["options"]
                new_flags |= OPTIONS_KNOWN
            elif flags & OPTIONS_KNOWN and old_ino == rec["ino"] and flags & LIVE:
                new_flags |= OPTIONS_KNOWN  # the same file: its first event is unchanged
            else:
                self.options.over.pop(row, None)
            content = rec.get("content")
            if content is not None:
                self.content.over[row] = content.encode("utf-8", "surrogatepass")
                new_flags |= HAS_CONTENT
            else:
                self.content.over.pop(row, None)
        self.flags[row] = new_flags
        return row

    def kill(self, row: int) -> None:
        """Drop a row (deleted stream); its slot stays until the index is compacted."""
        self._memo.clear()
        if self.flags[row] & LIVE:
            self.live -= 1
        self.flags[row] = 0
        del self.row_of[self.ids[row]]
        self.ids[row] = ""
        self.bad.pop(row, None)
        for side in (self.options, self.error_head, self.content):
            side.over.pop(row, None)

    # ── reading ──

    def options_of(self, row: int) -> dict[str, Any] | None:
        """The START options of the row's stream; None when the index does not know them."""
        return self.options_of_rows([row])[0]

    def options_of_rows(self, rows: list[int]) -> list[dict[str, Any] | None]:
        """:meth:`options_of` of each row, those from the index file decoded in one
        call (a page of a thousand: one ``orjson.loads`` instead of a thousand)."""
        out: list[dict[str, Any] | None] = [None] * len(rows)
        flags, over, side = self.flags, self.options.over, self.options
        raws: list[bytes] = []
        at: list[int] = []
        for i, row in enumerate(rows):
            if not flags[row] & OPTIONS_KNOWN:
                continue
            known = over.get(row)
            if known is not None:
                out[i] = dict(known)
                continue
            raw = side.base_bytes(row)
            if raw:
                raws.append(raw)
                at.append(i)
            else:
                out[i] = {}
        if raws:
            values = orjson.loads(b"[" + b",".join(raws) + b"]")
            if len(values) != len(raws):  # not one JSON value each: decode them one by one
                values = [orjson.loads(raw) for raw in raws]
            for i, value in zip(at, values, strict=True):
                out[i] = value if isinstance(value, dict) else {}
        return out

    def error_head_of(self, row: int) -> str:
        over = self.error_head.over.get(row)
        if over is not None:
            return str(over)
        raw = self.error_head.base_bytes(row)
        return raw.decode("utf-8", "surrogatepass") if raw else ""

    def content_of(self, row: int) -> bytes | None:
        """The casefolded final content (UTF-8), None for a stream that has not ended."""
        if not self.flags[row] & HAS_CONTENT:
            return None
        over = self.content.over.get(row)
        if over is not None:
            return bytes(over)
        return self.content.base_bytes(row) or b""

    def summary(self, row: int, options: dict[str, Any]) -> StreamSummary:
        """The row as a ``StreamSummary`` (``options`` from :meth:`options_of` or the file)."""
        return self.summaries([row], [options])[0]

    def summaries(self, rows: list[int], options: list[dict[str, Any]]) -> list[StreamSummary]:
        """:meth:`summary` of each row, with the columns looked up once for the page."""
        ints, floats = self.ints, self.floats
        start, end, last, duration = (floats["startTs"], floats["endTs"], floats["lastTs"],
                                      floats["durationMs"])
        events, tokens, retries, network, violations, fallback, last_seq = (
            ints["eventCount"], ints["tokenCount"], ints["retryAttempts"],
            ints["networkRetryCount"], ints["violationCount"], ints["fallbackIndex"],
            ints["lastSeq"])
        ids, models, failures = self.ids, self.models.values, self.failures.values
        model, failure, status, drift = self.model, self.failure, self.status, self.drift
        out: list[StreamSummary] = []
        for row, opts in zip(rows, options, strict=True):
            bad = self.bad.get(row)
            if bad is not None:
                out.append(StreamSummary(stream_id=ids[row], read_status=bad[0],
                                         read_note=bad[1]))
                continue
            prompt = opts.get("prompt")
            out.append(StreamSummary(  # positional, in field order: cheaper than keywords
                ids[row], models[model[row]],
                prompt[:HEAD_CHARS] if isinstance(prompt, str) else "",
                start[row], end[row], last[row], duration[row], STATUSES[status[row]],
                events[row], tokens[row], retries[row], network[row], violations[row],
                drift[row] == 1, fallback[row], failures[failure[row]],
                self.error_head_of(row), last_seq[row], opts))
        return out

    def live_rows(self) -> list[int]:
        flags = self.flags
        if self.live == len(flags):  # no row was deleted: no need to look at each
            return list(range(len(flags)))
        return [r for r in range(len(flags)) if flags[r] & LIVE]

    # ── queries (reference semantics: l0core.catalog.query) ──

    def _column(self, name: str) -> Any:
        """The values of a sort or comparison field, indexable by row (the derived ones
        remembered until the table changes)."""
        if name == "stream_id":
            return self.ids
        if name in ("retries", "model", "status"):
            col = self._memo.get(("column", name))
            if col is None:
                col = self._remember(("column", name), self._derive(name))
            return col
        camel = _BY_ORDER[name]
        return self.ints[camel] if camel in self.ints else self.floats[camel]

    def _derive(self, name: str) -> list[Any]:
        if name == "retries":
            ra, nr = self.ints["retryAttempts"], self.ints["networkRetryCount"]
            return [a + b for a, b in zip(ra, nr, strict=True)]
        if name == "model":
            values = self.models.values
            return [values[c] for c in self.model]
        return [STATUSES[c] for c in self.status]

    def select(self, flt: SummaryFilter, rows: list[int],
               running_content: Callable[[int], bytes | None]) -> list[int]:
        """The rows of ``rows`` that match ``flt``; ``running_content`` gives the content of
        a stream that has not ended (folded from its file)."""
        ids = self.ids
        # The two most common filters run in C (map and compress: no Python code per
        # row), a third of what a comprehension over a hundred thousand rows costs.
        if flt.status is not None:
            codes = {STATUS_CODE[s] for s in flt.status}
            rows = list(compress(rows, map(codes.__contains__, map(self.status.__getitem__,
                                                                   rows))))
        if flt.model is not None:
            code = self.models.code.get(flt.model)
            rows = [] if code is None else list(compress(rows, map(
                code.__eq__, map(self.model.__getitem__, rows))))
        if flt.since is not None or flt.until is not None:
            start = self.floats["startTs"]
            lo = flt.since if flt.since is not None else float("-inf")
            hi = flt.until if flt.until is not None else float("inf")
            rows = [r for r in rows if lo <= start[r] < hi]
        if flt.has_retries is not None:
            ra, nr = self.ints["retryAttempts"], self.ints["networkRetryCount"]
            rows = [r for r in rows if (ra[r] + nr[r] > 0) == flt.has_retries]
        for wanted, col in ((flt.has_violations, self.ints["violationCount"]),
                            (flt.has_fallback, self.ints["fallbackIndex"])):
            if wanted is not None:
                rows = [r for r in rows if (col[r] > 0) == wanted]
        if flt.has_drift is not None:
            drift = self.drift
            rows = [r for r in rows if bool(drift[r]) == flt.has_drift]
        if flt.has_error is not None:
            status, err = self.status, STATUS_CODE["error"]
            rows = [r for r in rows if (status[r] == err) == flt.has_error]
        if flt.failure_type is not None:
            code = self.failures.code.get(flt.failure_type)
            failure = self.failure
            rows = [] if code is None else [r for r in rows if failure[r] == code]
        if flt.id_prefix is not None:
            prefix = flt.id_prefix
            rows = [r for r in rows if ids[r].startswith(prefix)]
        if flt.id_contains is not None:
            part = flt.id_contains
            rows = [r for r in rows if part in ids[r]]
        for c in flt.comparisons:
            col = self._column(c.field)
            rows = [r for r in rows if _compare(col[r], c.op, c.value)]
        words = [w.encode("utf-8", "surrogatepass") for w in text_words(flt.text or "")]
        if words:
            rows = self._with_words(rows, words, running_content)
        return rows

    def _with_words(self, rows: list[int], words: list[bytes],
                    running_content: Callable[[int], bytes | None]) -> list[int]:
        """The rows whose content holds every word. Contents of the base are searched
        in place in one blob (``bytes.find`` between the row's offsets); the others
        (newer records, running streams) one by one."""
        side, flags = self.content, self.flags
        offsets = side.offsets
        base_rows = 0 if offsets is None else len(offsets) - 1
        if len(rows) > 64 and offsets is not None:
            side.load()
        blob = side.blob
        in_blob: list[int] = []
        others: list[int] = []
        over = side.over
        for r in rows:
            if blob is not None and r < base_rows and flags[r] & HAS_CONTENT and r not in over:
                in_blob.append(r)
            else:
                others.append(r)
        if blob is not None and offsets is not None:
            find = blob.find
            for word in words:
                in_blob = [r for r in in_blob if find(word, offsets[r], offsets[r + 1]) >= 0]
        kept = set(in_blob)
        for r in others:
            hay = self.content_of(r)
            if hay is None:
                hay = running_content(r)
            if hay is not None and all(w in hay for w in words):
                kept.add(r)
        return [r for r in rows if r in kept]

    # ── remembered orders: a store at rest pages in O(log n) ──

    def _remember(self, key: tuple[Any, ...], value: _V) -> _V:
        """Keep ``value`` until the table changes; only the newest :data:`MEMO_ENTRIES`
        (every filter typed into the browser would add a row list otherwise)."""
        self._memo.pop(key, None)
        self._memo[key] = value
        while len(self._memo) > MEMO_ENTRIES:
            del self._memo[next(iter(self._memo))]
        return value

    def matching(self, flt: SummaryFilter,
                 running_content: Callable[[int], bytes | None]) -> list[int]:
        """The live rows that match ``flt`` (in row order), remembered until the table
        changes. Only for a store without TTL: expiry moves with the clock."""
        key = ("match", flt)
        rows: list[int] | None = self._memo.get(key)
        if rows is None:
            rows = self._remember(key, self.select(flt, self.live_rows(), running_content))
        return rows

    def ordered(self, flt: SummaryFilter, order: str,
                running_content: Callable[[int], bytes | None]) -> list[int]:
        """The live rows that match ``flt``, ascending by (``order`` value, stream id),
        remembered until the table changes.

        Every page of a query, and every later query with the same filter and order,
        is then a bisection and a slice instead of a pass over every row. The rows
        are sorted once by stream id, then stably by the value alone (a C-level key,
        not a tuple per row: 100,000 rows sort in tens of milliseconds)."""
        key = ("order", flt, order)
        rows: list[int] | None = self._memo.get(key)
        if rows is not None:
            return rows
        by_id: list[int] | None = self._memo.get(("order", SummaryFilter(), "stream_id"))
        if flt.is_empty():
            if by_id is None:
                by_id = sorted(self.live_rows(), key=self.ids.__getitem__)
                self._remember(("order", SummaryFilter(), "stream_id"), by_id)
            base = by_id
        else:
            # The matches in id order: picked out of the rows already in id order when
            # those are at hand and the matches many, sorted on their own otherwise (a
            # first query, such as a command's only one, sorts no more than it needs).
            chosen = self.matching(flt, running_content)
            if by_id is None or len(chosen) * 8 < len(by_id):
                base = sorted(chosen, key=self.ids.__getitem__)
            else:
                wanted = set(chosen)
                base = [r for r in by_id if r in wanted]
        rows = base if order == "stream_id" else sorted(base, key=self._column(order).__getitem__)
        return self._remember(key, rows)

    def page_of_ordered(self, rows: list[int],
                        query: SummaryQuery) -> tuple[list[int], tuple[Any, str] | None]:
        """:meth:`page` over rows already in :meth:`ordered` order."""
        col = self._column(query.order)
        ids = self.ids

        def key(r: int) -> tuple[Any, str]:
            return col[r], ids[r]

        want = query.limit + 1
        if query.descending:
            end = len(rows) if query.after is None else bisect.bisect_left(
                rows, (query.after[0], query.after[1]), key=key)
            top = rows[max(0, end - want):end][::-1]
        else:
            start = 0 if query.after is None else bisect.bisect_right(
                rows, (query.after[0], query.after[1]), key=key)
            top = rows[start:start + want]
        page = top[:query.limit]
        more = len(top) > query.limit
        return page, (key(page[-1]) if more and page else None)

    def page(self, rows: list[int],
             query: SummaryQuery) -> tuple[list[int], tuple[Any, str] | None]:
        """``query.limit`` rows of ``rows`` in ``query.order`` after ``query.after``, and the
        cursor of the next page (None when no row follows)."""
        col = self._column(query.order)
        ids = self.ids
        if query.after is not None:
            cursor = (query.after[0], query.after[1])
            if query.descending:
                rows = [r for r in rows if (col[r], ids[r]) < cursor]
            else:
                rows = [r for r in rows if (col[r], ids[r]) > cursor]
        want = query.limit + 1

        def key(r: int) -> tuple[Any, str]:
            return col[r], ids[r]

        if want >= len(rows):
            top = sorted(rows, key=key, reverse=query.descending)
        elif query.descending:
            top = heapq.nlargest(want, rows, key=key)
        else:
            top = heapq.nsmallest(want, rows, key=key)
        page = top[:query.limit]
        more = len(top) > query.limit
        return page, (key(page[-1]) if more and page else None)


def _compare(value: Any, op: str, other: float) -> bool:
    if op == "<":
        return bool(value < other)
    if op == "<=":
        return bool(value <= other)
    if op == "=":
        return bool(value == other)
    if op == ">=":
        return bool(value >= other)
    if op == ">":
        return bool(value > other)
    return bool(value != other)
