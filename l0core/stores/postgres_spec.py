"""``SpecPostgresEventStore``: the spec's "Full PostgreSQL Example" tables, read-only.

The example adapter writes ``<prefix>_events(stream_id, seq, event, created_at)``
(one row per event, the event's JSON in ``event``, the envelope not stored) and
``<prefix>_snapshots(stream_id, seq, data)`` (one row per stream, the latest
snapshot). Its append computes ``MAX(seq) + 1`` and inserts without a unique key,
so racing writers store one seq twice, and deletes leave holes. This store reads
such tables as they are and never writes them:

- Order: ``seq`` (rows without one last), then ``created_at``, then the event text
  (byte order); every row is an event, none is dropped. Events are numbered by
  their position in that order, so the seqs read are always ``0..n-1``, equal to
  the stored ones wherever the table is undamaged.
- Damage (duplicate or missing stored seqs) is reported by :meth:`seq_damage` and
  :meth:`verify`; a stream's snapshot is used only when the stream has none.
- Follow polls (the example sends no notifications).

Detected when a PostgreSQL store is opened read-only (``docs/format.md``), or named
with ``?layout=spec``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from l0core.codec import decode_event, decode_snapshot, loads
from l0core.errors import (
    CorruptionError,
    EventValidationError,
    StoreClosedError,
    StoreConfigError,
    StoreConnectionError,
)
from l0core.events import EventEnvelope, RecordedEvent, Snapshot, validate_stream_id
from l0core.stores.base import ReadOnlyEventStore, StorageAdapterConfig, validate_prefix
from l0core.stores.layouts import copy_command
from l0core.stores.options import float_option, int_option
from l0core.stores.postgres_layout import SPEC_EVENT_COLUMNS, PrefixContents, inspect_prefix
from l0core.stores.urls import mask_secrets, split_url_options
from l0core.stores.verify import SeqDamage, damage_from_counts

__all__ = ["SpecPostgresEventStore"]

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]

_OPTION_KEYS = {"schema", "prefix", "layout", "pool_max_size", "pool_size", "pool_timeout",
                "retries", "poll_interval", "pool_min_size", "sweep_interval", "retry_timeout",
                "ttl", "notify"}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class SpecPostgresEventStore(ReadOnlyEventStore):
    """The spec example's PostgreSQL tables, read as they are (see the module docstring)."""

    layout = "the spec example layout"

    def __init__(self, config: StorageAdapterConfig) -> None:
        url, url_options = split_url_options(config.connection or "", _OPTION_KEYS, "PostgreSQL")
        options: dict[str, Any] = {**url_options, **config.options}
        prefix = None
        if config.prefix == "l0" and "prefix" in options:
            prefix = validate_prefix(options["prefix"])
        super().__init__(config, prefix=prefix, ttl=0, read_only=True)
        self.schema = str(options.get("schema", "public"))
        self._conninfo = url
        self._pool_max = int_option(options, "pool_max_size",
                                    int_option(options, "pool_size", 4, 1), 1)
        self._pool_timeout = float_option(options, "pool_timeout", 10.0)
        self._retries = int_option(options, "retries", 3, 0)
        self.poll_seconds = float_option(options, "poll_interval", 0.5)
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._found: PrefixContents | None = None
        self._q: dict[str, bytes] = {}

    def describe(self) -> str:
        return mask_secrets(self.config.connection or "postgresql://")

    def layout_detail(self) -> str:
        what = self._found.describe_spec() if self._found else f"{self.prefix}_events"
        return f"spec example layout ({what})"

    def write_refusal(self) -> str:
        return (f"{self.describe()} holds the {self.layout_detail()}, which l0core only "
                f"reads; to write, migrate it first: "
                f"{copy_command(self.config.connection or '', self.prefix)}")

    # ── lifecycle ──

    async def open(self) -> SpecPostgresEventStore:
        """Connect, check the tables have the example's columns, start a small pool."""
        if self._pool is not None:
            return self
        timeout = max(1, round(self._pool_timeout))
        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True,
                                                         connect_timeout=timeout)
        except psycopg.ProgrammingError as exc:
            raise StoreConfigError(f"bad PostgreSQL URL {self.describe()}: "
                                   f"{_one_line(str(exc))}") from None
        except psycopg.Error as exc:
            raise StoreConnectionError(f"cannot connect to PostgreSQL at {self.describe()}: "
                                       f"{_one_line(str(exc))}") from None
        try:
            found = await inspect_prefix(conn, self.schema, self.prefix)
        except psycopg.Error as exc:
            raise StoreConnectionError(f"PostgreSQL at {self.describe()}: "
                                       f"{_one_line(str(exc))}") from None
        finally:
            await conn.close()
        if found.layout == "l0core":
            raise StoreConfigError(f"{self.describe()}: prefix {self.prefix!r} holds l0core's "
                                   f"own layout ({found.name('migrations')}), not the spec "
                                   "example's: drop ?layout=spec")
        events = found.tables.get("events")
        if events is None or not events >= SPEC_EVENT_COLUMNS:
            have = f"; found {found.describe()}" if found.tables else ""
            raise StoreConfigError(
                f"{self.describe()}: no table {found.name('events')}(stream_id, seq, event) of "
                f"the spec example layout{have}")
        self._found = found
        self._q = self._queries(found)
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            self._conninfo, min_size=0, max_size=self._pool_max,
            kwargs={"autocommit": True, "connect_timeout": timeout},
            timeout=self._pool_timeout, open=False, name=f"l0-spec-{self.prefix}")
        await pool.open(wait=False)
        self._pool = pool
        return self

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    # ── SQL ──

    def _queries(self, found: PrefixContents) -> dict[str, bytes]:
        e = sql.Identifier(self.schema, f"{self.prefix}_events")
        has_ts = "created_at" in found.tables["events"]
        ts_up = sql.SQL(", created_at NULLS FIRST") if has_ts else sql.SQL("")
        ts_down = sql.SQL(", created_at DESC NULLS LAST") if has_ts else sql.SQL("")
        up = sql.SQL('seq NULLS LAST{ts}, event::text COLLATE "C"').format(ts=ts_up)
        down = sql.SQL('seq DESC NULLS FIRST{ts}, event::text COLLATE "C" DESC').format(
            ts=ts_down)
        texts: dict[str, sql.Composable] = {
            "page": sql.SQL("SELECT seq, event::text FROM {e} WHERE stream_id = %(sid)s "
                            "ORDER BY {up} OFFSET %(lo)s LIMIT %(limit)s").format(e=e, up=up),
            "last": sql.SQL("SELECT count(*) OVER (), seq, event::text FROM {e} "
                            "WHERE stream_id = %(sid)s ORDER BY {down} LIMIT 1").format(
                                e=e, down=down),
            "count": sql.SQL("SELECT count(*) FROM {e} WHERE stream_id = %(sid)s").format(e=e),
            "list": sql.SQL("SELECT DISTINCT stream_id::text FROM {e} WHERE stream_id IS NOT "
                            "NULL ORDER BY 1").format(e=e),
            "seqs": sql.SQL("SELECT seq, count(*) FROM {e} WHERE stream_id = %(sid)s "
                            "GROUP BY seq").format(e=e),
        }
        snaps = found.tables.get("snapshots")
        if snaps is not None and {"stream_id", "data"} <= snaps:
            texts["snapshots"] = sql.SQL("SELECT data::text FROM {s} WHERE stream_id = %(sid)s"
                                         ).format(s=sql.Identifier(self.schema,
                                                                   f"{self.prefix}_snapshots"))
        return {k: v.as_bytes(None) for k, v in texts.items()}

    async def _run(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """Run ``fn`` on a pooled connection; lost connections are retried, errors are one line."""
        if self._closed:
            raise StoreClosedError(f"{type(self).__name__} is closed")
        if self._pool is None:
            raise StoreClosedError("SpecPostgresEventStore is not open: await store.open() first")
        attempt = 0
        while True:
            try:
                async with self._pool.connection() as conn:
                    try:
                        return await fn(conn)
                    except psycopg.Error as exc:
                        lost = conn.closed or conn.broken or (exc.sqlstate or "").startswith("08")
                        if not lost:
                            primary = exc.diag.message_primary if exc.diag else None
                            raise StoreConnectionError(
                                f"PostgreSQL at {self.describe()}: "
                                f"{_one_line(primary or str(exc))}") from None
                        reason = _one_line(str(exc))
            except PoolTimeout:
                reason = f"no connection within {self._pool_timeout:g} s"
            except psycopg.Error as exc:  # raised while the pool hands the connection back
                reason = _one_line(str(exc))
            attempt += 1
            if attempt > self._retries:
                raise StoreConnectionError(
                    f"lost the connection to PostgreSQL at {self.describe()} "
                    f"({attempt} attempts): {reason}") from None
            await asyncio.sleep(min(1.0, 0.05 * 2 ** attempt))
            with contextlib.suppress(Exception):
                await self._pool.check()

    async def _fetch(self, key: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        async def go(conn: Conn) -> list[tuple[Any, ...]]:
            cur = await conn.execute(self._q[key], params)
            return await cur.fetchall()

        return await self._run(go)

    # ── reading ──

    def _event(self, stream_id: str, position: int, stored_seq: object, text: str) -> RecordedEvent:
        try:
            value = loads(text)
            if isinstance(value, str):  # JSON text stored in a json column: encoded twice
                value = loads(value)
            if isinstance(value, dict) and "type" not in value and isinstance(
                    value.get("event"), dict):
                value = value["event"]  # a whole envelope in the event column
            return decode_event(value)
        except (ValueError, EventValidationError) as exc:
            raise CorruptionError(f"stream {stream_id!r} row {position} (stored seq "
                                  f"{stored_seq}): {exc}", path=self.describe()) from None

    def _envelopes(self, stream_id: str, first: int,
                   rows: list[tuple[Any, ...]]) -> list[EventEnvelope]:
        return [EventEnvelope(stream_id, first + i, self._event(stream_id, first + i, seq, text))
                for i, (seq, text) in enumerate(rows)]

    async def _page(self, stream_id: str, lo: int, limit: int) -> list[EventEnvelope]:
        rows = await self._fetch("page", {"sid": stream_id, "lo": lo, "limit": limit})
        return self._envelopes(stream_id, lo, rows)

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        return await self.read_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        lo = max(0, from_seq)
        if to_seq is not None and to_seq < lo:
            return []
        limit = None if to_seq is None else to_seq - lo + 1
        return await self._page(stream_id, lo, limit) if limit is not None else \
            await self._page_all(stream_id, lo)

    async def _page_all(self, stream_id: str, lo: int) -> list[EventEnvelope]:
        rows = await self._fetch("page", {"sid": stream_id, "lo": lo, "limit": None})
        return self._envelopes(stream_id, lo, rows)

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        validate_stream_id(stream_id)
        lo, size = max(0, from_seq), max(1, batch_size)
        while True:
            batch = await self._page(stream_id, lo, size)
            if batch:
                yield batch
            if len(batch) < size:
                return
            lo += len(batch)

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)
        rows = await self._fetch("last", {"sid": stream_id})
        if not rows:
            return None
        count, seq, text = rows[0]
        position = int(count) - 1
        return EventEnvelope(stream_id, position, self._event(stream_id, position, seq, text))

    async def get_last_seq(self, stream_id: str) -> int:
        validate_stream_id(stream_id)
        rows = await self._fetch("count", {"sid": stream_id})
        return int(rows[0][0]) - 1 if rows else -1

    async def exists(self, stream_id: str) -> bool:
        return await self.get_last_seq(stream_id) >= 0

    async def list_streams(self) -> list[str]:
        return [str(r[0]) for r in await self._fetch("list", {})]

    # ── damage ──

    async def seq_damage(self, stream_id: str) -> SeqDamage | None:
        validate_stream_id(stream_id)
        counts: dict[int, int] = {}
        unnumbered = 0
        for seq, n in await self._fetch("seqs", {"sid": stream_id}):
            if seq is not None and int(seq) == seq and seq >= 0:
                counts[int(seq)] = counts.get(int(seq), 0) + int(n)
            else:
                unnumbered += int(n)
        damage = damage_from_counts(stream_id, counts, unnumbered=unnumbered)
        return damage if damage else None

    # ── snapshots: the one row per stream ──

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        if "snapshots" not in self._q:
            return []
        rows = await self._fetch("snapshots", {"sid": stream_id})
        if not rows or await self.seq_damage(stream_id) is not None:
            return []  # stored seqs are not positions: a snapshot could point anywhere
        last = await self.get_last_seq(stream_id)
        out: list[Snapshot] = []
        for (text,) in rows:
            try:
                value = loads(text)
                if isinstance(value, str):
                    value = loads(value)
                snap = decode_snapshot(value)
            except (ValueError, EventValidationError) as exc:
                raise CorruptionError(f"snapshot of {stream_id!r}: {exc}",
                                      path=self.describe()) from None
            if snap.stream_id == stream_id and 0 <= snap.seq <= last:
                out.append(snap)
        return sorted(out, key=lambda s: s.seq)
