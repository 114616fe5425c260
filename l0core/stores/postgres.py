"""``PostgresEventStore``: streams in PostgreSQL, for recordings from many machines.

Layout (``<prefix>`` is validated as an identifier and always quoted with
:class:`psycopg.sql.Identifier`, never pasted into SQL):

- ``<prefix>_streams(stream_id PK, last_seq, expires_at_ms NULL)``: one row per
  stream. Appends lock it, so writers of one stream queue up while writers of
  other streams never wait for each other.
- ``<prefix>_events(stream_id, seq, event json, batch_id NULL, PK(stream_id, seq))``:
  the wire events verbatim (``json`` keeps the text exactly, ``\\u0000`` included,
  which ``jsonb`` refuses).
- ``<prefix>_snapshots(stream_id, seq, data json, PK(stream_id, seq))``: every snapshot.
- ``<prefix>_migrations(version PK, ...)``: the schema version, so later releases
  can migrate tables in place.

An append is ONE round trip: ``SELECT * FROM <prefix>_append(...)``, a PL/pgSQL
function that locks the stream row, checks ``expected_seq``, inserts every event
of the batch from one JSON array, moves ``last_seq`` and refreshes the expiry, and
sends ``pg_notify`` for live followers. The last event of each batch carries a
client-made batch id, so when the connection drops after the server committed but
before the reply arrived, the retry finds the batch and returns its seq instead of
writing it twice.

TTL: ``expires_at_ms = clock() + ttl`` at each append (the store's clock, so tests
can inject one); reads hide expired streams, and a sweeper task deletes them.

The catalog (schema version 2, :mod:`l0core.stores.postgres_catalog`): the append
function also keeps the stream's summary, from the batch folded here on its own, in
the same transaction under the same row lock; queries run against its indexes and
``LISTEN`` wakes :meth:`PostgresEventStore.wait_catalog_change`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar, cast

import orjson
import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery
from l0core.catalog.scan import Progress
from l0core.catalog.summary import StreamSummary
from l0core.codec import decode_event, decode_snapshot, dumps, encode_snapshot, loads
from l0core.errors import (
    ConcurrencyConflictError,
    StoreClosedError,
    StoreConfigError,
    StoreConnectionError,
)
from l0core.events import EventEnvelope, JSONDict, Snapshot, validate_stream_id
from l0core.stores.base import (
    BaseEventStore,
    BaseEventStoreWithSnapshots,
    Clock,
    StorageAdapterConfig,
    validate_prefix,
)
from l0core.stores.catalog_sql import page_of
from l0core.stores.catalog_text import RESET_KINDS
from l0core.stores.layouts import (
    ForeignLayoutError,
    choose_layout,
    foreign_refusal,
    open_own_or_spec,
    spec_refusal,
)
from l0core.stores.options import float_option, int_option
from l0core.stores.postgres_catalog import (
    NEEDS_CONTENT,
    NEEDS_SUMMARY,
    PostgresCatalog,
    append_params,
    call_args,
)
from l0core.stores.postgres_layout import PrefixContents, inspect_prefix
from l0core.stores.postgres_stats import analyze_stale, autovacuum_on
from l0core.stores.urls import mask_secrets, split_url_options

__all__ = ["PostgresEventStore", "create_postgres_event_store", "open_store"]

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]

SCHEMA_VERSION = 2
BUILD_CHUNK = 200
"""Streams summarised per transaction by :meth:`PostgresEventStore.build_catalog`."""
CATALOG_POLL = 0.25
"""Seconds between looks at the catalog version when no notification can arrive."""
LISTEN_RECHECK = 1.0
"""Seconds a listening catalog follower waits for a notification before it reads the
version anyway."""

# Options this store reads from the URL query or ``config.options``; every other
# query parameter is handed to libpq unchanged (sslmode, application_name, ...).
_OPTION_KEYS = {
    "schema", "pool_min_size", "pool_max_size", "pool_size", "pool_timeout",
    "sweep_interval", "analyze_interval", "retries", "retry_timeout", "prefix", "ttl", "notify",
    "layout", "poll_interval",
}
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_LONGEST_SUFFIX = len("_migrations")
_SWEEP_BATCH = 500


def _one_line(text: str) -> str:
    """libpq messages span lines ("...failed: Connection refused\\n\\tIs the server...")."""
    return " ".join(str(text).split())


def _server_message(exc: psycopg.Error) -> str:
    """The server's primary message (without the ``LINE 1: ...`` context), else libpq's."""
    primary = exc.diag.message_primary if exc.diag is not None else None
    return _one_line(primary) if primary else _one_line(str(exc))


async def _load_json_fast(conn: Conn) -> None:
    """Parse ``json`` columns (the catalog's options) with orjson on this store's
    connections only: psycopg's default, the standard library's parser, was half the
    time of listing 10,000 summaries."""
    set_json_loads(orjson.loads, conn)


class PostgresEventStore(BaseEventStoreWithSnapshots):
    """Event store on PostgreSQL (psycopg 3 async + psycopg_pool).

    Create it with :func:`create_event_store` (``postgresql://user@host/db``), or
    construct it and ``await store.open()``. Options (URL query or
    ``config.options``): ``schema`` (default ``public``), ``pool_min_size`` (1),
    ``pool_max_size`` (4), ``pool_timeout`` (s, 10), ``sweep_interval`` (s, 60),
    ``analyze_interval`` (s, 60; how often a writer looks whether its tables need
    ``ANALYZE`` when the server's autovacuum is off), ``retries`` (5) and
    ``retry_timeout`` (s, 15) for lost connections, ``notify`` (true; ``false`` skips
    the ``pg_notify`` per append, which costs a global lock at commit, and leaves
    followers polling); ``prefix`` and ``ttl`` (ms) may also be given in the URL.
    """

    def __init__(
        self,
        config: StorageAdapterConfig | None = None,
        *,
        prefix: str | None = None,
        ttl: int | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
    ) -> None:
        cfg = config or StorageAdapterConfig(type="postgres")
        url, url_options = split_url_options(cfg.connection or "", _OPTION_KEYS, "PostgreSQL")
        options: dict[str, Any] = {**url_options, **cfg.options}
        if prefix is None and cfg.prefix == "l0" and "prefix" in options:
            prefix = validate_prefix(options["prefix"])
        if ttl is None and cfg.ttl == 0 and "ttl" in options:
            ttl = int_option(options, "ttl", 0, 0)
        super().__init__(cfg, prefix=prefix, ttl=ttl, clock=clock, read_only=read_only)
        if len(self.prefix) > 63 - _LONGEST_SUFFIX:
            raise StoreConfigError(
                f"prefix {self.prefix!r} is too long for PostgreSQL table names "
                f"(at most {63 - _LONGEST_SUFFIX} characters)"
            )
        schema = str(options.get("schema", "public"))
        if _IDENT_RE.fullmatch(schema) is None:
            raise StoreConfigError(f"option schema={schema!r} must be an identifier")
        self.schema = schema
        self._conninfo = url
        self._pool_min = int_option(options, "pool_min_size", 1, 0)
        self._pool_max = int_option(
            options, "pool_max_size", int_option(options, "pool_size", 4, 1), 1
        )
        self._pool_min = min(self._pool_min, self._pool_max)
        self._pool_timeout = float_option(options, "pool_timeout", 10.0)
        self._sweep_interval = float_option(options, "sweep_interval", 60.0)
        self._analyze_interval = float_option(options, "analyze_interval", 60.0)
        self._retries = int_option(options, "retries", 5, 0)
        self._retry_timeout = float_option(options, "retry_timeout", 15.0)
        self._notify = str(options.get("notify", "true")).lower() not in ("0", "false", "no",
                                                                           "off")
        self.layout_option = choose_layout(options.get("layout"))
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._analyzer: asyncio.Task[None] | None = None
        self._keeps_statistics = False
        """True when this writable store analyses its tables (autovacuum is off)."""
        self._listener: asyncio.Task[None] | None = None
        self._listener_conn: Conn | None = None
        self._listener_ready = False
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._catalog_waiters: set[asyncio.Future[None]] = set()
        self._wait_version: int | None = None
        self._cat = PostgresCatalog(self.schema, self.prefix)
        self.keeps_summaries = False

        def name(suffix: str) -> sql.Identifier:
            return sql.Identifier(self.schema, f"{self.prefix}_{suffix}")

        self._t_streams = name("streams")
        self._t_events = name("events")
        self._t_snapshots = name("snapshots")
        self._t_migrations = name("migrations")
        self._f_append = name("append")
        self._f_delete = name("delete")
        self._f_sweep = name("sweep")
        channel = f"{self.schema}.{self.prefix}"
        if len(channel) > 63:
            channel = "l0_" + hashlib.sha1(channel.encode()).hexdigest()
        self.channel = channel
        self._q = self._queries()

    # ── SQL ──

    def _queries(self) -> dict[str, bytes]:
        s, e, sn = self._t_streams, self._t_events, self._t_snapshots
        live = sql.SQL("NOT EXISTS (SELECT 1 FROM {s} x WHERE x.stream_id = %(sid)s "
                       "AND x.expires_at_ms <= %(now)s)").format(s=s)
        fresh = sql.SQL("(expires_at_ms IS NULL OR expires_at_ms > %(now)s)")
        texts: dict[str, sql.Composable] = {
            "append": sql.SQL(
                "SELECT status, last_seq, needs FROM {f}(%(sid)s, %(expected)s, "
                "%(events)s::json, %(now)s, %(ttl)s, %(batch)s, %(retry)s, %(notify)s, {d})"
            ).format(f=self._f_append, d=call_args()),
            "range": sql.SQL(
                "SELECT seq, event::text FROM {e} WHERE stream_id = %(sid)s AND seq >= %(lo)s "
                "AND seq <= %(hi)s AND {live} ORDER BY seq"
            ).format(e=e, live=live),
            "page": sql.SQL(
                "SELECT seq, event::text FROM {e} WHERE stream_id = %(sid)s AND seq >= %(lo)s "
                "AND {live} ORDER BY seq LIMIT %(limit)s"
            ).format(e=e, live=live),
            "last_event": sql.SQL(
                "SELECT ev.seq, ev.event::text FROM {s} st JOIN {e} ev "
                "ON ev.stream_id = st.stream_id AND ev.seq = st.last_seq "
                "WHERE st.stream_id = %(sid)s AND (st.expires_at_ms IS NULL "
                "OR st.expires_at_ms > %(now)s)"
            ).format(s=s, e=e),
            "last_seq": sql.SQL(
                "SELECT last_seq FROM {s} WHERE stream_id = %(sid)s AND {fresh}"
            ).format(s=s, fresh=fresh),
            "list": sql.SQL(
                "SELECT stream_id FROM {s} WHERE last_seq >= 0 AND {fresh} ORDER BY stream_id"
            ).format(s=s, fresh=fresh),
            "count_streams": sql.SQL("SELECT count(*) FROM {s} WHERE last_seq >= 0").format(s=s),
            "delete": sql.SQL("SELECT {f}(%(sid)s)").format(f=self._f_delete),
            "sweep": sql.SQL("SELECT {f}(%(now)s, %(limit)s)").format(f=self._f_sweep),
            "save_snapshot": sql.SQL(
                "INSERT INTO {sn} (stream_id, seq, data) VALUES (%(sid)s, %(seq)s, "
                "%(data)s::json) ON CONFLICT (stream_id, seq) DO UPDATE SET data = EXCLUDED.data"
            ).format(sn=sn),
            "snapshots": sql.SQL(
                "SELECT data::text FROM {sn} WHERE stream_id = %(sid)s AND {live} ORDER BY seq"
            ).format(sn=sn, live=live),
            "snapshot_before": sql.SQL(
                "SELECT data::text FROM {sn} WHERE stream_id = %(sid)s AND seq <= %(seq)s "
                "AND {live} ORDER BY seq DESC LIMIT 1"
            ).format(sn=sn, live=live),
        }
        return {k: v.as_bytes(None) for k, v in texts.items()}

    def _migrations(self) -> list[tuple[int, str, sql.Composed]]:
        """(version, description, DDL). Append new versions; never edit applied ones."""
        ids = {
            "streams": self._t_streams,
            "events": self._t_events,
            "snapshots": self._t_snapshots,
            "append": self._f_append,
            "delete": self._f_delete,
            "sweep": self._f_sweep,
            "expiry_idx": sql.Identifier(f"{self.prefix}_streams_expiry"),
            "batch_idx": sql.Identifier(f"{self.prefix}_events_batch"),
            "channel": sql.Literal(self.channel),
        }
        v1 = sql.SQL("""
CREATE TABLE IF NOT EXISTS {streams} (
    stream_id text PRIMARY KEY,
    last_seq bigint NOT NULL,
    expires_at_ms bigint
);
CREATE INDEX IF NOT EXISTS {expiry_idx} ON {streams} (expires_at_ms)
    WHERE expires_at_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS {events} (
    stream_id text NOT NULL,
    seq bigint NOT NULL,
    event json NOT NULL,
    batch_id uuid,
    PRIMARY KEY (stream_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS {batch_idx} ON {events} (batch_id)
    WHERE batch_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS {snapshots} (
    stream_id text NOT NULL,
    seq bigint NOT NULL,
    data json NOT NULL,
    PRIMARY KEY (stream_id, seq)
);

CREATE OR REPLACE FUNCTION {append}(
    p_stream text, p_expected bigint, p_events json, p_now bigint, p_ttl bigint,
    p_batch uuid, p_retry boolean, p_notify boolean, OUT status int, OUT last_seq bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_last bigint;
    v_expires bigint;
    v_found bigint;
    v_n bigint;
BEGIN
    -- Lock the stream row (creating it if needed): writers of one stream queue here.
    LOOP
        SELECT s.last_seq, s.expires_at_ms INTO v_last, v_expires
            FROM {streams} s WHERE s.stream_id = p_stream FOR UPDATE;
        EXIT WHEN FOUND;
        IF p_expected IS NOT NULL AND p_expected <> -1 AND NOT p_retry THEN
            status := 1; last_seq := -1; RETURN;
        END IF;
        INSERT INTO {streams} (stream_id, last_seq) VALUES (p_stream, -1)
            ON CONFLICT (stream_id) DO NOTHING;
    END LOOP;
    -- A retry after a lost reply: if the first attempt committed, report its seq.
    -- (Checked under the lock, so an attempt still running has finished by now.)
    IF p_retry THEN
        SELECT e.seq INTO v_found FROM {events} e
            WHERE e.batch_id = p_batch AND e.stream_id = p_stream;
        IF FOUND THEN
            status := 2; last_seq := v_found; RETURN;
        END IF;
    END IF;
    -- An expired stream that the sweeper has not reached yet starts again at 0.
    IF v_expires IS NOT NULL AND v_expires <= p_now THEN
        DELETE FROM {events} WHERE stream_id = p_stream;
        DELETE FROM {snapshots} WHERE stream_id = p_stream;
        UPDATE {streams} SET last_seq = -1, expires_at_ms = NULL WHERE stream_id = p_stream;
        v_last := -1;
    END IF;
    IF p_expected IS NOT NULL AND p_expected <> v_last THEN
        status := 1; last_seq := v_last; RETURN;
    END IF;
    v_n := json_array_length(p_events);
    INSERT INTO {events} (stream_id, seq, event, batch_id)
        SELECT p_stream, v_last + t.o, t.e, CASE WHEN t.o = v_n THEN p_batch END
        FROM json_array_elements(p_events) WITH ORDINALITY AS t(e, o);
    UPDATE {streams}
        SET last_seq = v_last + v_n,
            expires_at_ms = CASE WHEN p_ttl > 0 THEN p_now + p_ttl END
        WHERE stream_id = p_stream;
    IF p_notify THEN
        PERFORM pg_notify({channel}, p_stream);
    END IF;
    status := 0; last_seq := v_last + v_n;
END
$fn$;

CREATE OR REPLACE FUNCTION {delete}(p_stream text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM 1 FROM {streams} WHERE stream_id = p_stream FOR UPDATE;
    DELETE FROM {events} WHERE stream_id = p_stream;
    DELETE FROM {snapshots} WHERE stream_id = p_stream;
    DELETE FROM {streams} WHERE stream_id = p_stream;
END
$fn$;

CREATE OR REPLACE FUNCTION {sweep}(p_now bigint, p_limit int) RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
    v_ids text[];
BEGIN
    SELECT array_agg(x.stream_id) INTO v_ids FROM (
        SELECT stream_id FROM {streams} WHERE expires_at_ms <= p_now
        ORDER BY expires_at_ms LIMIT p_limit FOR UPDATE SKIP LOCKED) x;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM {events} WHERE stream_id = ANY (v_ids);
    DELETE FROM {snapshots} WHERE stream_id = ANY (v_ids);
    DELETE FROM {streams} WHERE stream_id = ANY (v_ids);
    RETURN cardinality(v_ids);
END
$fn$;
""").format(**ids)
        return [(1, "streams, events, snapshots; append/delete/sweep functions", v1),
                (2, "catalog: summaries, texts, catalog counters; the append keeps summaries",
                 self._cat.migration(ids))]

    # ── lifecycle ──

    def describe(self) -> str:
        return mask_secrets(self.config.connection or "postgresql://")

    async def open(self) -> PostgresEventStore:
        """Connect, create or migrate the schema (unless read-only), start the pool."""
        if self._pool is not None:
            return self
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True,
                connect_timeout=max(1, round(self._pool_timeout)),
            )
        except psycopg.ProgrammingError as exc:  # the URL itself is wrong
            raise StoreConfigError(
                f"bad PostgreSQL URL {self.describe()}: {_one_line(str(exc))}"
            ) from None
        except psycopg.Error as exc:
            raise StoreConnectionError(
                f"cannot connect to PostgreSQL at {self.describe()}: {_one_line(str(exc))}"
            ) from None
        found: PrefixContents | None = None
        try:
            if self.read_only:
                found = await inspect_prefix(conn, self.schema, self.prefix)
                self._check_layout(found)
                version = await self._check_schema(conn)
                self.keeps_summaries = version >= 2 and await self._cat.built(conn)
            else:
                await self._migrate(conn)
                self.keeps_summaries = await self._cat.built(conn)
                self._keeps_statistics = not await autovacuum_on(conn)
        except psycopg.Error as exc:
            owner = f" (the tables belong to role {found.owner})" if (
                found is not None and found.owner
                and isinstance(exc, psycopg.errors.InsufficientPrivilege)) else ""
            raise StoreConnectionError(
                f"PostgreSQL at {self.describe()} refused the schema setup: "
                f"{_server_message(exc)}{owner}"
            ) from None
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            self._conninfo,
            min_size=self._pool_min,
            max_size=self._pool_max,
            kwargs={"autocommit": True, "connect_timeout": max(1, round(self._pool_timeout))},
            timeout=self._pool_timeout,
            open=False,
            name=f"l0-{self.prefix}",
            configure=_load_json_fast,
        )
        try:
            await pool.open(wait=self._pool_min > 0, timeout=self._pool_timeout)
        except PoolTimeout:
            await pool.close()
            raise StoreConnectionError(
                f"cannot connect to PostgreSQL at {self.describe()}: no connection within "
                f"{self._pool_timeout:g} s"
            ) from None
        self._pool = pool
        if self.ttl > 0 and not self.read_only:
            self._sweeper = asyncio.create_task(self._sweep_loop())
        if self._keeps_statistics:
            self._analyzer = asyncio.create_task(self._analyze_loop())
        if not self.read_only and self.keeps_summaries:
            await self._repair_stale_contents()
        return self

    async def _migrate(self, conn: Conn) -> None:
        async with conn.transaction():
            # One migration at a time per schema (CREATE SCHEMA itself can race).
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                               (f"l0core:{self.schema}",))
            cur = await conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                                     (self.schema,))
            if await cur.fetchone() is None:
                await conn.execute(sql.SQL("CREATE SCHEMA {}").format(
                    sql.Identifier(self.schema)))
            # Checked under the lock, before any DDL: names this library did not
            # create are never altered (docs/format.md, "Sharing a server").
            found = await inspect_prefix(conn, self.schema, self.prefix)
            self._check_layout(found)
            if found.layout != "l0core":
                await conn.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (version int PRIMARY KEY, description text "
                    "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                ).format(self._t_migrations))
            current = await self._schema_version(conn)
            for version, description, ddl in self._migrations():
                if version <= current:
                    continue
                await conn.execute(ddl)
                await conn.execute(sql.SQL(
                    "INSERT INTO {} (version, description) VALUES (%s, %s)"
                ).format(self._t_migrations), (version, description))
            await self._cat.ensure_trigram(conn)

    def _check_layout(self, found: PrefixContents) -> None:
        """Refuse a prefix whose tables this store did not create (one line, no DDL run)."""
        layout = found.layout
        if layout == "spec":
            if not self.read_only:
                raise spec_refusal(self.config.connection or "", self.prefix,
                                   found.describe_spec())
            how = ("drop ?layout=l0core to read it" if self.layout_option == "l0core" else
                   "open it with create_event_store(), which reads it (or ?layout=spec)")
            raise ForeignLayoutError(
                f"{self.describe()} holds the spec example layout ({found.describe_spec()}): "
                f"{how}", "spec")
        if layout == "foreign":
            raise foreign_refusal(self.config.connection or "", self.prefix, found.describe())

    async def _check_schema(self, conn: Conn) -> int:
        """Read-only: create nothing, but refuse tables of a newer schema version.
        Returns the version found (0: no tables yet)."""
        cur = await conn.execute("SELECT to_regclass(%s)",
                                 (self._t_migrations.as_string(None),))
        row = await cur.fetchone()
        if row is None or row[0] is None:
            return 0  # nothing recorded yet: reads find no streams until a writer creates them
        return await self._schema_version(conn)

    async def _schema_version(self, conn: Conn) -> int:
        """The tables' schema version; refuses tables newer than this library knows."""
        cur = await conn.execute(sql.SQL("SELECT coalesce(max(version), 0) FROM {}").format(
            self._t_migrations))
        row = await cur.fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreConfigError(
                f"{self.describe()}: tables {self.schema}.{self.prefix}_* are at schema "
                f"version {current}, newer than this l0core ({SCHEMA_VERSION}); upgrade l0core"
            )
        return current

    async def close(self) -> None:
        if self._closed:
            return
        for task in (self._sweeper, self._listener, self._analyzer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._sweeper = self._listener = self._analyzer = None
        if self._keeps_statistics and self._pool is not None:
            # a writer that filled the store and exits leaves it with statistics
            with contextlib.suppress(StoreConnectionError, psycopg.Error):
                await self.analyze_tables()
        self._closed = True
        if self._listener_conn is not None:
            with contextlib.suppress(Exception):
                await self._listener_conn.close()
            self._listener_conn = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        for futs in self._waiters.values():
            for fut in futs:
                if not fut.done():
                    fut.cancel()
        self._waiters.clear()

    # ── running statements, with retries on lost connections ──

    async def _run(
        self,
        fn: Callable[[Conn, bool], Awaitable[T]],
        *,
        missing: Callable[[], T] | None = None,
    ) -> T:
        """Run ``fn(conn, is_retry)`` on a pooled connection.

        A lost connection (server restart, ``pg_terminate_backend``, network) is
        retried on a fresh one; ``is_retry`` tells an append to look for its own
        earlier attempt. ``missing`` answers reads when the tables do not exist
        (a read-only store on an empty database).
        """
        if self._closed:
            raise StoreClosedError(f"{type(self).__name__} is closed")
        pool = self._pool
        if pool is None:
            raise StoreClosedError("PostgresEventStore is not open: await store.open() first")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_timeout
        attempt = 0
        while True:
            if self._closed:  # closed while a retry was waiting
                raise StoreClosedError(f"{type(self).__name__} is closed")
            reason = ""
            try:
                async with pool.connection() as conn:
                    try:
                        return await fn(conn, attempt > 0)
                    except psycopg.errors.UndefinedTable:
                        if missing is not None:
                            return missing()
                        raise StoreConnectionError(
                            f"PostgreSQL at {self.describe()}: the tables of prefix "
                            f"{self.prefix!r} are gone from schema {self.schema!r}") from None
                    except psycopg.Error as exc:
                        if not _connection_lost(exc, conn):
                            raise StoreConnectionError(
                                f"PostgreSQL at {self.describe()}: {_server_message(exc)}"
                            ) from None
                        reason = _one_line(str(exc))
            except PoolTimeout:
                reason = f"no connection within {self._pool_timeout:g} s"
            attempt += 1
            if attempt > self._retries or loop.time() >= deadline:
                raise StoreConnectionError(
                    f"lost the connection to PostgreSQL at {self.describe()} "
                    f"({attempt} attempts): {reason}"
                ) from None
            await asyncio.sleep(min(1.0, 0.02 * 2 ** attempt))
            with contextlib.suppress(Exception):
                await pool.check()  # replace the other dead connections of the pool

    async def _fetchall(
        self, key: str, params: Mapping[str, Any], *, missing_ok: bool = True
    ) -> list[tuple[Any, ...]]:
        async def go(conn: Conn, _retry: bool) -> list[tuple[Any, ...]]:
            cur = await conn.execute(self._q[key], params)
            return await cur.fetchall()

        return await self._run(go, missing=list if missing_ok else None)

    # ── writing ──

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        params: dict[str, Any] = {
            "sid": stream_id,
            "expected": expected_seq,
            "events": dumps(list(events)).decode(),
            "ttl": self.ttl,
            "batch": uuid.uuid4(),
            "notify": self._notify,
            **append_params(stream_id, events),
        }
        # An ERROR with no CONTINUATION or COMPLETE in its batch: the content it ends
        # on is in earlier events, folded in the same transaction (under the lock).
        kinds = {ev["type"] for ev in events}
        one_transaction = "ERROR" in kinds and not kinds & RESET_KINDS

        async def go(conn: Conn, retry: bool) -> tuple[int, int, int]:
            params["now"] = int(self.clock())
            params["retry"] = retry
            if not one_transaction:
                return await self._call_append(conn, params)
            async with conn.transaction():
                status, last, needs = await self._call_append(conn, params)
                if status != 1 and needs:
                    await self._finish_append(conn, stream_id, needs)
                return status, last, 0

        status, last, needs = await self._run(go)
        if status == 1:
            raise ConcurrencyConflictError(stream_id, -1 if expected_seq is None
                                           else expected_seq, last)
        if needs:
            await self._run_in_transaction(
                lambda conn: self._finish_append(conn, stream_id, needs))
        return last

    async def _call_append(self, conn: Conn, params: Mapping[str, Any]) -> tuple[int, int, int]:
        cur = await conn.execute(self._q["append"], params)
        row = await cur.fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    async def _finish_append(self, conn: Conn, stream_id: str, needs: int) -> None:
        """What the append function left to Python: a stream older than the catalog
        gets its summary, an ended stream its folded content (caller's transaction)."""
        if needs & NEEDS_SUMMARY:
            await self._cat.repair(conn, stream_id)
        elif needs & NEEDS_CONTENT:
            await self._cat.lock(conn, stream_id)
            await self._cat.refold_content(conn, stream_id)

    async def _run_in_transaction(self, fn: Callable[[Conn], Awaitable[None]]) -> None:
        async def go(conn: Conn, _retry: bool) -> None:
            async with conn.transaction():
                await fn(conn)

        await self._run(go)

    async def delete(self, stream_id: str) -> None:
        self._check_writable()
        validate_stream_id(stream_id)
        await self._fetchall("delete", {"sid": stream_id}, missing_ok=False)

    async def sweep_expired(self) -> int:
        """Delete the streams whose TTL has passed (by this store's clock); returns how many."""
        self._check_writable()
        total = 0
        while True:
            rows = await self._fetchall("sweep", {"now": int(self.clock()),
                                                  "limit": _SWEEP_BATCH}, missing_ok=False)
            n = int(rows[0][0]) if rows else 0
            total += n
            if n < _SWEEP_BATCH:
                return total

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            with contextlib.suppress(StoreConnectionError, psycopg.Error):
                await self.sweep_expired()

    async def analyze_tables(self) -> list[str]:
        """``ANALYZE`` the catalog tables that changed enough since their statistics
        were taken (l0core.stores.postgres_stats); returns the tables analysed."""
        tables = [f"{self.prefix}_{t}" for t in ("summaries", "streams", "texts")]

        async def go(conn: Conn, _retry: bool) -> list[str]:
            return await analyze_stale(conn, self.schema, tables)

        return await self._run(go)

    async def _analyze_loop(self) -> None:
        while True:
            await asyncio.sleep(self._analyze_interval)
            with contextlib.suppress(StoreConnectionError, psycopg.Error):
                await self.analyze_tables()

    # ── reading ──

    def _envelopes(self, stream_id: str, rows: list[tuple[Any, ...]]) -> list[EventEnvelope]:
        return [EventEnvelope(stream_id, int(seq), decode_event(loads(text)))
                for seq, text in rows]

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        return await self.read_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        hi = 2**62 if to_seq is None else to_seq
        rows = await self._fetchall("range", {"sid": stream_id, "lo": max(0, from_seq),
                                              "hi": hi, "now": int(self.clock())})
        return self._envelopes(stream_id, rows)

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        """Keyset pages of ``batch_size`` events: memory stays flat on long streams."""
        validate_stream_id(stream_id)
        lo = max(0, from_seq)
        while True:
            rows = await self._fetchall("page", {"sid": stream_id, "lo": lo,
                                                 "limit": max(1, batch_size),
                                                 "now": int(self.clock())})
            if not rows:
                return
            batch = self._envelopes(stream_id, rows)
            yield batch
            if len(rows) < batch_size:
                return
            lo = batch[-1].seq + 1

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)
        rows = await self._fetchall("last_event", {"sid": stream_id, "now": int(self.clock())})
        envs = self._envelopes(stream_id, rows)
        return envs[0] if envs else None

    async def get_last_seq(self, stream_id: str) -> int:
        validate_stream_id(stream_id)
        rows = await self._fetchall("last_seq", {"sid": stream_id, "now": int(self.clock())})
        return int(rows[0][0]) if rows else -1

    async def exists(self, stream_id: str) -> bool:
        return await self.get_last_seq(stream_id) >= 0

    async def list_streams(self) -> list[str]:
        rows = await self._fetchall("list", {"now": int(self.clock())})
        return [str(r[0]) for r in rows]

    # ── snapshots ──

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_writable()
        data = encode_snapshot(snapshot)
        await self._fetchall_write("save_snapshot", {"sid": snapshot.stream_id,
                                                     "seq": snapshot.seq,
                                                     "data": dumps(data).decode()})

    async def _fetchall_write(self, key: str, params: Mapping[str, Any]) -> None:
        async def go(conn: Conn, _retry: bool) -> None:
            await conn.execute(self._q[key], params)

        await self._run(go)

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        rows = await self._fetchall("snapshots", {"sid": stream_id, "now": int(self.clock())})
        return [decode_snapshot(loads(r[0])) for r in rows]

    async def get_snapshot_before(self, stream_id: str, seq: int) -> Snapshot | None:
        validate_stream_id(stream_id)
        rows = await self._fetchall("snapshot_before", {"sid": stream_id, "seq": seq,
                                                        "now": int(self.clock())})
        return decode_snapshot(loads(rows[0][0])) if rows else None

    # ── the catalog (docs/format.md, "The catalog") ──

    async def _summaries_ready(self) -> bool:
        """True when the summary tables answer; a writable store builds them first."""
        if self.keeps_summaries:
            return True
        if self.read_only or self._closed:
            return False
        await self.build_catalog()
        return True

    async def prepare_catalog(self, progress: Progress | None = None) -> None:
        """Tables written before schema version 2: build their summaries (writable)
        or scan them (read-only)."""
        if self.keeps_summaries:
            return
        if not self.read_only:
            await self.build_catalog(progress)
            return
        await super().prepare_catalog(progress)

    async def refresh_catalog(self, progress: Progress | None = None) -> None:
        if not self.keeps_summaries and await self._run(lambda c, _r: self._cat.built(c),
                                                        missing=lambda: False):
            self.keeps_summaries = True  # another process built the summaries meanwhile
            return
        await super().refresh_catalog(progress)

    async def get_summary(self, stream_id: str) -> StreamSummary | None:
        validate_stream_id(stream_id)
        if not await self._summaries_ready():
            return await super().get_summary(stream_id)
        now = int(self.clock())
        return await self._run(lambda c, _r: self._cat.get(c, stream_id, now),
                               missing=lambda: None)

    async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
        if not await self._summaries_ready():
            return await super().query_summaries(query)
        now = int(self.clock())
        none: list[StreamSummary] = []
        rows = await self._run(lambda c, _r: self._cat.query(c, query, now),
                               missing=lambda: none)
        return page_of(rows, query)

    async def count_summaries(self, flt: SummaryFilter | None = None) -> int:
        if not await self._summaries_ready():
            return await super().count_summaries(flt)
        now = int(self.clock())
        return await self._run(lambda c, _r: self._cat.count(c, flt or SummaryFilter(), now),
                               missing=lambda: 0)

    async def catalog_version(self) -> object:
        """The sum of the ``changes`` counters every append, delete and sweep moves in
        its transaction, by any process."""
        if not self.keeps_summaries:
            return None
        return await self._run(lambda c, _r: self._cat.version(c), missing=lambda: 0)

    async def wait_catalog_change(self, timeout: float) -> None:
        """Wakes on the NOTIFY every append sends (or polls the version without one)."""
        if not self.keeps_summaries:
            await super().wait_catalog_change(timeout)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        listening = self._notify and await self._ensure_listener()
        fut: asyncio.Future[None] = loop.create_future()
        self._catalog_waiters.add(fut)
        try:
            start = cast(int, await self.catalog_version())
            seen, self._wait_version = self._wait_version, start
            if seen is not None and start != seen:
                return  # changed since the last wait returned
            while (left := deadline - loop.time()) > 0:
                if listening and self._listener_ready:
                    # Not for longer than LISTEN_RECHECK: another process's writer may
                    # have been opened with notify=false.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(fut),
                                               timeout=min(left, LISTEN_RECHECK))
                else:
                    await asyncio.sleep(min(CATALOG_POLL, left))
                now = cast(int, await self.catalog_version())
                if now != start:
                    self._wait_version = now
                    return
                if fut.done():
                    self._catalog_waiters.discard(fut)
                    fut = loop.create_future()
                    self._catalog_waiters.add(fut)
        finally:
            self._catalog_waiters.discard(fut)

    async def build_catalog(self, progress: Progress | None = None) -> int:
        """Write every stream's summary and content again from its events.

        In transactions of :data:`BUILD_CHUNK` streams (their rows locked, so appends
        to them wait), with ``progress(done, total)``. Returns how many streams it
        summarised; on an up-to-date store it rewrites the same rows (``l0tui index``).
        """
        self._check_writable()
        rows = await self._fetchall("count_streams", {})
        total = int(rows[0][0]) if rows else 0
        if progress is not None:
            progress(0, total)
        done, after = 0, ""
        while True:
            async def chunk(conn: Conn, _retry: bool, after: str = after) -> tuple[int, str]:
                async with conn.transaction():
                    return await self._cat.build_chunk(conn, after, BUILD_CHUNK)

            n, after = await self._run(chunk)
            if not n:
                break
            done += n
            if progress is not None:
                progress(done, max(done, total))
        await self._run_in_transaction(self._cat.finish_build)
        self.keeps_summaries = True
        if self._keeps_statistics:
            await self.analyze_tables()
        return done

    async def _repair_stale_contents(self) -> None:
        """Index the content an append could not fold before its process died."""
        none: list[str] = []
        stale = await self._run(lambda c, _r: self._cat.stale_contents(c), missing=lambda: none)
        for sid in stale:
            await self._run_in_transaction(partial(self._finish_append, stream_id=sid,
                                                   needs=NEEDS_CONTENT))

    # ── live follow: LISTEN/NOTIFY, polling as the fallback ──

    async def _wait_for_append(self, stream_id: str, last_seq: int, timeout: float) -> None:
        if not await self._ensure_listener():
            await asyncio.sleep(timeout)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(stream_id, set())
        waiters.add(fut)
        try:
            # Registered first, then checked: an append between the caller's read
            # and now is seen here; one after it wakes ``fut``.
            if await self.get_last_seq(stream_id) > last_seq:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, timeout=max(timeout, 2.0))
        finally:
            waiters.discard(fut)
            if not waiters:
                self._waiters.pop(stream_id, None)

    async def _ensure_listener(self) -> bool:
        if self._listener is not None and not self._listener.done():
            return self._listener_ready
        if self._closed:
            return False
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True,
                connect_timeout=max(1, round(self._pool_timeout)),
            )
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except psycopg.Error:
            return False
        self._listener_conn = conn
        self._listener_ready = True
        self._listener = asyncio.create_task(self._listen(conn))
        return True

    async def _listen(self, conn: Conn) -> None:
        try:
            async for note in conn.notifies():
                for fut in list(self._waiters.get(note.payload, ())):
                    if not fut.done():
                        fut.set_result(None)
                for fut in list(self._catalog_waiters):  # any change is a catalog change
                    if not fut.done():
                        fut.set_result(None)
        except psycopg.Error:
            pass  # connection lost: waiters fall back to polling; the next wait reconnects
        finally:
            self._listener_ready = False
            for futs in (*self._waiters.values(), self._catalog_waiters):
                for fut in futs:  # re-read now rather than at the timeout
                    if not fut.done():
                        fut.set_result(None)
            with contextlib.suppress(Exception):
                await conn.close()


def _connection_lost(exc: psycopg.Error, conn: Conn) -> bool:
    if conn.closed or conn.broken:
        return True
    state = exc.sqlstate or ""
    return state.startswith("08") or state in {"57P01", "57P02", "57P03"}


async def create_postgres_event_store(
    url: str,
    *,
    prefix: str = "l0",
    ttl: int = 0,
    options: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    read_only: bool = False,
) -> PostgresEventStore:
    """Open a :class:`PostgresEventStore` on ``url`` (``postgresql://user@host:5432/db``)."""
    cfg = StorageAdapterConfig(type="postgres", connection=url, prefix=validate_prefix(prefix),
                               ttl=ttl, options=dict(options or {}), read_only=read_only)
    return await PostgresEventStore(cfg, clock=clock).open()


async def open_store(config: StorageAdapterConfig) -> BaseEventStore:
    """Registry entry for ``postgresql://`` and ``postgres://``.

    A read-only open of tables in the spec example layout (or ``?layout=spec``)
    gives the read-only :class:`~l0core.stores.postgres_spec.SpecPostgresEventStore`.
    """
    from l0core.stores.postgres_spec import SpecPostgresEventStore

    return await open_own_or_spec(PostgresEventStore(config),
                                  lambda: SpecPostgresEventStore(config).open())
