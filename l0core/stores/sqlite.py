"""``SQLiteEventStore``: many streams in one SQLite file (stdlib ``sqlite3``, WAL).

Tables (``<prefix>_`` in front of each name): ``streams(stream_id PK, last_seq,
touched_ms)``, ``events(stream_id, seq, body)`` keyed by ``(stream_id, seq)``
without a rowid, ``snapshots(stream_id, seq, body)``. ``body`` is the event's wire
JSON (the spec's camelCase), so the file can be queried with SQLite's JSON
functions.

Every write goes through one writer thread per store. It drains whatever appends
are queued (from any task or thread) into a single ``BEGIN IMMEDIATE``
transaction, one ``SAVEPOINT`` per request so a conflicting or failing request
does not take its neighbours down: group commit. ``expected_seq`` is checked
inside that transaction against ``streams.last_seq``, which makes seqs correct
across processes too (``busy_timeout`` queues them). Readers use their own
connections, one per worker thread, so reads never wait for the writer.

``durability``: ``"os"`` and ``"group"`` (default) run ``synchronous=NORMAL``
(a commit survives the process dying; a power cut may lose the last
transactions), ``"fsync"`` runs ``synchronous=FULL``.

The catalog (:mod:`l0core.stores.sqlite_catalog`): each stream's summary is advanced
from the events being appended and written in the same transaction, once per stream
per group; an ended stream's final content goes into an FTS5 index.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, cast
from urllib.parse import quote

import orjson

from l0core import gcpolicy
from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery
from l0core.catalog.scan import Progress
from l0core.catalog.summary import StreamSummary, final_content
from l0core.codec import decode_event, decode_snapshot, encode_snapshot
from l0core.errors import (
    CorruptionError,
    EventValidationError,
    L0Error,
    StoreClosedError,
    StoreConfigError,
    StoreConnectionError,
)
from l0core.events import (
    EventEnvelope,
    JSONDict,
    RecordedEvent,
    Snapshot,
    TokenEvent,
    validate_stream_id,
)
from l0core.stores.base import BaseEventStoreWithSnapshots, Clock, StorageAdapterConfig
from l0core.stores.batch_summary import TOKENS, advance, kinds_of
from l0core.stores.catalog_sql import (
    SELECT_SUMMARY,
    live_values,
    page_of,
    row_summary,
    stored_key,
)
from l0core.stores.catalog_text import content_from_batch, content_needed, searchable
from l0core.stores.options import Durability, choose_durability
from l0core.stores.sqlite_catalog import SQLiteCatalog
from l0core.stores.sqlite_group import GroupState
from l0core.stores.urls import path_from_url
from l0core.stores.verify import StreamCheck, VerifyReport

MAX_GROUP = 512
"""Most requests one transaction takes from the queue."""
BUILD_CHUNK = 200
"""Streams summarised per write transaction by :meth:`SQLiteEventStore.build_catalog`."""
CACHE_STREAMS = 4096
"""Streams whose last seq and summary the writer remembers between transactions."""
CATALOG_POLL = 0.1
"""Seconds between looks at the catalog version while waiting for a change."""


@dataclass(slots=True)
class _Request:
    run: Callable[[sqlite3.Connection], Any]
    loop: asyncio.AbstractEventLoop | None
    future: Any
    """The caller's asyncio future, settled on ``loop``."""


@dataclass(slots=True)
class _Writer:
    thread: threading.Thread
    requests: queue.SimpleQueue[_Request | None] = field(default_factory=queue.SimpleQueue)


class SQLiteEventStore(BaseEventStoreWithSnapshots):
    """Events, streams and snapshots in one SQLite database file."""

    def __init__(
        self,
        config: StorageAdapterConfig | str | os.PathLike[str] | None = None,
        *,
        durability: Durability | None = None,
        prefix: str | None = None,
        ttl: int | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
        busy_timeout: float = 30.0,
        sweep_interval: float = 60.0,
    ) -> None:
        if config is None:
            config = "l0-events.db"
        if not isinstance(config, StorageAdapterConfig):
            config = StorageAdapterConfig(type="sqlite", connection=os.fspath(config))
        super().__init__(config, prefix=prefix, ttl=ttl, clock=clock, read_only=read_only)
        raw = path_from_url(config.connection or "l0-events.db", "sqlite")
        raw, _, qs = raw.partition("?")
        self.path = os.path.abspath(raw)
        self.durability = choose_durability(durability, qs, config.options)
        self.busy_timeout = busy_timeout
        self.sweep_interval = sweep_interval
        p = self.prefix
        self._t_streams, self._t_events, self._t_snaps = f"{p}_streams", f"{p}_events", \
            f"{p}_snapshots"
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._writer: _Writer | None = None
        self._writer_lock = threading.Lock()
        self._last_sweep = 0.0
        self._g = GroupState()
        """The streams of the writer's current transaction (writer thread only)."""
        self._writer_version = -1
        """``PRAGMA data_version`` of the writer's connection at its last transaction."""
        self._catalog = SQLiteCatalog(p, self._t_streams, self._t_events)
        self._touch_sql = (
            f"SELECT t.last_seq, t.touched_ms, {SELECT_SUMMARY} FROM (SELECT ? AS sid) k "
            f"LEFT JOIN {self._t_streams} t ON t.stream_id = k.sid "
            f"LEFT JOIN {self._catalog.t_summaries} s ON s.stream_id = k.sid")
        self._wait_version: int | None = None
        self._version_conn: sqlite3.Connection | None = None
        self._version_lock = threading.Lock()
        self.keeps_summaries = False
        if os.path.isdir(self.path):
            raise StoreConfigError(f"{self.describe()}: is a directory, not an SQLite database "
                                   "file (a directory is a file store: drop the sqlite:// "
                                   "scheme)")
        if self.read_only:
            if not os.path.isfile(self.path):
                raise StoreConfigError(f"{self.path} does not exist (opened read-only)")
            if os.path.getsize(self.path) == 0:
                raise StoreConfigError(f"{self.describe()}: is an empty file, not an SQLite "
                                       "database")
            try:
                self._has_tables = self._tables_exist()
                self.keeps_summaries = self._has_tables and self._catalog_built(self._reader())
            except sqlite3.Error as exc:
                raise StoreConfigError(f"{self.describe()}: {_sqlite_problem(exc)}") from None
        else:
            try:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                conn = self._connect()
                try:
                    self._check_foreign(conn)
                    self._create_schema(conn)
                    self._catalog.create(conn)
                    self.keeps_summaries = self._catalog_built(conn)
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                raise StoreConfigError(f"cannot open SQLite store {self.path}: "
                                       f"{_sqlite_problem(exc)}") from None
            except OSError as exc:
                raise StoreConfigError(f"cannot open SQLite store {self.path}: {exc}") from exc
            self._has_tables = True

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    # ── connections ──

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            uri = f"file:{quote(self.path)}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout,
                                   isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            sync = "FULL" if self.durability == "fsync" else "NORMAL"
            conn.execute(f"PRAGMA synchronous={sync}")
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        return conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.executescript(f"""
            CREATE TABLE IF NOT EXISTS {self._t_streams} (
                stream_id TEXT PRIMARY KEY,
                last_seq INTEGER NOT NULL,
                touched_ms REAL NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {self._t_events} (
                stream_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (stream_id, seq)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS {self._t_snaps} (
                stream_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (stream_id, seq)
            ) WITHOUT ROWID;
        """)

    def _catalog_built(self, conn: sqlite3.Connection) -> bool:
        """The catalog tables exist and hold every stream's summary."""
        return self._catalog.exists(conn) and self._catalog.counter(conn, "built") == 1

    def _tables_exist(self) -> bool:
        conn = self._reader()
        self._check_foreign(conn)
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name IN "
                            "(?, ?, ?)", (self._t_streams, self._t_events, self._t_snaps))
        return len(rows.fetchall()) == 3

    def _check_foreign(self, conn: sqlite3.Connection) -> None:
        """Refuse tables of our names that lack our columns: never write into another's table."""
        wanted = {self._t_streams: {"stream_id", "last_seq", "touched_ms"},
                  self._t_events: {"stream_id", "seq", "body"},
                  self._t_snaps: {"stream_id", "seq", "body"},
                  **self._catalog.foreign_columns()}
        for table, columns in wanted.items():
            have = {str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")}
            if have and not columns <= have:
                raise StoreConfigError(
                    f"{self.describe()}: table {table}({', '.join(sorted(have))}) was not "
                    f"created by l0core; nothing was changed (choose another prefix)")

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreClosedError("SQLiteEventStore is closed")
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``fn`` on a reader thread's connection. A caller that stops waiting (a
        browser count superseded by the next filter) interrupts the statement, so a
        long scan nobody wants stops taking a core."""
        used: list[sqlite3.Connection] = []

        def run() -> Any:
            if not self._has_tables:
                return None
            try:
                conn = self._reader()
                used.append(conn)
                return fn(conn)
            except sqlite3.Error as exc:
                raise _sqlite_error(exc, self.describe()) from None
            finally:
                used.clear()
        try:
            return await asyncio.to_thread(run)
        except asyncio.CancelledError:
            for conn in tuple(used):
                conn.interrupt()
            raise

    # ── the writer thread ──

    def _ensure_writer(self) -> _Writer:
        w = self._writer
        if w is None:
            with self._writer_lock:
                w = self._writer
                if w is None:
                    if self._closed:
                        raise StoreClosedError("SQLiteEventStore is closed")
                    t = threading.Thread(target=self._write_loop, name="l0-sqlite-writer",
                                         daemon=True)
                    w = self._writer = _Writer(t)
                    t.start()
        return w

    async def _submit(self, run: Callable[[sqlite3.Connection], Any]) -> Any:
        self._check_writable()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._ensure_writer().requests.put(_Request(run, loop, fut))
        try:
            return await fut
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.describe()) from None

    def _write_loop(self) -> None:
        assert self._writer is not None
        requests = self._writer.requests
        conn = self._connect()
        try:
            while True:
                first = requests.get()
                if first is None:
                    return
                group = [first]
                stop = False
                while len(group) < MAX_GROUP:
                    try:
                        nxt = requests.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    group.append(nxt)
                self._commit_group(conn, group)
                if stop:
                    return
        finally:
            conn.close()

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Request]) -> None:
        results: list[tuple[bool, Any]] = []
        g = self._g
        committed = False
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._revalidate_cache(conn)
            try:
                if len(group) == 1:  # no neighbours to protect: skip the savepoint
                    try:
                        results.append((True, group[0].run(conn)))
                    except Exception as exc:
                        conn.execute("ROLLBACK")
                        results.append((False, exc))
                for req in group if len(group) > 1 else ():
                    conn.execute("SAVEPOINT req")
                    mark = g.mark()
                    try:
                        value = req.run(conn)
                    except Exception as exc:
                        conn.execute("ROLLBACK TO req")
                        conn.execute("RELEASE req")
                        g.undo(mark)
                        results.append((False, exc))
                    else:
                        conn.execute("RELEASE req")
                        results.append((True, value))
                if conn.in_transaction:
                    self._write_stream_rows(conn)
                    self._maybe_sweep(conn)
                    self._write_stream_rows(conn)  # the catalog rows the sweep deleted
                    conn.execute("COMMIT")
                    committed = True
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except Exception as exc:
            results = [(False, exc)] * len(group)
        finally:
            if not committed:
                g.clear()  # what it remembers may never have reached the database
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Request, bool, Any]]] = {}
        for req, (ok, value) in zip(group, results, strict=True):
            if req.loop is not None:
                by_loop.setdefault(req.loop, []).append((req, ok, value))
        for loop, items in by_loop.items():  # one wake-up per event loop, not per request
            try:
                loop.call_soon_threadsafe(_settle_all, items)
            except RuntimeError:
                pass  # that loop has closed; nobody is waiting any more

    def _revalidate_cache(self, conn: sqlite3.Connection) -> None:
        """Keep what the writer remembers of the streams from its earlier transactions
        only if no other connection has committed since (``PRAGMA data_version`` of
        this connection moves exactly then; the write lock is held, so nobody can
        commit until this transaction ends). Then a hot stream costs no read per append.
        """
        g = self._g
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._writer_version or self.ttl > 0 or len(g.last) > CACHE_STREAMS:
            g.clear()  # with a TTL, expiry is checked on every first touch instead
        self._writer_version = version
        g.begin()

    # ── writing ──

    def _touch_stream(self, conn: sqlite3.Connection, stream_id: str) -> int:
        """The stream's last seq inside the transaction (dropping it first if it expired).

        Within one group the answer, and the stream's summary, are remembered: the
        transaction holds the write lock, so nobody else can change them meanwhile.
        """
        g = self._g
        cached = g.last.get(stream_id)
        if cached is not None:
            return cached
        row = conn.execute(self._touch_sql, (stream_id,)).fetchone()
        summary = None
        if row[2] is not None and row[7] is not None and row[0] is not None:
            summary = row_summary(row[2:])
            if summary.event_count != row[0] + 1:
                summary = None  # moved by a writer that keeps no summaries: fold again
        # stored: None without a row; () for a row to write whole; else what it holds
        g.put(g.stored, stream_id, None if row[2] is None else (
            () if summary is None else stored_key(summary)))
        if row[0] is None:  # no stream (a summary without one is overwritten)
            g.put(g.summary, stream_id, None)
            g.put(g.last, stream_id, -1)
            return -1
        g.put(g.summary, stream_id, summary)
        if self.ttl > 0 and self.is_expired(row[1]):
            self._drop(conn, stream_id)
            return -1
        g.put(g.last, stream_id, int(row[0]))
        return int(row[0])

    def _drop(self, conn: sqlite3.Connection, stream_id: str) -> None:
        for table in (self._t_events, self._t_snaps, self._t_streams):
            conn.execute(f"DELETE FROM {table} WHERE stream_id = ?", (stream_id,))
        g = self._g
        g.add("dropped", self._catalog.drop(conn, stream_id))
        g.put(g.stored, stream_id, None)
        g.put(g.summary, stream_id, None)
        g.put(g.last, stream_id, -1)
        g.remove(g.dirty, stream_id)
        g.remove(g.content, stream_id)

    def _write_stream_rows(self, conn: sqlite3.Connection) -> None:
        """One ``streams`` and one ``summaries`` row per stream the group appended to."""
        g = self._g
        if not g.dirty and not g.counts["dropped"]:
            return
        now = self.clock()
        inserts, rewrites, updates = [], [], []
        if g.dirty:
            conn.executemany(
                f"INSERT INTO {self._t_streams} (stream_id, last_seq, touched_ms, last_ts, "
                "duration_ms, event_count, token_count) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(stream_id) DO UPDATE SET last_seq = excluded.last_seq, "
                "touched_ms = excluded.touched_ms, last_ts = excluded.last_ts, "
                "duration_ms = excluded.duration_ms, event_count = excluded.event_count, "
                "token_count = excluded.token_count",
                [(sid, g.last[sid], now, *live_values(g.summary.get(sid))) for sid in g.dirty],
            )
            stored = g.stored
            for sid in g.moved:
                summary = g.summary.get(sid)
                if summary is None:
                    continue
                key = stored_key(summary)
                old = stored.get(sid)
                if old is None:
                    inserts.append(summary)
                elif not old:
                    rewrites.append(summary)
                elif key != old:
                    updates.append(summary)
                stored[sid] = key  # what the row holds now, for the next transaction
        if inserts or rewrites or updates or g.content or g.counts["dropped"]:
            self._catalog.write(conn, inserts, rewrites, updates, g.content,
                                g.counts["dropped"])
        g.begin()

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        bodies = [orjson.dumps(e).decode() for e in events]

        def run(conn: sqlite3.Connection) -> int:
            g = self._g
            last = self._touch_stream(conn, stream_id)
            self._check_expected(stream_id, expected_seq, last)
            summary = g.summary.get(stream_id)
            before: str | None = None
            if summary is None and last >= 0:  # written before the catalog: fold it once
                summary, before = self._catalog.fold(conn, stream_id, last)
            elif summary is None:
                summary = StreamSummary(stream_id=stream_id)
            insert = f"INSERT INTO {self._t_events} (stream_id, seq, body) VALUES (?, ?, ?)"
            if len(bodies) == 1:
                conn.execute(insert, (stream_id, last + 1, bodies[0]))
            else:
                conn.executemany(insert, [(stream_id, last + 1 + i, body)
                                          for i, body in enumerate(bodies)])
            kinds = kinds_of(events)
            if content_needed(summary.status, kinds):
                text = content_from_batch(events)
                if text is None:
                    if before is None:
                        before = self._catalog.content_before(conn, stream_id, last)
                    text = final_content(events, before)
                g.put(g.content, stream_id, searchable(text))
            new_last = last + len(bodies)
            g.put(g.last, stream_id, new_last)
            g.put(g.summary, stream_id, summary)
            g.put(g.dirty, stream_id, None)
            if kinds != TOKENS or summary.status != "running" or not g.stored.get(stream_id):
                g.put(g.moved, stream_id, None)
            # Last, and in place: nothing after it can fail, so a request that fails
            # (and is undone to its savepoint) never changed the summary it shares.
            advance(summary, events, kinds)
            return new_last

        return cast(int, await self._submit(run))

    async def delete(self, stream_id: str) -> None:
        validate_stream_id(stream_id)
        await self._submit(lambda conn: self._drop(conn, stream_id))

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        body = orjson.dumps(encode_snapshot(snapshot)).decode()

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(f"INSERT OR REPLACE INTO {self._t_snaps} (stream_id, seq, body) "
                         "VALUES (?, ?, ?)", (snapshot.stream_id, snapshot.seq, body))

        await self._submit(run)

    def _maybe_sweep(self, conn: sqlite3.Connection) -> None:
        """Delete expired streams, at most every ``sweep_interval`` seconds (writer only)."""
        if self.ttl <= 0:
            return
        now = self.clock()
        if now - self._last_sweep < self.sweep_interval * 1000:
            return
        self._last_sweep = now
        cutoff = now - self.ttl
        expired = [r[0] for r in conn.execute(
            f"SELECT stream_id FROM {self._t_streams} WHERE touched_ms < ?", (cutoff,))]
        for sid in expired:
            self._drop(conn, sid)

    async def sweep(self) -> None:
        """Delete every expired stream now."""
        self._last_sweep = float("-inf")
        await self._submit(lambda conn: None)

    # ── reading ──

    def _live_last(self, conn: sqlite3.Connection, stream_id: str) -> int:
        """The stream's last seq, or -1 if it does not exist or has expired."""
        row = conn.execute(f"SELECT last_seq, touched_ms FROM {self._t_streams} "
                           "WHERE stream_id = ?", (stream_id,)).fetchone()
        if row is None or (self.ttl > 0 and self.is_expired(row[1])):
            return -1
        return int(row[0])

    def _decode_rows(self, stream_id: str, rows: list[tuple[int, str]]) -> list[EventEnvelope]:
        if not rows:
            return []
        try:
            with gcpolicy.paused():
                items = orjson.loads("[" + ",".join([r[1] for r in rows]) + "]")
                return [EventEnvelope(stream_id, r[0], _decode_body(item))
                        for r, item in zip(rows, items, strict=True)]
        except (orjson.JSONDecodeError, EventValidationError, ValueError):
            pass
        out = []
        for seq, body in rows:  # find the bad row, to name it
            try:
                out.append(EventEnvelope(stream_id, seq, decode_event(orjson.loads(body))))
            except (orjson.JSONDecodeError, EventValidationError) as exc:
                raise CorruptionError(f"stream {stream_id!r} seq {seq}: {exc}",
                                      path=self.path) from None
        return out

    def _range_sync(self, conn: sqlite3.Connection, stream_id: str, from_seq: int,
                    to_seq: int | None, limit: int = -1) -> list[EventEnvelope]:
        last = self._live_last(conn, stream_id)
        if last < 0:
            return []
        hi = last if to_seq is None else min(last, to_seq)
        rows = conn.execute(
            f"SELECT seq, body FROM {self._t_events} WHERE stream_id = ? AND seq BETWEEN ? AND ?"
            " ORDER BY seq LIMIT ?", (stream_id, max(0, from_seq), hi, limit)).fetchall()
        return self._decode_rows(stream_id, rows)

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        return await self.read_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        got = await self._read(lambda c: self._range_sync(c, stream_id, from_seq, to_seq))
        return got or []

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        validate_stream_id(stream_id)
        nxt = max(0, from_seq)
        size = max(1, batch_size)
        while True:
            batch = await self._read(partial(self._range_sync, stream_id=stream_id,
                                             from_seq=nxt, to_seq=None, limit=size))
            if not batch:
                return
            yield batch
            nxt = batch[-1].seq + 1

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)

        def run(conn: sqlite3.Connection) -> EventEnvelope | None:
            last = self._live_last(conn, stream_id)
            got = self._range_sync(conn, stream_id, last, last) if last >= 0 else []
            return got[0] if got else None

        return cast(EventEnvelope | None, await self._read(run))

    async def get_last_seq(self, stream_id: str) -> int:
        validate_stream_id(stream_id)
        got = await self._read(lambda c: self._live_last(c, stream_id))
        return -1 if got is None else cast(int, got)

    async def exists(self, stream_id: str) -> bool:
        return await self.get_last_seq(stream_id) >= 0

    async def list_streams(self) -> list[str]:
        def run(conn: sqlite3.Connection) -> list[str]:
            if self.ttl > 0:
                cur = conn.execute(f"SELECT stream_id FROM {self._t_streams} WHERE last_seq >= 0 "
                                   "AND touched_ms >= ? ORDER BY stream_id",
                                   (self.clock() - self.ttl,))
            else:
                cur = conn.execute(f"SELECT stream_id FROM {self._t_streams} WHERE last_seq >= 0 "
                                   "ORDER BY stream_id")
            return [r[0] for r in cur]

        return cast(list[str], await self._read(run) or [])

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)

        def run(conn: sqlite3.Connection) -> list[Snapshot]:
            if self.ttl > 0 and self._live_last(conn, stream_id) < 0:
                return []
            rows = conn.execute(f"SELECT seq, body FROM {self._t_snaps} WHERE stream_id = ? "
                                "ORDER BY seq", (stream_id,)).fetchall()
            out = []
            for seq, body in rows:
                try:
                    out.append(decode_snapshot(orjson.loads(body)))
                except (orjson.JSONDecodeError, EventValidationError) as exc:
                    raise CorruptionError(f"snapshot of {stream_id!r} at seq {seq}: {exc}",
                                          path=self.path) from None
            return out

        return cast(list[Snapshot], await self._read(run) or [])

    # ── the catalog (docs/format.md, "The catalog") ──

    def _cutoff(self) -> float | None:
        """Summaries of streams touched before this are expired (None without TTL)."""
        return self.clock() - self.ttl if self.ttl > 0 else None

    async def _summaries_ready(self) -> bool:
        """True when the summary tables answer; a writable store builds them first."""
        if self.keeps_summaries:
            return True
        if self.read_only or not self._has_tables:
            return False
        await self.build_catalog()
        return True

    async def prepare_catalog(self, progress: Progress | None = None) -> None:
        """A database written before the catalog: build its summaries (writable) or
        scan it (read-only)."""
        if self.keeps_summaries:
            return
        if not self.read_only:
            await self.build_catalog(progress)
            return
        await super().prepare_catalog(progress)

    async def refresh_catalog(self, progress: Progress | None = None) -> None:
        if not self.keeps_summaries and self._has_tables and await self._read(
                self._catalog_built):
            self.keeps_summaries = True  # another process built the summaries meanwhile
            return
        await super().refresh_catalog(progress)

    async def get_summary(self, stream_id: str) -> StreamSummary | None:
        validate_stream_id(stream_id)
        if not await self._summaries_ready():
            return await super().get_summary(stream_id)
        cutoff = self._cutoff()
        return cast(StreamSummary | None,
                    await self._read(lambda c: self._catalog.get(c, stream_id, cutoff)))

    async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
        if not await self._summaries_ready():
            return await super().query_summaries(query)
        cutoff = self._cutoff()
        rows = await self._read(lambda c: self._catalog.query(c, query, cutoff))
        return page_of(rows or [], query)

    async def count_summaries(self, flt: SummaryFilter | None = None) -> int:
        if not await self._summaries_ready():
            return await super().count_summaries(flt)
        cutoff = self._cutoff()
        got = await self._read(lambda c: self._catalog.count(c, flt or SummaryFilter(), cutoff))
        return int(got or 0)

    async def catalog_version(self) -> object:
        """``PRAGMA data_version`` of a connection kept for it: it moves whenever any
        other connection, in any process, commits (this store's writer included)."""
        if not self.keeps_summaries:
            return None

        def run() -> int:
            with self._version_lock:
                conn = self._version_conn
                if conn is None:
                    if self._closed:
                        raise StoreClosedError("SQLiteEventStore is closed")
                    conn = self._version_conn = self._connect()
                return int(conn.execute("PRAGMA data_version").fetchone()[0])

        try:
            return await asyncio.to_thread(run)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.describe()) from None

    async def wait_catalog_change(self, timeout: float) -> None:
        """Polls the version (SQLite has no wake-up across processes)."""
        if not self.keeps_summaries:
            await super().wait_catalog_change(timeout)
            return
        deadline = time.monotonic() + timeout
        start = await self.catalog_version()
        seen, self._wait_version = self._wait_version, cast(int, start)
        if seen is not None and start != seen:
            return  # changed since the last wait returned
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(CATALOG_POLL, left))
            now = await self.catalog_version()
            if now != start:
                self._wait_version = cast(int, now)
                return

    async def build_catalog(self, progress: Progress | None = None) -> int:
        """Write every stream's summary and content index again from its events.

        Runs in write transactions of :data:`BUILD_CHUNK` streams, between other
        appends; reports ``progress(done, total)``. Returns how many streams it
        summarised. Also used by ``l0tui index``: on an up-to-date database it
        rewrites the same rows.
        """
        self._check_writable()
        total = int(await self._read(lambda c: c.execute(
            f"SELECT count(*) FROM {self._t_streams} WHERE last_seq >= 0").fetchone()[0]) or 0)
        done, after = 0, ""
        if progress is not None:
            progress(0, total)
        while True:
            n, after = cast(tuple[int, str], await self._submit(
                partial(self._build_chunk, after=after)))
            if not n:
                break
            done += n
            if progress is not None:
                progress(done, max(done, total))
        await self._submit(self._finish_build)
        self.keeps_summaries = True
        return done

    def _build_chunk(self, conn: sqlite3.Connection, after: str) -> tuple[int, str]:
        ids = [r[0] for r in conn.execute(
            f"SELECT stream_id FROM {self._t_streams} WHERE stream_id > ? AND last_seq >= 0 "
            "ORDER BY stream_id LIMIT ?", (after, BUILD_CHUNK))]
        g = self._g
        for sid in ids:
            last = self._touch_stream(conn, sid)
            if last < 0:
                continue  # expired: dropped, summary and all
            summary, content = self._catalog.fold(conn, sid, last)
            if g.stored.get(sid) is not None:
                g.put(g.stored, sid, ())  # rewritten whole: a repair
            g.put(g.summary, sid, summary)
            g.put(g.dirty, sid, None)
            g.put(g.moved, sid, None)
            if summary.status != "running":
                g.put(g.content, sid, searchable(content))
        return len(ids), ids[-1] if ids else after

    def _finish_build(self, conn: sqlite3.Connection) -> None:
        for sid in self._catalog.orphans(conn):
            self._g.add("dropped", self._catalog.drop(conn, sid))
        self._catalog.set_built(conn)

    # ── checking ──

    def _verify_sync(self) -> VerifyReport:
        report = VerifyReport(store=self.describe())
        if not self._has_tables:
            report.notes.append("no l0 tables in this database")
            return report
        conn = self._reader()
        problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            report.notes.append("SQLite quick_check: " + "; ".join(problems[:5]))
        streams = conn.execute(f"SELECT stream_id, last_seq FROM {self._t_streams} "
                               "ORDER BY stream_id").fetchall()
        for sid, last in streams:
            count, lo, hi = conn.execute(
                f"SELECT count(*), min(seq), max(seq) FROM {self._t_events} WHERE stream_id = ?",
                (sid,)).fetchone()
            status: Literal["ok", "corrupt"] = "ok"
            detail = ""
            if count != last + 1 or (count and (lo != 0 or hi != last)):
                status, detail = "corrupt", (f"streams.last_seq is {last} but the events table "
                                             f"has {count} rows, seqs {lo}..{hi}")
            else:
                try:
                    seq = 0
                    while seq <= last:
                        seq += len(self._range_sync(conn, sid, seq, None, 20_000)) or last + 1
                except CorruptionError as exc:
                    status, detail = "corrupt", str(exc)
            report.streams.append(StreamCheck(sid, self.path, status, int(count), detail))
        return report

    async def verify(self, *, repair: bool = False) -> VerifyReport:
        """Check the database and every stream (SQLite commits atomically: no torn tails)."""
        if repair:
            self._check_writable()
        try:
            return cast(VerifyReport, await asyncio.to_thread(self._verify_sync))
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.describe()) from None

    # ── lifecycle ──

    async def close(self) -> None:
        if self._closed:
            return
        await super().close()
        w = self._writer
        if w is not None:
            w.requests.put(None)
            await asyncio.to_thread(w.thread.join)
        with self._version_lock:
            if self._version_conn is not None:
                readers = [self._version_conn]
                self._version_conn = None
            else:
                readers = []
        with self._readers_lock:
            readers, self._readers = readers + self._readers, []
        for conn in readers:
            try:
                conn.close()
            except sqlite3.Error:
                pass


def _sqlite_problem(exc: sqlite3.Error) -> str:
    """sqlite3's message, with the reason it leaves out when a file cannot be opened."""
    text = str(exc) or type(exc).__name__
    if "unable to open" in text:
        text += " (missing, unreadable or not permitted)"
    return text


def _sqlite_error(exc: sqlite3.Error, where: str) -> L0Error:
    """An sqlite3 failure as one of ours: damage is corruption, the rest a refusal."""
    text = _sqlite_problem(exc)
    if "malformed" in text or "not a database" in text:
        return CorruptionError(text, path=where)
    return StoreConnectionError(f"{where}: {text}")


def _decode_body(ev: Any) -> RecordedEvent:
    """A stored event: well-formed tokens built directly, everything else by the codec."""
    if type(ev) is dict and len(ev) == 4 and ev.get("type") == "TOKEN":
        ts = ev.get("ts")
        value = ev.get("value")
        index = ev.get("index")
        # orjson never yields NaN or infinity, so any float here is finite.
        if type(value) is str and type(index) is int and (type(ts) is float
                                                          or type(ts) is int):
            return TokenEvent(ts=ts, value=value, index=index)
    return decode_event(ev)


def _settle_all(items: list[tuple[_Request, bool, Any]]) -> None:
    for req, ok, value in items:
        fut = req.future
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


def open_store(config: StorageAdapterConfig) -> SQLiteEventStore:
    """Registry entry for ``sqlite:///path.db`` (or a path ending in .db/.sqlite)."""
    return SQLiteEventStore(config)
