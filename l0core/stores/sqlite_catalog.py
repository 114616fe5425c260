"""The SQLite store's catalog: summary rows, the FTS5 content index, the total.

Tables (``<prefix>_`` in front of each name, docs/format.md "SQLite"; the split
between the two summary halves is explained in :mod:`l0core.stores.catalog_sql`):

- ``streams`` gains ``last_ts``, ``duration_ms``, ``event_count``, ``token_count``
  (NULL for a stream whose summary is not built yet);
- ``summaries``: the other summary fields, ``retries`` and the ``sort_*`` copies,
  an index on ``(field, stream_id)`` per sort field, on ``(status, start_ts)`` and on
  ``(model, start_ts)``; ``id`` is the rowid of the stream's content in ``texts``;
- ``texts``: an FTS5 table (trigram tokenizer) of each ended stream's final content,
  case-folded; a plain table where this SQLite has no trigram tokenizer (text search
  then reads every content);
- ``catalog(key, value)``: ``total`` (the number of summaries: an unfiltered count
  without counting) and ``built`` (0 while the streams of a database written before
  the catalog still need their summaries).

The catalog version is SQLite's ``PRAGMA data_version`` on a connection of its own:
it changes whenever another connection, in any process, commits; nothing is written
for it. Everything here runs on a connection the caller holds; the writer thread
calls the writing half inside its transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import orjson

from l0core.catalog.query import SummaryFilter, SummaryQuery, text_words
from l0core.catalog.summary import StreamSummary, advance_summary, final_content
from l0core.stores.catalog_sql import (
    LIVE_COLUMNS,
    SELECT_SUMMARY,
    SORT_COLUMNS,
    STABLE_ORDERS,
    STORED_COLUMNS,
    Dialect,
    filter_sql,
    row_summaries,
    row_summary,
    select_page,
    stored_values,
)
from l0core.stores.catalog_text import search_words
from l0core.stores.sqlite_plan import Plan, choose_plan

FOLD_BATCH = 20_000
"""Events read at a time when a stream is folded inside the writer's transaction."""

_DIALECT = Dialect(placeholder="?", contains="instr",
                   is_true=lambda col, want: f"{col} = {1 if want else 0}",
                   keyless=lambda col: f"+{col}")
SUMMARY_TABLE_COLUMNS = frozenset({"id", *STORED_COLUMNS})
_LIVE_TYPES = {"last_ts": "REAL", "duration_ms": "REAL", "event_count": "INTEGER",
               "token_count": "INTEGER"}


class SQLiteCatalog:
    """The catalog tables of one prefix (SQL text built once)."""

    def __init__(self, prefix: str, streams_table: str, events_table: str) -> None:
        self.t_summaries = f"{prefix}_summaries"
        self.t_texts = f"{prefix}_texts"
        self.t_catalog = f"{prefix}_catalog"
        self.t_streams = streams_table
        self.t_events = events_table
        self.fts = True
        """False when ``texts`` is a plain table (no FTS5 trigram tokenizer)."""
        cols = ", ".join(STORED_COLUMNS)
        marks = ", ".join("?" for _ in STORED_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in STORED_COLUMNS
                            if c not in ("stream_id", "options"))
        self._insert = (f"INSERT INTO {self.t_summaries} ({cols}) VALUES ({marks}) "
                        f"ON CONFLICT(stream_id) DO UPDATE SET {updates}, "
                        "options = excluded.options")
        self._update = (f"UPDATE {self.t_summaries} SET "
                        f"{', '.join(f'{c} = ?' for c in STORED_COLUMNS[1:-1])} "
                        "WHERE stream_id = ?")
        self.source = (f"{self.t_summaries} s JOIN {streams_table} t "
                       "ON t.stream_id = s.stream_id")
        """The ``FROM`` of every summary read."""
        self._select_one = f"SELECT {SELECT_SUMMARY} FROM {self.source} WHERE s.stream_id = ?"

    # ── schema ──

    def exists(self, conn: sqlite3.Connection) -> bool:
        row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "(?, ?, ?)", (self.t_summaries, self.t_texts, self.t_catalog))
        found = int(row.fetchone()[0]) == 3
        if found:
            self.fts = self._texts_is_fts(conn)
        return found

    def _texts_is_fts(self, conn: sqlite3.Connection) -> bool:
        row = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                           (self.t_texts,)).fetchone()
        return bool(row and "VIRTUAL" in str(row[0]).upper())

    def foreign_columns(self) -> dict[str, set[str]]:
        """Columns each catalog table must have (for the store's foreign-table check)."""
        return {self.t_summaries: set(SUMMARY_TABLE_COLUMNS), self.t_texts: {"content"},
                self.t_catalog: {"key", "value"}}

    def create(self, conn: sqlite3.Connection) -> None:
        """Create what is missing, in one write transaction (racing openers wait).

        A database that already holds streams gets ``built = 0``: their summaries are
        made by :meth:`SQLiteEventStore.build_catalog`, not here (it may take minutes).
        """
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not self.exists(conn):
                have = {str(r[1]) for r in conn.execute(f"PRAGMA table_info({self.t_streams})")}
                for col, kind in _LIVE_TYPES.items():
                    if col not in have:
                        conn.execute(f"ALTER TABLE {self.t_streams} ADD COLUMN {col} {kind}")
                self._create_tables(conn)
                has_streams = conn.execute(
                    f"SELECT 1 FROM {self.t_streams} WHERE last_seq >= 0 LIMIT 1").fetchone()
                conn.executemany(
                    f"INSERT OR IGNORE INTO {self.t_catalog} (key, value) VALUES (?, ?)",
                    [("total", 0), ("built", 0 if has_streams else 1)])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _create_tables(self, conn: sqlite3.Connection) -> None:
        s = self.t_summaries
        conn.execute(f"""
            CREATE TABLE IF NOT EXISTS {s} (
                id INTEGER PRIMARY KEY,
                stream_id TEXT NOT NULL UNIQUE,
                model TEXT NOT NULL, prompt_head TEXT NOT NULL,
                start_ts REAL NOT NULL, end_ts REAL NOT NULL, status TEXT NOT NULL,
                retry_attempts INTEGER NOT NULL, network_retry_count INTEGER NOT NULL,
                violation_count INTEGER NOT NULL, drift_detected INTEGER NOT NULL,
                fallback_index INTEGER NOT NULL, failure_type TEXT NOT NULL,
                error_head TEXT NOT NULL, retries INTEGER NOT NULL,
                sort_last_ts REAL, sort_duration_ms REAL, sort_event_count INTEGER,
                sort_token_count INTEGER, options TEXT NOT NULL
            )""")
        for col in STABLE_ORDERS:
            conn.execute(f"CREATE INDEX IF NOT EXISTS {s}_{col} ON {s} ({col}, stream_id)")
        for col in SORT_COLUMNS:
            conn.execute(f"CREATE INDEX IF NOT EXISTS {s}_{col} ON {s} ({col}, stream_id) "
                         f"WHERE {col} IS NOT NULL")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {s}_status_start ON {s} "
                     "(status, start_ts, stream_id)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {s}_model_start ON {s} "
                     "(model, start_ts, stream_id)")
        try:
            conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.t_texts} "
                         "USING fts5(content, tokenize = 'trigram')")
            self.fts = True
        except sqlite3.OperationalError:  # no FTS5, or no trigram tokenizer (SQLite < 3.34)
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.t_texts} "
                         "(rowid INTEGER PRIMARY KEY, content TEXT NOT NULL)")
            self.fts = False
        conn.execute(f"CREATE TABLE IF NOT EXISTS {self.t_catalog} "
                     "(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")

    def counter(self, conn: sqlite3.Connection, key: str) -> int:
        row = conn.execute(f"SELECT value FROM {self.t_catalog} WHERE key = ?",
                           (key,)).fetchone()
        return int(row[0]) if row else 0

    # ── writing (inside the writer's transaction) ──

    def _bodies(self, conn: sqlite3.Connection, stream_id: str,
                upto: int) -> Iterator[list[dict[str, Any]]]:
        lo = 0
        while lo <= upto:
            rows = conn.execute(
                f"SELECT seq, body FROM {self.t_events} WHERE stream_id = ? AND seq BETWEEN ? "
                "AND ? ORDER BY seq LIMIT ?", (stream_id, lo, upto, FOLD_BATCH)).fetchall()
            if not rows:
                return
            yield orjson.loads("[" + ",".join(r[1] for r in rows) + "]")
            lo = int(rows[-1][0]) + 1

    def fold(self, conn: sqlite3.Connection, stream_id: str,
             upto: int) -> tuple[StreamSummary, str]:
        """Summary and final content of the stored events ``0..upto``."""
        summary = StreamSummary(stream_id=stream_id)
        content = ""
        for batch in self._bodies(conn, stream_id, upto):
            advance_summary(summary, batch)
            content = final_content(batch, content)
        return summary, content

    def content_before(self, conn: sqlite3.Connection, stream_id: str, upto: int) -> str:
        """The final content of the stored events ``0..upto``."""
        content = ""
        for batch in self._bodies(conn, stream_id, upto):
            content = final_content(batch, content)
        return content

    def drop(self, conn: sqlite3.Connection, stream_id: str) -> int:
        """Delete a stream's summary and content rows; returns how many summaries went."""
        conn.execute(f"DELETE FROM {self.t_texts} WHERE rowid = "
                     f"(SELECT id FROM {self.t_summaries} WHERE stream_id = ?)", (stream_id,))
        return conn.execute(f"DELETE FROM {self.t_summaries} WHERE stream_id = ?",
                            (stream_id,)).rowcount

    def write(self, conn: sqlite3.Connection, inserts: list[StreamSummary],
              rewrites: list[StreamSummary], updates: list[StreamSummary],
              contents: dict[str, str], dropped: int) -> None:
        """The group end: ``summaries`` rows for new streams (``inserts``), rows written
        whole again (``rewrites``) and rows whose stored fields changed (``updates``);
        index ``contents``; move the total by the rows inserted and ``dropped``."""
        if inserts or rewrites:
            conn.executemany(self._insert, [stored_values(s) for s in (*inserts, *rewrites)])
        if updates:
            conn.executemany(self._update, [(*stored_values(s)[1:-1], s.stream_id)
                                            for s in updates])
        fresh = {s.stream_id for s in inserts}
        for stream_id, text in contents.items():
            row = conn.execute(f"SELECT id FROM {self.t_summaries} WHERE stream_id = ?",
                               (stream_id,)).fetchone()
            if row is None:
                continue
            if stream_id not in fresh:
                conn.execute(f"DELETE FROM {self.t_texts} WHERE rowid = ?", (row[0],))
            conn.execute(f"INSERT INTO {self.t_texts} (rowid, content) VALUES (?, ?)",
                         (row[0], text))
        if len(inserts) != dropped:
            conn.execute(f"UPDATE {self.t_catalog} SET value = value + ? WHERE key = 'total'",
                         (len(inserts) - dropped,))

    def set_built(self, conn: sqlite3.Connection) -> None:
        """Every stream has its summary: mark the catalog complete.

        ``total`` needs no recount: it moves with every row written or deleted."""
        conn.execute(f"UPDATE {self.t_catalog} SET value = 1 WHERE key = 'built'")

    def orphans(self, conn: sqlite3.Connection) -> list[str]:
        """Summaries whose stream is gone (deleted by a writer that kept no catalog)."""
        return [r[0] for r in conn.execute(
            f"SELECT stream_id FROM {self.t_summaries} s WHERE NOT EXISTS (SELECT 1 FROM "
            f"{self.t_streams} t WHERE t.stream_id = s.stream_id AND t.last_seq >= 0)")]

    # ── reading ──

    def _match(self, words: list[str]) -> str | None:
        """The FTS5 query of the words the trigram index can find (3+ characters)."""
        indexed = [w for w in words if len(w) >= 3] if self.fts else []
        return " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed) or None

    def _text(self, words: list[str]) -> tuple[str, list[Any]]:
        """Start from the FTS index's matches, re-checked word by word."""
        words = search_words(words)
        checks = " AND ".join("instr(content, ?) > 0" for _ in words)
        match = self._match(words)
        if match is None:
            return (f"s.id IN (SELECT rowid FROM {self.t_texts} WHERE {checks})", words)
        return (f"s.id IN (SELECT rowid FROM {self.t_texts} WHERE {self.t_texts} MATCH ? "
                f"AND {checks})", [match, *words])

    def _text_per_row(self, words: list[str]) -> tuple[str, list[Any]]:
        """Look at each row's content (when the matches are many, or another condition
        has already narrowed the rows down)."""
        words = search_words(words)
        checks = " AND ".join("instr(x.content, ?) > 0" for _ in words)
        return (f"EXISTS (SELECT 1 FROM {self.t_texts} x WHERE x.rowid = s.id AND {checks})",
                words)

    def _text_candidates(self, flt: SummaryFilter) -> tuple[str, list[Any]] | None:
        words = search_words(text_words(flt.text or ""))
        match = self._match(words)
        if match is None:
            return None
        return f"SELECT rowid FROM {self.t_texts} WHERE {self.t_texts} MATCH ?", [match]

    def _where(self, flt: SummaryFilter, cutoff: float | None,
               plan: Plan | None = None) -> tuple[list[str], list[Any]]:
        plan = plan or Plan()
        text = self._text_per_row if plan.text_per_row else self._text
        where, params = filter_sql(flt, _DIALECT, text, plan.keyless)
        if cutoff is not None:
            where.append("t.touched_ms >= ?")
            params.append(cutoff)
        return where, params

    def get(self, conn: sqlite3.Connection, stream_id: str,
            cutoff: float | None) -> StreamSummary | None:
        if cutoff is None:
            row = conn.execute(self._select_one, (stream_id,)).fetchone()
        else:
            row = conn.execute(self._select_one + " AND t.touched_ms >= ?",
                               (stream_id, cutoff)).fetchone()
        return None if row is None else row_summary(row)

    def query(self, conn: sqlite3.Connection, query: SummaryQuery,
              cutoff: float | None) -> list[StreamSummary]:
        """``limit + 1`` rows of ``query`` (the extra one says whether a page follows)."""
        plan = choose_plan(conn, query, self.counter(conn, "total"), self.t_summaries,
                           _DIALECT, self._text, self._text_candidates(query.filter))
        where, params = self._where(query.filter, cutoff, plan)
        sql, values = select_page(query, _DIALECT, self.source, where, params)
        return row_summaries(conn.execute(sql, values).fetchall())

    def count(self, conn: sqlite3.Connection, flt: SummaryFilter, cutoff: float | None) -> int:
        if flt.is_empty() and cutoff is None:
            return self.counter(conn, "total")
        where, params = self._where(flt, cutoff)
        # The streams row is joined only when a condition reads it: a count is an
        # index walk of ``summaries`` alone otherwise.
        live = cutoff is not None or any(c.field in LIVE_COLUMNS for c in flt.comparisons)
        source = self.source if live else f"{self.t_summaries} s"
        sql = f"SELECT count(*) FROM {source}" + (
            f" WHERE {' AND '.join(where)}" if where else "")
        return int(conn.execute(sql, params).fetchone()[0])

    def content(self, conn: sqlite3.Connection, stream_id: str) -> str | None:
        """The indexed (case-folded) content of ``stream_id``; None while it runs."""
        row = conn.execute(f"SELECT t.content FROM {self.t_texts} t JOIN {self.t_summaries} s "
                           "ON s.id = t.rowid WHERE s.stream_id = ?", (stream_id,)).fetchone()
        return None if row is None else str(row[0])
