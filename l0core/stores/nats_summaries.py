"""Summaries in a key-value bucket, kept in step with the events they summarise.

JetStream cannot publish to a recording's subject and write a key-value entry in
one step, so each summary record says which events it covers: ``natsSeq``, the
stream seq of the last message folded into it, and ``natsMessages``, how many of
the subject's messages that is. After its publish a writer advances the record
from the events in hand and writes it with the revision it read (a
compare-and-set); a writer that finds the record at another message (another
writer, a crash between publish and put) folds the missing messages from the
subject instead. A reader that finds a record behind the subject does the same
before answering, so no reader sees a summary that disagrees with the events
(``docs/format.md``, "NATS JetStream").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from l0core.catalog.summary import (
    StreamSummary,
    advance_summary,
    decode_summary,
    encode_summary,
    final_content,
)
from l0core.codec import dumps, loads
from l0core.errors import CorruptionError
from l0core.events import JSONDict, now_ms
from l0core.stores.nats_connection import NatsLink
from l0core.stores.nats_kv import Bucket, KvEntry, RevisionConflict
from l0core.stores.nats_layout import BatchAssembler, MessageHead, NatsNames
from l0core.stores.nats_reads import first_head, first_message, read_batches, tail_head

_CACHE_LIMIT = 4096
_RESETS = ("COMPLETE", "CONTINUATION")


@dataclass(slots=True)
class SummaryRecord:
    """A summary and the part of the subject it covers."""

    summary: StreamSummary
    nats_seq: int
    """Stream seq of the last message of the last complete batch folded (0: none)."""
    messages: int
    """Subject messages up to ``nats_seq``, parts of torn batches included."""
    head_ms: float
    """When the recording's first message was stored (ms), for hiding expired ones."""
    options_in_stream: bool = False
    """The START options were too large for one value: read them from seq 0."""

    def encode(self, limit: int) -> bytes:
        data: JSONDict = encode_summary(self.summary)
        data.update(natsSeq=self.nats_seq, natsMessages=self.messages, headMs=self.head_ms)
        raw = dumps(data)
        if len(raw) > limit:
            data["options"] = {}
            data["optionsInStream"] = True
            raw = dumps(data)
        return raw

    @staticmethod
    def decode(raw: bytes) -> SummaryRecord:
        data = loads(raw)
        return SummaryRecord(decode_summary(data), int(data["natsSeq"]),
                             int(data["natsMessages"]), float(data.get("headMs", 0.0)),
                             bool(data.get("optionsInStream", False)))

    def copy(self) -> SummaryRecord:
        return SummaryRecord(self.summary.copy(), self.nats_seq, self.messages, self.head_ms,
                             self.options_in_stream)


def _wire(lines: Sequence[bytes]) -> list[JSONDict]:
    return list(loads(b"[" + b",".join(lines) + b"]"))


def alive(head: MessageHead | None) -> bool:
    """With a TTL, a recording lives while its first message (seq 0) does."""
    return head is not None and head.first == 0 and head.starts


class SummaryKeeper:
    """Writes and repairs one store's summary records (and final contents)."""

    def __init__(self, link: NatsLink, names: NatsNames, where: str, *, ttl: int,
                 value_limit: Callable[[], int],
                 on_change: Callable[[str, SummaryRecord | None, int], None]) -> None:
        self.link = link
        self.names = names
        self.where = where
        self.ttl = ttl
        self.value_limit = value_limit
        self.on_change = on_change
        self.summaries = Bucket(link, names, "summaries")
        self.contents = Bucket(link, names, "contents")
        self._cache: dict[str, tuple[SummaryRecord | None, int]] = {}

    # ── reading records ──

    async def load(self, stream_id: str) -> tuple[SummaryRecord | None, int]:
        entry: KvEntry = await self.summaries.get(stream_id)
        rec = None if entry.value is None else SummaryRecord.decode(entry.value)
        return rec, entry.revision

    async def current(self, stream_id: str) -> tuple[SummaryRecord | None, int]:
        """The record as the events stand now (folded when the bucket is behind)."""
        rec, revision = await self.load(stream_id)
        fresh = await self.fold_from(stream_id, rec)
        return fresh, revision

    async def fold_from(self, stream_id: str, rec: SummaryRecord | None) -> SummaryRecord | None:
        """``rec`` brought up to the subject's last complete batch (None: no events).

        Continues after ``rec.nats_seq`` when the next message carries the next seq;
        otherwise (the recording was deleted or expired and written again) folds the
        subject from its start."""
        subject = self.names.subject(stream_id)
        stream = self.names.stream
        tail = await tail_head(self.link, stream, subject, self.where)
        if tail is None:
            return None
        first: tuple[MessageHead, float] | None = None
        if self.ttl > 0:
            first = await first_message(self.link, stream, subject, self.where)
            if first is None or not alive(first[0]):
                return None
        if rec is not None and rec.nats_seq == tail.stream_seq:
            return rec
        base: SummaryRecord | None = None
        start = 1
        if rec is not None and rec.nats_seq < tail.stream_seq:
            after = await first_head(self.link, stream, subject, self.where, rec.nats_seq + 1)
            if after is not None and after.first == rec.summary.last_seq + 1:
                base, start = rec, rec.nats_seq + 1
        if base is not None:
            record = base.copy()
        else:
            first = first or await first_message(self.link, stream, subject, self.where)
            record = SummaryRecord(StreamSummary(stream_id=stream_id), 0, 0,
                                   first[1] if first else now_ms())
        summary = record.summary
        before = record.messages
        asm = BatchAssembler(f"{self.where} {subject}")
        async for batch in read_batches(self.link, stream, subject, start=start,
                                        end=tail.stream_seq, where=asm.where, assembler=asm):
            if batch.first != summary.last_seq + 1:
                if self.ttl > 0 and summary.event_count == 0:
                    return None  # its first messages expired while we read
                raise CorruptionError(f"batch at seq {batch.first} follows seq "
                                      f"{summary.last_seq}", path=asm.where)
            advance_summary(summary, _wire(batch.lines))
            record.nats_seq = batch.end_stream_seq
            record.messages = before + batch.messages
        if summary.event_count == 0:
            return None
        return record

    # ── writing records ──

    def _remember(self, stream_id: str, rec: SummaryRecord | None, revision: int) -> None:
        if len(self._cache) >= _CACHE_LIMIT and stream_id not in self._cache:
            self._cache.pop(next(iter(self._cache)))
        self._cache[stream_id] = (rec, revision)

    def forget(self, stream_id: str) -> None:
        self._cache.pop(stream_id, None)

    async def after_append(self, stream_id: str, wire: Sequence[JSONDict], *, first_seq: int,
                           prev_stream_seq: int, end_stream_seq: int, messages: int) -> None:
        """Bring the record past the batch just published (``wire``, stored at stream
        seqs after ``prev_stream_seq`` up to ``end_stream_seq`` in ``messages`` messages)."""
        cached = self._cache.get(stream_id)
        loaded = cached is None
        if cached is not None:
            rec, revision = cached
        elif prev_stream_seq == 0 and first_seq == 0:
            rec, revision, loaded = None, 0, False  # new: the put checks that no key exists
        else:
            rec, revision = await self.load(stream_id)
        for _ in range(64):
            if rec is not None and rec.nats_seq >= end_stream_seq:
                self._remember(stream_id, rec, revision)
                return  # another writer's record already covers this batch
            new: SummaryRecord | None
            if (rec is not None and rec.nats_seq == prev_stream_seq
                    and rec.summary.last_seq + 1 == first_seq):
                new = SummaryRecord(rec.summary.copy(), end_stream_seq, rec.messages + messages,
                                    rec.head_ms, rec.options_in_stream)
                advance_summary(new.summary, wire)
            elif prev_stream_seq == 0 and first_seq == 0:
                new = SummaryRecord(StreamSummary(stream_id=stream_id), end_stream_seq, messages,
                                    now_ms())
                advance_summary(new.summary, wire)
            elif not loaded:
                # Another writer appended since our put; its record is likely at ``prev``.
                rec, revision = await self.load(stream_id)
                loaded = True
                continue
            else:
                new = await self.fold_from(stream_id, rec)
                if new is None:
                    return  # deleted or expired meanwhile
            try:
                revision = await self.summaries.put(
                    stream_id, new.encode(self.value_limit()), revision)
            except RevisionConflict:
                rec, revision = await self.load(stream_id)
                loaded = True
                continue
            self._remember(stream_id, new, revision)
            self.on_change(stream_id, new, revision)
            if new.summary.status != "running":
                await self._store_content(stream_id, new, wire)
            return
        raise CorruptionError(f"could not bring the summary of {stream_id!r} up to date",
                              path=self.where)

    async def write_back(self, stream_id: str, rec: SummaryRecord, revision: int) -> int | None:
        """A repaired record, written unless the key moved on meanwhile (None then)."""
        try:
            new_rev = await self.summaries.put(stream_id, rec.encode(self.value_limit()),
                                               revision)
        except RevisionConflict:
            return None
        self._remember(stream_id, rec, new_rev)
        return new_rev

    async def drop(self, stream_id: str) -> None:
        self.forget(stream_id)
        await self.summaries.purge(stream_id)
        await self.contents.purge(stream_id)

    # ── final contents, for text search ──

    async def _store_content(self, stream_id: str, rec: SummaryRecord,
                             wire: Sequence[JSONDict]) -> None:
        """Once a recording has ended: its final content, keyed to the record's natsSeq."""
        if any(ev["type"] in _RESETS for ev in wire):
            content = final_content(wire)
        else:
            content = await self.fold_content(stream_id, rec.nats_seq)
        raw = dumps({"natsSeq": rec.nats_seq, "content": content})
        if len(raw) <= self.value_limit():
            await self.contents.put(stream_id, raw, None)

    async def fold_content(self, stream_id: str, end_stream_seq: int) -> str:
        subject = self.names.subject(stream_id)
        content = ""
        async for batch in read_batches(self.link, self.names.stream, subject, start=1,
                                        end=end_stream_seq, where=f"{self.where} {subject}"):
            content = final_content(_wire(batch.lines), content)
        return content

    async def stored_content(self, stream_id: str, nats_seq: int) -> str | None:
        entry = await self.contents.get(stream_id)
        if entry.value is None:
            return None
        data = loads(entry.value)
        return str(data["content"]) if int(data.get("natsSeq", -1)) == nats_seq else None
