"""The catalog of a NATS store: every summary record held in memory, kept live.

Loading reads the summaries bucket once through a last-per-subject consumer
(one message per recording, no event read) and keeps that consumer long-polling,
so later puts and deletes from any process arrive by themselves. One stream info
call with a subject filter gives every recording's message count; a record whose
``natsMessages`` differs (a writer crashed between its publish and its put, or a
recording was deleted half-way) is folded again from its subject.

A headers-only consumer on the events subjects tells which recordings were
appended to since; before each answer it is drained (one request), and any
record behind the last complete batch it saw is brought up to date the same way.
Queries are answered from :class:`~l0core.stores.nats_index.SummaryIndex`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from l0core.catalog.query import SummaryFilter, SummaryQuery, text_words
from l0core.codec import loads
from l0core.events import now_ms
from l0core.stores.nats_connection import NatsLink
from l0core.stores.nats_index import SummaryIndex, TextHit
from l0core.stores.nats_kv import DELETED_OPS
from l0core.stores.nats_layout import H_KV_OP, NatsNames, parse_head
from l0core.stores.nats_reads import Delivered, PullConsumer, subject_counts
from l0core.stores.nats_summaries import SummaryKeeper, SummaryRecord

Progress = Callable[[int, int], None]

_REPAIRS_AT_ONCE = 16
_BULK_CONTENTS = 32
"""Contents missing from memory above which the whole contents bucket is read at once."""


class NatsCatalog:
    """Summary records of one store location, in memory, kept up to date."""

    def __init__(self, link: NatsLink, names: NatsNames, keeper: SummaryKeeper, *,
                 ttl: int, read_only: bool) -> None:
        self.link = link
        self.names = names
        self.keeper = keeper
        self.ttl = ttl
        self.read_only = read_only
        self.index = SummaryIndex()
        self.loaded = False
        self._lock = asyncio.Lock()
        self._kv: PullConsumer | None = None
        self._events: PullConsumer | None = None
        self._latest: dict[str, int] = {}
        self._follower: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._contents: dict[str, tuple[int, str]] = {}
        """Final contents, case-folded for matching, by stream id with their natsSeq."""

    @property
    def version(self) -> int:
        return self.index.version

    def record(self, sid: str) -> SummaryRecord | None:
        held = self.index.get(sid)
        return None if held is None else held[0]

    # ── loading and keeping up ──

    async def load(self, progress: Progress | None = None) -> None:
        async with self._lock:
            if self.loaded:
                return
            counts, last_seq = await subject_counts(self.link, self.names.stream,
                                                    self.names.events_filter)
            self._events = await PullConsumer(self.link, self.names.stream,
                                              self.names.events_filter, start_seq=last_seq + 1,
                                              headers_only=True).open()
            bucket = self.keeper.summaries
            self._kv = await PullConsumer(self.link, bucket.stream, bucket.prefix + ">",
                                          last_per_subject=True).open()
            while got := await self._kv.fetch():
                for d in got:
                    self._apply(d)
            by_id = {sid: n for subject, n in counts.items()
                     if (sid := self.names.stream_id_of(subject)) is not None}
            dirty = [sid for sid, n in by_id.items()
                     if (rec := self.record(sid)) is None or rec.messages != n]
            dirty += [sid for sid in self.index.records if sid not in by_id]
            await self._repair(dirty, progress)
            self.index.ordered("start_ts")  # the browser's first order, ready
            self._follower = asyncio.create_task(self._follow())
            self.loaded = True

    def _apply(self, d: Delivered) -> None:
        """One summaries-bucket message: a put or a delete, kept if newer than ours."""
        sid = d.subject[len(self.keeper.summaries.prefix):]
        held = self.index.get(sid)
        if held is not None and held[1] >= d.stream_seq:
            return
        if d.headers and d.headers.get(H_KV_OP) in DELETED_OPS:
            if self.index.pop(sid):
                self._changed.set()
            return
        self.index.put(sid, SummaryRecord.decode(d.data), d.stream_seq)
        self._changed.set()

    async def _follow(self) -> None:
        """Long-poll the summaries bucket for puts and deletes from any writer."""
        assert self._kv is not None
        while not self.link.closed:
            try:
                for d in await self._kv.fetch(wait=1.0):
                    self._apply(d)
            except asyncio.CancelledError:
                raise
            except Exception:  # a server restart: the consumer re-creates itself
                await asyncio.sleep(0.5)

    async def sync(self) -> None:
        """Bring every record up to the events stored before this call."""
        await self.load()
        async with self._lock:
            assert self._events is not None
            while got := await self._events.fetch():
                for d in got:
                    sid = self.names.stream_id_of(d.subject)
                    if sid is not None and parse_head(d.stream_seq, d.headers, sid).completes:
                        self._latest[sid] = d.stream_seq
            stale = []
            for sid, seq in list(self._latest.items()):
                rec = self.record(sid)
                if rec is not None and rec.nats_seq >= seq:
                    del self._latest[sid]
                else:
                    stale.append(sid)
            await self._repair(stale, None)
            for sid in stale:
                self._latest.pop(sid, None)

    async def _repair(self, sids: list[str], progress: Progress | None) -> None:
        gate = asyncio.Semaphore(_REPAIRS_AT_ONCE)
        done = 0

        async def one(sid: str) -> None:
            nonlocal done
            async with gate:
                await self._repair_one(sid)
            done += 1
            if progress is not None:
                progress(done, len(sids))

        await asyncio.gather(*(one(sid) for sid in sids))

    async def _repair_one(self, sid: str) -> None:
        rec, revision = await self.keeper.load(sid)
        new = await self.keeper.fold_from(sid, rec)
        if new is None:
            if self.index.pop(sid):
                self._changed.set()
            if rec is not None and not self.read_only:
                await self.keeper.drop(sid)
            return
        if new is not rec and not self.read_only:
            written = await self.keeper.write_back(sid, new, revision)
            if written is None:  # someone wrote meanwhile: theirs is at least as new
                rec, revision = await self.keeper.load(sid)
                new = rec if rec is not None and rec.nats_seq >= new.nats_seq else new
            else:
                revision = written
        held = self.index.get(sid)
        if held is None or held[1] <= revision:
            self.index.put(sid, new, revision)
            self._changed.set()

    # ── changes made by this store ──

    def note(self, sid: str, rec: SummaryRecord | None, revision: int) -> None:
        if not self.loaded:
            return
        held = self.index.get(sid)
        if held is not None and held[1] >= revision:
            return
        if rec is None:
            self.index.pop(sid)
        else:
            self.index.put(sid, rec, revision)
        self._changed.set()

    def forget(self, sid: str) -> None:
        if self.index.pop(sid):
            self._changed.set()
        self._latest.pop(sid, None)

    async def wait_change(self, timeout: float) -> None:
        self._changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._follower
        for consumer in (self._kv, self._events):
            if consumer is not None:
                await consumer.close()

    # ── answering ──

    def _visible(self) -> Callable[[SummaryRecord], bool]:
        """With a TTL, a recording whose first message has expired is hidden (by the
        writer's clock at its first append, the server removing it by its own)."""
        if self.ttl <= 0:
            return lambda rec: True
        cutoff = now_ms() - self.ttl
        return lambda rec: rec.head_ms > cutoff

    async def get(self, sid: str) -> SummaryRecord | None:
        await self.sync()
        rec = self.record(sid)
        return rec if rec is not None and self._visible()(rec) else None

    async def query(self, query: SummaryQuery) -> list[SummaryRecord]:
        """The records of one page, and one more when another page follows."""
        await self.sync()
        return self.index.page(query, self._visible(), await self._text_hit(query.filter))

    async def count(self, flt: SummaryFilter) -> int:
        await self.sync()
        return self.index.count(flt, self._visible(), await self._text_hit(flt),
                                timeless=self.ttl <= 0)

    async def _text_hit(self, flt: SummaryFilter) -> TextHit | None:
        if flt.text is None:
            return None
        words = text_words(flt.text)
        await self._load_contents_of([rec for rec, _ in self.index.records.values()])
        contents = self._contents

        def hit(rec: SummaryRecord) -> bool:
            held = contents.get(rec.summary.stream_id)
            hay = held[1] if held is not None else ""
            return all(word in hay for word in words)

        return hit

    async def _load_contents_of(self, recs: list[SummaryRecord]) -> None:
        """Make the final content of each record's recording, as of the record, known."""
        missing = [rec for rec in recs
                   if (held := self._contents.get(rec.summary.stream_id)) is None
                   or held[0] != rec.nats_seq]
        if len(missing) > _BULK_CONTENTS:
            await self._load_contents()
            missing = [rec for rec in missing
                       if (held := self._contents.get(rec.summary.stream_id)) is None
                       or held[0] != rec.nats_seq]
        gate = asyncio.Semaphore(_REPAIRS_AT_ONCE)

        async def one(rec: SummaryRecord) -> None:
            sid = rec.summary.stream_id
            async with gate:
                text = None
                if rec.summary.status != "running":
                    text = await self.keeper.stored_content(sid, rec.nats_seq)
                if text is None:
                    text = await self.keeper.fold_content(sid, rec.nats_seq)
            self._contents[sid] = (rec.nats_seq, text.casefold())

        await asyncio.gather(*(one(rec) for rec in missing))

    async def _load_contents(self) -> None:
        bucket = self.keeper.contents
        consumer = await PullConsumer(self.link, bucket.stream, bucket.prefix + ">",
                                      last_per_subject=True).open()
        try:
            while got := await consumer.fetch():
                for d in got:
                    if d.headers and d.headers.get(H_KV_OP) in DELETED_OPS:
                        continue
                    data = loads(d.data)
                    self._contents[d.subject[len(bucket.prefix):]] = (
                        int(data.get("natsSeq", -1)), str(data.get("content", "")).casefold())
        finally:
            await consumer.close()
