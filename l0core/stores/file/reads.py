"""Reading a file store: whole streams, ranges, batches, the last event, the list of streams.

Reads take no lock: appends land whole lines with one ``write`` on an
``O_APPEND`` descriptor, so a reader sees complete lines plus at most a torn
last one, which it leaves out. Legacy array files are read whole (``legacy``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from l0core.codec import loads
from l0core.events import EventEnvelope, validate_stream_id
from l0core.stores.file.batch_reader import BatchReader
from l0core.stores.file.core import FileStoreCore
from l0core.stores.file.layout import stream_of
from l0core.stores.file.legacy import read_legacy
from l0core.stores.jsonl import decode_block, read_tail, split_complete


class FileReads(FileStoreCore):
    """The read side of ``FileEventStore``."""

    def _read_sync(self, stream_id: str, from_seq: int, to_seq: int | None) -> list[EventEnvelope]:
        src = self._source(stream_id)
        if src is None:
            return []
        kind, path, _ = src
        if kind == "legacy":
            events = read_legacy(stream_id, path)
            end = len(events) if to_seq is None else max(0, min(len(events), to_seq + 1))
            return events[max(0, from_seq):end]
        if to_seq is not None:  # a range: read only as far as it goes
            if to_seq < from_seq:
                return []
            reader = BatchReader(path, stream_id, max(0, from_seq),
                                  min(to_seq - max(0, from_seq) + 1, 50_000))
            out: list[EventEnvelope] = []
            try:
                while (not out or out[-1].seq < to_seq) and (batch := reader.next_batch()):
                    out.extend(batch)
            finally:
                reader.close()
            return [e for e in out if e.seq <= to_seq] if out and out[-1].seq > to_seq else out
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return []
        lines, _ = split_complete(data)
        start = max(0, from_seq)
        stop = len(lines) if to_seq is None else max(start, min(len(lines), to_seq + 1))
        if start >= stop:
            return []
        base = 0 if start == 0 else sum(len(line) + 1 for line in lines[:start])
        events, _ = decode_block(lines[start:stop], stream_id=stream_id, first_seq=start,
                                 base_offset=base, path=path, final_at_eof=stop == len(lines))
        return events

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        return await asyncio.to_thread(self._read_sync, stream_id, 0, None)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        return await asyncio.to_thread(self._read_sync, stream_id, from_seq, to_seq)

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        """Read the file in chunks: memory stays bounded by the batch, not the stream."""
        validate_stream_id(stream_id)
        src = await asyncio.to_thread(self._source, stream_id)
        if src is None:
            return
        if src[0] == "legacy":
            events = await asyncio.to_thread(self._read_sync, stream_id, from_seq, None)
            for i in range(0, len(events), batch_size):
                yield events[i:i + batch_size]
            return
        reader = BatchReader(src[1], stream_id, max(0, from_seq), max(1, batch_size))
        try:
            while True:
                batch = await asyncio.to_thread(reader.next_batch)
                if not batch:
                    return
                yield batch
        finally:
            reader.close()

    def _tail_sync(self, stream_id: str) -> EventEnvelope | None:
        src = self._source(stream_id)
        if src is None:
            return None
        kind, path, _ = src
        if kind == "legacy":
            events = read_legacy(stream_id, path)
            return events[-1] if events else None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return read_tail(fd, os.fstat(fd).st_size, stream_id=stream_id, path=path).last
        finally:
            os.close(fd)

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)
        return await asyncio.to_thread(self._tail_sync, stream_id)

    async def exists(self, stream_id: str) -> bool:
        validate_stream_id(stream_id)
        return await asyncio.to_thread(self._source, stream_id) is not None

    def _list_sync(self) -> list[str]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        ids = {sid for name in names if (sid := stream_of(name)) is not None}
        return sorted(sid for sid in ids if self._source(sid) is not None)

    async def list_streams(self) -> list[str]:
        return await asyncio.to_thread(self._list_sync)

    def _named_sync(self, stream_id: str) -> str | None:
        src = self._source(stream_id)
        if src is None or src[0] == "legacy":
            return None
        try:
            with open(src[1], "rb") as fh:
                first = fh.readline(1 << 20)
            item = loads(first)
        except (OSError, ValueError):
            return None
        named = item.get("streamId", item.get("stream_id")) if isinstance(item, dict) else None
        return named if isinstance(named, str) and named != stream_id else None

    async def content_stream_id(self, stream_id: str) -> str | None:
        """The stream the file's first envelope names when it is not ``stream_id`` (a file
        renamed or copied under another name), else None."""
        validate_stream_id(stream_id)
        return await asyncio.to_thread(self._named_sync, stream_id)
