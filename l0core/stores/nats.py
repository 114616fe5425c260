"""``NatsEventStore``: recordings on NATS JetStream (``nats://host:4222/?stream=L0``).

The spec's "high-scale, durable, partitioned" row: a replicated log with one
subject per recording (``docs/format.md``, "NATS JetStream"). Appends publish with
``Nats-Expected-Last-Subject-Sequence``, so two writers of one recording conflict
instead of interleaving (the loser re-reads the tail and tries again, or raises
the conflict when the caller gave ``expected_seq``), and with a ``Nats-Msg-Id``, so
a publish resent after a lost reply is stored once. A batch is one message (its
parts, past the payload limit), which makes ``append_many`` all-or-nothing on
servers without atomic batch publish. Summaries, snapshots and final contents
live in key-value buckets; TTL is the stream's ``max_age``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nats.errors
import nats.js.errors
from nats.js.api import PubAck

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery
from l0core.catalog.scan import Progress
from l0core.catalog.summary import StreamSummary
from l0core.codec import decode_event, decode_snapshot, dumps, encode_event, encode_snapshot, loads
from l0core.errors import CorruptionError, StoreClosedError, StoreConfigError, StoreConnectionError
from l0core.events import (
    TERMINAL_TYPES,
    EventEnvelope,
    JSONDict,
    Snapshot,
    validate_stream_id,
)
from l0core.stores.base import (
    BaseEventStore,
    BaseEventStoreWithSnapshots,
    Clock,
    StorageAdapterConfig,
    validate_prefix,
)
from l0core.stores.layouts import ForeignLayoutError
from l0core.stores.nats_catalog import NatsCatalog
from l0core.stores.nats_connection import WRONG_LAST_SEQUENCE, NatsLink, nats_servers
from l0core.stores.nats_index import page_of
from l0core.stores.nats_kv import Bucket
from l0core.stores.nats_layout import (
    DESCRIPTION,
    H_PART,
    PART_HEADROOM,
    Batch,
    BatchAssembler,
    MessageHead,
    NatsNames,
    batch_headers,
    encode_payload,
    parse_head,
    split_payload,
    token_of,
    validate_stream_name,
)
from l0core.stores.nats_reads import (
    PullConsumer,
    first_head,
    locate,
    read_batches,
    subject_counts,
    tail_head,
)
from l0core.stores.nats_summaries import SummaryKeeper, SummaryRecord, alive
from l0core.stores.options import float_option, int_option
from l0core.stores.urls import mask_secrets, split_url_options

__all__ = ["NatsEventStore", "create_nats_event_store", "open_store"]

DEFAULT_URL = "nats://127.0.0.1:4222/?stream=L0"
_OPTION_KEYS = {"stream", "prefix", "ttl", "replicas", "storage", "timeout", "retry_timeout",
                "block_ms", "part_bytes", "duplicate_window"}
_NS_PER_MS = 1_000_000
_TAILS_KEPT = 65_536
"""Recordings whose tail a store remembers (the oldest is forgotten first)."""


@dataclass(slots=True, frozen=True)
class _Tail:
    """A recording's tail as this store last saw it: stream seq (0: empty) and last seq."""

    stream_seq: int
    last_seq: int


class _Conflict(Exception):
    """The subject moved on since the tail the publish was checked against."""


def _decode(stream_id: str, batch: Batch, lo: int, hi: int | None) -> list[EventEnvelope]:
    objs = loads(b"[" + b",".join(batch.lines) + b"]")
    out = []
    for i, obj in enumerate(objs):
        seq = batch.first + i
        if seq >= lo and (hi is None or seq <= hi):
            out.append(EventEnvelope(stream_id, seq, decode_event(obj)))
    return out


class NatsEventStore(BaseEventStoreWithSnapshots):
    """Event store on NATS JetStream (nats-py).

    Create it with :func:`create_event_store` (``nats://host:4222/?stream=L0``), or
    construct it and ``await store.open()``. Options (URL query or
    ``config.options``): ``stream`` (``L0``), ``replicas`` (1, when the stream is
    created), ``storage`` (``file``), ``timeout`` (s, 5, per request),
    ``retry_timeout`` (s, 30: how long a request is resent while the server is
    away), ``block_ms`` (1000, live follow), ``part_bytes`` (0: the server's payload
    limit), ``duplicate_window`` (s, 120); ``prefix`` and ``ttl`` (ms) too.
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
        cfg = config or StorageAdapterConfig(type="nats", connection=DEFAULT_URL)
        url, url_options = split_url_options(cfg.connection or DEFAULT_URL, _OPTION_KEYS, "NATS")
        options: dict[str, Any] = {**url_options, **cfg.options}
        if prefix is None and cfg.prefix == "l0" and "prefix" in options:
            prefix = validate_prefix(options["prefix"])
        if ttl is None and cfg.ttl == 0 and "ttl" in options:
            ttl = int_option(options, "ttl", 0, 0)
        super().__init__(cfg, prefix=prefix, ttl=ttl, clock=clock, read_only=read_only)
        self.names = NatsNames(validate_stream_name(options.get("stream", "L0")), self.prefix)
        self._servers = nats_servers(url)
        self._replicas = int_option(options, "replicas", 1, 1)
        self._replicas_given = "replicas" in options
        self._storage = str(options.get("storage", "file"))
        if self._storage not in ("file", "memory"):
            raise StoreConfigError(f"option storage={self._storage!r} must be file or memory")
        self._timeout = float_option(options, "timeout", 5.0)
        self._retry_timeout = float_option(options, "retry_timeout", 30.0)
        self._block_s = int_option(options, "block_ms", 1000, 10) / 1000
        self._part_bytes = int_option(options, "part_bytes", 0, 0)
        self._dup_window_s = float_option(options, "duplicate_window", 120.0)
        self._link: NatsLink | None = None
        self._tails: dict[str, _Tail] = {}
        self._locks: dict[str, list[Any]] = {}
        self._keeper: SummaryKeeper | None = None
        self._catalog: NatsCatalog | None = None
        self._snapshots: Bucket | None = None
        self.keeps_summaries = True

    def describe(self) -> str:
        return mask_secrets(self.config.connection or DEFAULT_URL)

    # ── lifecycle ──

    async def open(self) -> NatsEventStore:
        """Connect, then find (or, writable, create) the stream and the buckets."""
        if self._link is not None:
            return self
        link = NatsLink(self._servers, self.describe(), timeout=self._timeout,
                        retry_timeout=self._retry_timeout)
        await link.connect()
        try:
            await self._prepare(link)
        except nats.js.errors.APIError as exc:
            await link.close()
            raise StoreConfigError(f"NATS at {self.describe()} refused to set up stream "
                                   f"{self.names.stream}: {exc.description or exc}") from None
        except BaseException:
            await link.close()
            raise
        self._link = link
        return self

    async def _prepare(self, link: NatsLink) -> None:
        try:
            await link.nc.request("$JS.API.INFO", b"", timeout=min(self._timeout, 3.0))
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            raise StoreConnectionError(
                f"NATS at {self.describe()} has no JetStream (start nats-server with -js)"
            ) from None
        name = self.names.stream
        try:
            info = await link.api(f"STREAM.INFO.{name}", None, f"looking up stream {name}")
        except nats.js.errors.NotFoundError:
            info = None
        if info is None:
            if not self.read_only:
                await self._create_stream(link)
        else:
            await self._adopt_stream(link, info.get("config") or {})
        self._snapshots = Bucket(link, self.names, "snapshots")
        self._keeper = SummaryKeeper(link, self.names, self.describe(), ttl=self.ttl,
                                     value_limit=self._value_limit, on_change=self._noted)
        if self.read_only:
            self.keeps_summaries = await self._keeper.summaries.exists()
        else:
            for bucket in (self._keeper.summaries, self._keeper.contents, self._snapshots):
                await bucket.ensure(ttl_ms=self.ttl, replicas=self._replicas,
                                    storage=self._storage)
        self._catalog = NatsCatalog(link, self.names, self._keeper, ttl=self.ttl,
                                    read_only=self.read_only)

    def _stream_config(self) -> dict[str, Any]:
        window = self._dup_window_s * 1000
        if self.ttl > 0:
            window = min(window, float(self.ttl))
        return {
            "name": self.names.stream, "description": DESCRIPTION,
            "subjects": [self.names.stream_subjects], "retention": "limits",
            "storage": self._storage, "num_replicas": self._replicas, "discard": "old",
            "max_age": self.ttl * _NS_PER_MS, "duplicate_window": int(window * _NS_PER_MS),
            "max_msgs": -1, "max_bytes": -1, "max_msg_size": -1, "max_consumers": -1,
            "max_msgs_per_subject": -1,
        }

    async def _create_stream(self, link: NatsLink) -> None:
        try:
            await link.api(f"STREAM.CREATE.{self.names.stream}", self._stream_config(),
                           f"creating stream {self.names.stream}")
        except nats.js.errors.APIError as exc:
            if exc.err_code == 10058:  # created by another process meanwhile
                return
            raise StoreConfigError(f"NATS at {self.describe()} refused to create stream "
                                   f"{self.names.stream}: {exc.description}") from None

    async def _adopt_stream(self, link: NatsLink, config: dict[str, Any]) -> None:
        """Check the stream is ours; align its TTL (and replicas) with what was asked."""
        name = self.names.stream
        if (config.get("description") != DESCRIPTION
                or config.get("subjects") != [self.names.stream_subjects]):
            raise ForeignLayoutError(
                f"{self.describe()}: JetStream stream {name} (subjects "
                f"{', '.join(config.get('subjects') or []) or 'none'}) was not created by "
                "l0core; nothing was changed (choose another stream with ?stream=NAME)",
                "foreign")
        max_age_ms = int(config.get("max_age", 0)) // _NS_PER_MS
        changed = False
        if self.ttl == 0:
            self.ttl = max_age_ms
        elif max_age_ms != self.ttl and not self.read_only:
            config["max_age"] = self.ttl * _NS_PER_MS
            config["duplicate_window"] = min(int(config.get("duplicate_window", 0)),
                                             self.ttl * _NS_PER_MS)
            changed = True
        if self._replicas_given and not self.read_only and (
                int(config.get("num_replicas", 1)) != self._replicas):
            config["num_replicas"] = self._replicas
            changed = True
        if changed:
            await link.api(f"STREAM.UPDATE.{name}", config, f"updating stream {name}")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._catalog is not None:
            await self._catalog.close()
        if self._link is not None:
            await self._link.close()

    def _require(self) -> NatsLink:
        if self._closed:
            raise StoreClosedError("NatsEventStore is closed")
        if self._link is None:
            raise StoreClosedError("NatsEventStore is not open: await store.open() first")
        return self._link

    @property
    def keeper(self) -> SummaryKeeper:
        assert self._keeper is not None
        return self._keeper

    @property
    def catalog(self) -> NatsCatalog:
        assert self._catalog is not None
        return self._catalog

    def _part_limit(self) -> int:
        if self._part_bytes:
            return self._part_bytes
        return max(1024, self._require().max_payload - PART_HEADROOM)

    def _value_limit(self) -> int:
        return max(1024, self._require().max_payload - PART_HEADROOM)

    def _noted(self, stream_id: str, rec: SummaryRecord | None, revision: int) -> None:
        if self._catalog is not None:
            self._catalog.note(stream_id, rec, revision)

    # ── writing ──

    @contextlib.asynccontextmanager
    async def _writing(self, stream_id: str) -> AsyncIterator[None]:
        """One append at a time per recording in this process (fewer conflicts)."""
        entry = self._locks.get(stream_id)
        if entry is None:
            entry = self._locks[stream_id] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[stream_id]

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        link = self._require()
        lines = [dumps(e) for e in events]
        pieces = split_payload(encode_payload(lines), self._part_limit())
        subject = self.names.subject(stream_id)
        async with self._writing(stream_id):
            tail = self._tails.get(stream_id)
            if expected_seq == -1 and self.ttl <= 0 and tail is None:
                tail = _Tail(0, -1)  # a new recording, as the caller says: the publish checks
            elif tail is None or self.ttl > 0:
                tail = await self._current_tail(link, stream_id)
            while True:
                self._check_expected(stream_id, expected_seq, tail.last_seq)
                first = tail.last_seq + 1
                try:
                    end = await self._publish(link, subject, stream_id, pieces, first,
                                              len(lines), tail.stream_seq)
                except _Conflict:
                    tail = await self._current_tail(link, stream_id)
                    continue
                break
            last = first + len(lines) - 1
            if len(self._tails) >= _TAILS_KEPT and stream_id not in self._tails:
                self._tails.pop(next(iter(self._tails)))
            self._tails[stream_id] = _Tail(end, last)
            try:
                await self.keeper.after_append(stream_id, events, first_seq=first,
                                               prev_stream_seq=tail.stream_seq,
                                               end_stream_seq=end, messages=len(pieces))
            except Exception:  # the events are stored, whatever happened next
                # The summary is left behind; the next reader folds what it lacks.
                self.keeper.forget(stream_id)
        return last

    async def _publish(self, link: NatsLink, subject: str, stream_id: str,
                       pieces: list[bytes], first: int, count: int, prev: int) -> int:
        """Publish the batch's messages in order, each checked against the one before."""
        token = secrets.token_hex(8)
        parts = len(pieces) if len(pieces) > 1 else 0
        for i, piece in enumerate(pieces, 1):
            headers = batch_headers(stream_id, first, count, prev, token, i if parts else 0,
                                    parts)
            prev = await self._publish_one(link, subject, stream_id, piece, headers, prev,
                                           token)
        return prev

    async def _publish_one(self, link: NatsLink, subject: str, stream_id: str, piece: bytes,
                           headers: dict[str, str], prev: int, token: str) -> int:
        """One message after stream seq ``prev``; its stream seq, or :class:`_Conflict`.

        A duplicate ack names the message stored under our id: ours when its token is
        ours (a resend), another writer's that read the same tail otherwise. A
        conflict after a resend may hide our own first attempt (stored, its reply
        lost, its id gone from a short duplicate window): the message after ``prev``
        tells."""
        what = f"appending to {stream_id}"
        sent = 0

        async def send() -> PubAck:
            nonlocal sent
            sent += 1
            return await link.js.publish(subject, piece, headers=dict(headers))

        try:
            ack = await link.run(send, what)
        except nats.js.errors.APIError as exc:
            if exc.err_code != WRONG_LAST_SEQUENCE:
                raise StoreConnectionError(
                    f"NATS at {self.describe()} refused an append to {stream_id}: "
                    f"{exc.description or exc}") from None
            if sent > 1:
                after = await link.get_msg(self.names.stream, what, next_by_subject=subject,
                                           seq=prev + 1)
                if after is not None and token_of(after.headers) == token and (
                        (after.headers or {}).get(H_PART) == headers.get(H_PART)):
                    return int(after.seq or 0)
            raise _Conflict from None
        if ack.duplicate:
            stored = await link.get_msg(self.names.stream, what, seq=int(ack.seq))
            if stored is None or token_of(stored.headers) != token:
                raise _Conflict
        return int(ack.seq)

    async def _current_tail(self, link: NatsLink, stream_id: str) -> _Tail:
        """The tail on the server; with a TTL, an expired recording is cleared first."""
        subject = self.names.subject(stream_id)
        head = await tail_head(link, self.names.stream, subject, self.describe())
        if head is None:
            return _Tail(0, -1)
        if self.ttl > 0:
            first = await first_head(link, self.names.stream, subject, self.describe())
            if not alive(first):
                # Only what we saw is purged: a writer that started the recording
                # again meanwhile keeps its messages (and our publish conflicts).
                await link.api(f"STREAM.PURGE.{self.names.stream}",
                               {"filter": subject, "seq": head.stream_seq + 1},
                               f"clearing expired {stream_id}")
                await self.keeper.drop(stream_id)
                await self._snaps().purge_matching(f"{stream_id}.>")
                return _Tail(0, -1)
        return _Tail(head.stream_seq, head.last_complete_seq)

    async def delete(self, stream_id: str) -> None:
        self._check_writable()
        validate_stream_id(stream_id)
        link = self._require()
        async with self._writing(stream_id):
            await link.api(f"STREAM.PURGE.{self.names.stream}",
                           {"filter": self.names.subject(stream_id)}, f"deleting {stream_id}")
            self._tails.pop(stream_id, None)
            await self.keeper.drop(stream_id)
            await self._snaps().purge_matching(f"{stream_id}.>")
            self.catalog.forget(stream_id)

    # ── reading ──

    async def _alive_tail(self, stream_id: str) -> MessageHead | None:
        """The tail of a recording that exists (with a TTL: whose seq 0 has not expired)."""
        link = self._require()
        subject = self.names.subject(stream_id)
        head = await tail_head(link, self.names.stream, subject, self.describe())
        if head is None or self.ttl <= 0:
            return head
        first = await first_head(link, self.names.stream, subject, self.describe())
        return head if alive(first) else None

    async def _batches(self, stream_id: str, from_seq: int, to_seq: int | None,
                       ) -> AsyncIterator[Batch]:
        """The recording's complete batches that hold seqs ``from_seq..to_seq``, checked
        to follow each other from seq 0 (or ``from_seq``) without a gap."""
        link = self._require()
        head = await self._alive_tail(stream_id)
        if head is None:
            return
        subject = self.names.subject(stream_id)
        where = f"{self.describe()} {subject}"
        start = await locate(link, self.names.stream, subject, from_seq, head, where)
        expect: int | None = None
        async for batch in read_batches(link, self.names.stream, subject, start=start,
                                        end=head.stream_seq, where=where):
            end = batch.first + len(batch.lines) - 1
            if expect is None:
                if end < from_seq:
                    continue
                if batch.first > max(0, from_seq):
                    if self.ttl > 0:
                        return  # its first messages expired while we read
                    raise CorruptionError(f"the first batch found starts at seq {batch.first}, "
                                          f"not {max(0, from_seq)}", path=where)
            elif batch.first != expect:
                raise CorruptionError(f"batch at seq {batch.first} follows seq {expect - 1}",
                                      path=where)
            expect = end + 1
            yield batch
            if to_seq is not None and end >= to_seq:
                return

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        return await self.read_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        if to_seq is not None and to_seq < max(0, from_seq):
            return []
        lo = max(0, from_seq)
        out: list[EventEnvelope] = []
        async for batch in self._batches(stream_id, lo, to_seq):
            out.extend(_decode(stream_id, batch, lo, to_seq))
        return out

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        """Memory bounded by the batch (and one stored message)."""
        validate_stream_id(stream_id)
        size = max(1, batch_size)
        lo = max(0, from_seq)
        pending: list[EventEnvelope] = []
        async for batch in self._batches(stream_id, lo, None):
            pending.extend(_decode(stream_id, batch, lo, None))
            while len(pending) >= size:
                yield pending[:size]
                pending = pending[size:]
        if pending:
            yield pending

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)
        link = self._require()
        subject = self.names.subject(stream_id)
        msg = await link.get_msg(self.names.stream, f"reading the tail of {stream_id}",
                                 last_by_subject=subject)
        if msg is None:
            return None
        head = parse_head(int(msg.seq or 0), msg.headers, self.describe())
        if self.ttl > 0 and await self._alive_tail(stream_id) is None:
            return None
        if head.part == 0:
            last_line = (msg.data or b"").rsplit(b"\n", 1)[-1]
            seq = head.first + head.count - 1
            return EventEnvelope(stream_id, seq, decode_event(loads(last_line)))
        if head.last_complete_seq < 0:
            return None
        found = await self.read_events(stream_id, from_seq=head.last_complete_seq)
        return found[0] if found else None

    async def get_last_seq(self, stream_id: str) -> int:
        validate_stream_id(stream_id)
        head = await self._alive_tail(stream_id)
        return -1 if head is None else head.last_complete_seq

    async def exists(self, stream_id: str) -> bool:
        return await self.get_last_seq(stream_id) >= 0

    async def list_streams(self) -> list[str]:
        """The recordings' subjects, from one stream info call (no message is read)."""
        link = self._require()
        try:
            counts, _ = await subject_counts(link, self.names.stream, self.names.events_filter)
        except nats.js.errors.NotFoundError:
            return []
        ids = sorted(sid for subject in counts
                     if (sid := self.names.stream_id_of(subject)) is not None)
        if self.ttl <= 0:
            return ids
        alive_ids = await asyncio.gather(*(self._alive_tail(sid) for sid in ids))
        return [sid for sid, head in zip(ids, alive_ids, strict=True) if head is not None]

    # ── live follow: a pull consumer on the recording's subject ──

    async def subscribe(
        self, stream_id: str, *, after_seq: int = -1, poll_interval: float = 0.05
    ) -> AsyncIterator[EventEnvelope]:
        """Catch up from ``after_seq`` then follow: one consumer, long-polling."""
        validate_stream_id(stream_id)
        link = self._require()
        subject = self.names.subject(stream_id)
        where = f"{self.describe()} {subject}"
        head = await tail_head(link, self.names.stream, subject, where)
        start = 1
        if head is not None and after_seq >= 0:
            start = await locate(link, self.names.stream, subject, after_seq + 1, head, where)
        consumer = await PullConsumer(link, self.names.stream, subject, start_seq=start).open()
        asm = BatchAssembler(where)
        last = after_seq
        try:
            while True:
                for d in await consumer.fetch(wait=self._block_s):
                    batch = asm.feed(parse_head(d.stream_seq, d.headers, where), d.data)
                    if batch is None or batch.first + len(batch.lines) - 1 <= last:
                        continue
                    if batch.first > last + 1:
                        raise CorruptionError(f"seq {last + 1} is missing (next batch starts "
                                              f"at {batch.first})", path=where)
                    for env in _decode(stream_id, batch, last + 1, None):
                        last = env.seq
                        yield env
                        if env.event.type in TERMINAL_TYPES:
                            return
        finally:
            await consumer.close()

    # ── snapshots: key <id>.<seq> in the snapshots bucket ──

    def _snaps(self) -> Bucket:
        assert self._snapshots is not None
        return self._snapshots

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_writable()
        data = dumps(encode_snapshot(snapshot))
        validate_stream_id(snapshot.stream_id)
        await self._snaps().put(f"{snapshot.stream_id}.{snapshot.seq}", data, None)

    async def _snapshot_seqs(self, stream_id: str) -> list[int]:
        """The seqs that have a snapshot, from the bucket's subjects (no value is read)."""
        bucket = self._snaps()
        try:
            counts, _ = await subject_counts(self._require(), bucket.stream,
                                             bucket.subject(f"{stream_id}.*"))
        except nats.js.errors.NotFoundError:
            return []
        seqs = []
        for subject in counts:
            tail = subject.rsplit(".", 1)[-1]
            if tail.isdigit():
                seqs.append(int(tail))
        return sorted(seqs)

    async def _snapshot_at(self, stream_id: str, seq: int) -> Snapshot | None:
        entry = await self._snaps().get(f"{stream_id}.{seq}")
        return None if entry.value is None else decode_snapshot(loads(entry.value))

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        if self.ttl > 0 and not await self.exists(stream_id):
            return []
        found = await asyncio.gather(*(self._snapshot_at(stream_id, seq)
                                       for seq in await self._snapshot_seqs(stream_id)))
        return [s for s in found if s is not None]

    async def get_snapshot_before(self, stream_id: str, seq: int) -> Snapshot | None:
        validate_stream_id(stream_id)
        if self.ttl > 0 and not await self.exists(stream_id):
            return None
        candidates = [s for s in await self._snapshot_seqs(stream_id) if s <= seq]
        return await self._snapshot_at(stream_id, candidates[-1]) if candidates else None

    async def get_snapshot(self, stream_id: str) -> Snapshot | None:
        return await self.get_snapshot_before(stream_id, 2**63 - 1)

    # ── the catalog (docs/format.md, "The catalog") ──

    async def _full(self, rec: SummaryRecord | None) -> StreamSummary | None:
        """The summary to hand out; options too large for the bucket come from seq 0."""
        if rec is None:
            return None
        summary = rec.summary.copy()
        if rec.options_in_stream:
            first = await self.read_events(summary.stream_id, to_seq=0)
            if first:
                summary.options = dict(encode_event(first[0].event).get("options") or {})
        return summary

    async def get_summary(self, stream_id: str) -> StreamSummary | None:
        validate_stream_id(stream_id)
        if not self.keeps_summaries:
            return await super().get_summary(stream_id)
        self._require()
        if self.catalog.loaded:
            return await self._full(await self.catalog.get(stream_id))
        stored, revision = await self.keeper.load(stream_id)
        rec = await self.keeper.fold_from(stream_id, stored)
        if rec is not None and rec is not stored and not self.read_only:
            await self.keeper.write_back(stream_id, rec, revision)
        return await self._full(rec)

    async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
        if not self.keeps_summaries:
            return await super().query_summaries(query)
        self._require()
        page = page_of(await self.catalog.query(query), query)
        for i, summary in enumerate(page.items):
            rec = self.catalog.record(summary.stream_id)
            if rec is not None and rec.options_in_stream:
                full = await self._full(rec)
                if full is not None:
                    page.items[i] = full
        return page

    async def count_summaries(self, flt: SummaryFilter | None = None) -> int:
        if not self.keeps_summaries:
            return await super().count_summaries(flt)
        self._require()
        return await self.catalog.count(flt or SummaryFilter())

    async def prepare_catalog(self, progress: Progress | None = None) -> None:
        if not self.keeps_summaries:
            await super().prepare_catalog(progress)
            return
        await self.catalog.load(progress)

    async def catalog_version(self) -> object:
        if not self.keeps_summaries:
            return None
        self._require()
        await self.catalog.sync()
        return self.catalog.version

    async def wait_catalog_change(self, timeout: float) -> None:
        if self.keeps_summaries and self._catalog is not None and self._catalog.loaded:
            await self._catalog.wait_change(timeout)
        else:
            await asyncio.sleep(timeout)

    async def build_catalog(self, progress: Progress | None = None) -> int:
        """Fold every recording whose summary is missing or behind (``l0tui index``)."""
        self._check_writable()
        self._require()
        await self.catalog.load(progress)
        return len(self.catalog.index)

    # ── maintenance ──

    async def drop_all(self) -> int:
        """Delete every recording of this prefix and its buckets; returns how many."""
        self._check_writable()
        link = self._require()
        ids = await self.list_streams()
        await link.api(f"STREAM.PURGE.{self.names.stream}",
                       {"filter": f"{self.names.stream}.{self.prefix}.>"}, "dropping the prefix")
        for bucket in (self.keeper.summaries, self.keeper.contents, self._snaps()):
            await bucket.delete()
        self._tails.clear()
        return len(ids)


async def create_nats_event_store(
    url: str = DEFAULT_URL,
    *,
    prefix: str = "l0",
    ttl: int = 0,
    options: Mapping[str, Any] | None = None,
    read_only: bool = False,
) -> NatsEventStore:
    """Open a :class:`NatsEventStore` on ``url`` (``nats://host:4222/?stream=NAME``)."""
    cfg = StorageAdapterConfig(type="nats", connection=url, prefix=validate_prefix(prefix),
                               ttl=ttl, options=dict(options or {}), read_only=read_only)
    return await NatsEventStore(cfg).open()


async def open_store(config: StorageAdapterConfig) -> BaseEventStore:
    """Registry entry for ``nats://``."""
    return await NatsEventStore(config).open()
