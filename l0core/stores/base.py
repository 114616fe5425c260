"""The store contract (the spec's, plus the append contract in docs/format.md) and the base
classes every store extends.

A store validates every event before anything is written (:meth:`append` encodes,
which type-checks), hands out gap-free seqs ``0..n-1`` per stream, and supports
``expected_seq`` optimistic concurrency. Subclasses implement the storage
primitives; the base supplies the spec's helpers and sensible defaults.
"""

from __future__ import annotations

import asyncio
import re
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery
from l0core.catalog.scan import Progress, ScanCatalog
from l0core.catalog.summary import StreamSummary
from l0core.closing import AsyncCloseable
from l0core.codec import encode_event
from l0core.errors import (
    ConcurrencyConflictError,
    CorruptionError,
    EventValidationError,
    StoreClosedError,
    StoreConfigError,
)
from l0core.events import (
    TERMINAL_TYPES,
    EventEnvelope,
    JSONDict,
    RecordedEvent,
    Snapshot,
    now_ms,
    validate_stream_id,
)
from l0core.stores.verify import SeqDamage, StreamCheck, VerifyReport

Clock = Callable[[], float]
"""Returns the current time in Unix milliseconds; stores take one so tests can inject it."""

EventInput = RecordedEvent | Mapping[str, Any]
"""What ``append`` accepts: a typed event, or its wire object in either spelling."""

_PREFIX_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def validate_prefix(prefix: object) -> str:
    """A prefix becomes part of table names and keys, so it must be an identifier."""
    if not isinstance(prefix, str) or _PREFIX_RE.fullmatch(prefix) is None:
        raise StoreConfigError(
            f"prefix {prefix!r} must be an identifier: a letter or '_' followed by up to 62 "
            "letters, digits or '_'"
        )
    return prefix


@dataclass(slots=True, kw_only=True)
class StorageAdapterConfig:
    """The spec's adapter configuration, plus ``read_only`` for inspecting tools."""

    type: str
    connection: str | None = None
    prefix: str = "l0"
    ttl: int = 0
    """Milliseconds after its last append that a stream expires (0 = never)."""
    options: JSONDict = field(default_factory=dict)
    read_only: bool = False
    """Refuse every write and run no sweeper: the TUI opens stores this way."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> StorageAdapterConfig:
        unknown = set(data) - {"type", "connection", "prefix", "ttl", "options", "read_only",
                               "readOnly"}
        if unknown:
            raise StoreConfigError(f"unknown store config keys: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("type"), str):
            raise StoreConfigError("store config needs a 'type' string (e.g. 'memory', 'file')")
        ttl = data.get("ttl", 0)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
            raise StoreConfigError(f"ttl must be a non-negative number of ms, got {ttl!r}")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise StoreConfigError("options must be an object")
        return cls(
            type=data["type"],
            connection=data.get("connection"),
            prefix=validate_prefix(data.get("prefix", "l0")),
            ttl=int(ttl),
            options=dict(options),
            read_only=bool(data.get("read_only", data.get("readOnly", False))),
        )


class BaseEventStore(AsyncCloseable):
    """Base of every store: the spec's helpers, validation, defaults for derived reads."""

    def __init__(
        self,
        config: StorageAdapterConfig | None = None,
        *,
        prefix: str | None = None,
        ttl: int | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
    ) -> None:
        cfg = config or StorageAdapterConfig(type=type(self).__name__)
        self.config = cfg
        self.prefix = validate_prefix(prefix if prefix is not None else cfg.prefix)
        self.ttl = int(ttl if ttl is not None else cfg.ttl)
        self.read_only = read_only if read_only is not None else cfg.read_only
        self.clock: Clock = clock or now_ms
        self._closed = False

    # ── the spec's helpers ──

    def get_stream_key(self, stream_id: str) -> str:
        return f"{self.prefix}:stream:{stream_id}"

    def get_meta_key(self, stream_id: str) -> str:
        return f"{self.prefix}:meta:{stream_id}"

    def is_expired(self, timestamp: float) -> bool:
        """True when ``timestamp`` (Unix ms) is older than the TTL (never with ttl 0)."""
        return self.ttl > 0 and self.clock() - timestamp > self.ttl

    def describe(self) -> str:
        """Where this store is, for humans (passwords masked)."""
        return self.config.connection or self.config.type

    # ── writing ──

    async def append(
        self, stream_id: str, event: EventInput, *, expected_seq: int | None = None
    ) -> int:
        """Append one event; returns the seq assigned.

        ``expected_seq`` is the last seq the caller believes the stream has (-1 for
        a new stream); if another writer got there first,
        :class:`~l0core.errors.ConcurrencyConflictError` carries the actual one.
        """
        self._check_writable()
        validate_stream_id(stream_id)
        return await self._append_wire(stream_id, [encode_event(event)], expected_seq)

    async def append_many(
        self,
        stream_id: str,
        events: Iterable[EventInput],
        *,
        expected_seq: int | None = None,
    ) -> int:
        """Append all of ``events`` or none of them; returns the last seq assigned."""
        self._check_writable()
        validate_stream_id(stream_id)
        wire = [encode_event(e, f"events[{i}]") for i, e in enumerate(events)]
        if not wire:
            last = await self.get_last_seq(stream_id)
            if expected_seq is not None and expected_seq != last:
                raise ConcurrencyConflictError(stream_id, expected_seq, last)
            return last
        return await self._append_wire(stream_id, wire, expected_seq)

    @abstractmethod
    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        """Store validated wire events atomically with the next seqs; return the last one."""

    # ── reading ──

    @abstractmethod
    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        """Every event of the stream in seq order ([] when it does not exist)."""

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        """Events with ``from_seq <= seq <= to_seq`` (both inclusive)."""
        events = await self.get_events(stream_id)
        end = len(events) if to_seq is None else max(0, min(len(events), to_seq + 1))
        return events[max(0, from_seq):end]

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        """The stream in batches, for loading long streams with progress."""
        events = await self.read_events(stream_id, from_seq=from_seq)
        for i in range(0, len(events), batch_size):
            yield events[i:i + batch_size]
            await asyncio.sleep(0)

    async def get_events_after(self, stream_id: str, after_seq: int) -> list[EventEnvelope]:
        """Events with ``seq > after_seq``."""
        return await self.read_events(stream_id, from_seq=after_seq + 1)

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        events = await self.get_events(stream_id)
        return events[-1] if events else None

    async def get_last_seq(self, stream_id: str) -> int:
        """The stream's last seq, or -1 when it has no events."""
        last = await self.get_last_event(stream_id)
        return -1 if last is None else last.seq

    async def get_event_count(self, stream_id: str) -> int:
        return await self.get_last_seq(stream_id) + 1

    @abstractmethod
    async def exists(self, stream_id: str) -> bool: ...

    @abstractmethod
    async def delete(self, stream_id: str) -> None: ...

    @abstractmethod
    async def list_streams(self) -> list[str]: ...

    async def subscribe(
        self, stream_id: str, *, after_seq: int = -1, poll_interval: float = 0.05
    ) -> AsyncIterator[EventEnvelope]:
        """Catch up from ``after_seq`` then follow live appends.

        Every seq is yielded once, in order; the iterator ends after a COMPLETE or
        ERROR event. Stores with a wake-up mechanism override :meth:`_wait_for_append`.
        """
        validate_stream_id(stream_id)
        last = after_seq
        while True:
            batch = await self.get_events_after(stream_id, last)
            for env in batch:
                if env.seq != last + 1:  # defensive: never skip or repeat
                    break
                last = env.seq
                yield env
                if env.event.type in TERMINAL_TYPES:
                    return
            if not batch:
                await self._wait_for_append(stream_id, last, poll_interval)

    async def _wait_for_append(self, stream_id: str, last_seq: int, timeout: float) -> None:
        await asyncio.sleep(timeout)

    # ── what a listing asks of every store; stores that can tell override these ──

    async def seq_damage(self, stream_id: str) -> SeqDamage | None:
        """How the stored seqs of ``stream_id`` differ from ``0..n-1`` (None: they do not).

        Our own layouts make damage impossible; stores read from layouts without a
        unique ``(stream, seq)`` key (the spec's examples) report it here.
        """
        return None

    async def content_stream_id(self, stream_id: str) -> str | None:
        """The stream id the stored events name, when it is not ``stream_id`` (a file
        renamed or copied under another name); None when they agree or cannot differ."""
        return None

    # ── the catalog (docs/format.md, "The catalog") ──

    keeps_summaries = False
    """True for stores that keep every stream's summary with its events; the others
    answer catalog calls from a :class:`~l0core.catalog.scan.ScanCatalog`."""

    def _scan_catalog(self) -> ScanCatalog:
        catalog: ScanCatalog | None = getattr(self, "_scan", None)
        if catalog is None:
            catalog = ScanCatalog(self)
            self._scan = catalog
        return catalog

    async def prepare_catalog(self, progress: Progress | None = None) -> None:
        """Make the catalog answerable; stores without summaries read every stream
        once here, reporting ``progress(done, total)``. Cheap for the others."""
        if not self.keeps_summaries:
            await self._scan_catalog().build(progress)

    async def refresh_catalog(self, progress: Progress | None = None) -> None:
        """Forget what a scan remembered (no-op where summaries are kept)."""
        if not self.keeps_summaries:
            await self._scan_catalog().refresh(progress)

    async def get_summary(self, stream_id: str) -> StreamSummary | None:
        """``stream_id``'s summary, None when it has no events."""
        validate_stream_id(stream_id)
        return await self._scan_catalog().get(stream_id)

    async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
        """One page of summaries matching ``query.filter`` in ``query.order``."""
        return await self._scan_catalog().query(query)

    async def count_summaries(self, flt: SummaryFilter | None = None) -> int:
        """How many streams match ``flt`` (all of them by default)."""
        return await self._scan_catalog().count(flt or SummaryFilter())

    async def catalog_version(self) -> object:
        """A value that changes whenever any summary changes; None when the store cannot
        tell cheaply (callers then refresh on a timer)."""
        return None

    async def wait_catalog_change(self, timeout: float) -> None:
        """Return when the catalog may have changed, or after ``timeout`` seconds.

        Stores with a wake-up channel (LISTEN/NOTIFY, keyspace events, inotify)
        override this; the default waits out the timeout."""
        await asyncio.sleep(timeout)

    # ── lifecycle ──

    async def close(self) -> None:
        self._closed = True

    def _check_writable(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{type(self).__name__} is closed")
        if self.read_only:
            raise StoreConfigError(f"{self.describe()} was opened read-only")

    @staticmethod
    def _check_expected(stream_id: str, expected_seq: int | None, last_seq: int) -> None:
        """Raise the conflict error when ``expected_seq`` does not match."""
        if expected_seq is not None and expected_seq != last_seq:
            raise ConcurrencyConflictError(stream_id, expected_seq, last_seq)


class BaseEventStoreWithSnapshots(BaseEventStore):
    """A store that also keeps every snapshot of a stream."""

    def get_snapshot_key(self, stream_id: str) -> str:
        return f"{self.prefix}:snapshot:{stream_id}"

    @abstractmethod
    async def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot``; one with the same seq replaces the earlier one."""

    @abstractmethod
    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        """Every snapshot of the stream, by ascending seq."""

    async def get_snapshot(self, stream_id: str) -> Snapshot | None:
        """The snapshot with the highest seq."""
        snaps = await self.list_snapshots(stream_id)
        return snaps[-1] if snaps else None

    async def get_snapshot_before(self, stream_id: str, seq: int) -> Snapshot | None:
        """The latest snapshot with ``snapshot.seq <= seq``, even when later ones exist."""
        best: Snapshot | None = None
        for snap in await self.list_snapshots(stream_id):
            if snap.seq <= seq:
                best = snap
            else:
                break
        return best


class ReadOnlyEventStore(BaseEventStoreWithSnapshots):
    """A store in a layout another program writes: this library reads it and never writes it.

    Every write refuses with :meth:`write_refusal`, whatever ``read_only`` says, so
    nothing can alter data whose invariants this library does not control.
    """

    layout = "a foreign layout"
    """Names the layout in messages (``"the spec example layout"``)."""

    def write_refusal(self) -> str:
        """The one line a write gets: what was found and what to do instead."""
        return f"{self.describe()} holds {self.layout}, which is read-only here"

    def _check_writable(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{type(self).__name__} is closed")
        raise StoreConfigError(self.write_refusal())

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        self._check_writable()
        raise AssertionError("unreachable")

    async def delete(self, stream_id: str) -> None:
        self._check_writable()

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_writable()

    # ── what every read-only layout does the same way ──

    poll_seconds = 0.5
    """How often ``subscribe`` looks for new events: another program writes, no wake-ups."""

    async def _wait_for_append(self, stream_id: str, last_seq: int, timeout: float) -> None:
        await asyncio.sleep(max(timeout, self.poll_seconds))

    def layout_detail(self) -> str:
        """What was found, for ``verify``'s note (``"LISTs l0:stream:<id>"``)."""
        return self.layout

    async def verify(self, *, repair: bool = False) -> VerifyReport:
        """Every stream's stored-seq damage, and whether every event decodes.

        ``repair`` refuses: nothing here may be changed.
        """
        if repair:
            self._check_writable()
        where = self.describe()
        report = VerifyReport(store=where)
        report.notes.append(f"{self.layout_detail()}, read-only")
        for stream_id in await self.list_streams():
            try:
                validate_stream_id(stream_id)
            except EventValidationError as exc:
                report.notes.append(f"stream id {stream_id!r} cannot be read: {exc}")
                continue
            count = 0
            try:
                async for batch in self.iter_batches(stream_id):
                    count += len(batch)
                damage = await self.seq_damage(stream_id)
            except CorruptionError as exc:
                report.streams.append(StreamCheck(stream_id, where, "corrupt", count, str(exc)))
                continue
            check = (damage or SeqDamage(stream_id, count)).check(where)
            report.streams.append(StreamCheck(stream_id, where, check.status, count,
                                              check.detail))
        return report



def supports_snapshots(store: object) -> bool:
    """True for stores that keep snapshots (duck-typed, so wrappers count too)."""
    return callable(getattr(store, "get_snapshot_before", None)) and callable(
        getattr(store, "save_snapshot", None)
    )
