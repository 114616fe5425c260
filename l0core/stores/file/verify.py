"""Checking a file store's files, and cutting torn tails off (``verify(repair=...)``).

Each stream file is decoded to the end: ``ok``, a ``torn_tail`` (bytes after the
last complete event, what a crash mid-append leaves), ``corrupt`` (a bad line
before the end: never touched), or ``legacy`` (a spec ``.json`` array file).
Repair only truncates a torn tail, under the same locks as an append.
"""

from __future__ import annotations

import asyncio
import fcntl
import os

from l0core.errors import CorruptionError
from l0core.stores.file.batch_reader import BatchReader
from l0core.stores.file.core import FileStoreCore
from l0core.stores.file.handles import lock_file
from l0core.stores.file.layout import events_path, legacy_events_path, stream_of
from l0core.stores.file.legacy import read_legacy
from l0core.stores.jsonl import read_tail
from l0core.stores.verify import StreamCheck, VerifyReport


class FileVerify(FileStoreCore):
    """``verify`` and its repair."""

    def _verify_sync(self, repair: bool) -> VerifyReport:
        report = VerifyReport(store=self.root)
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            report.notes.append(f"{self.root} does not exist")
            return report
        ids = sorted({sid for name in names if (sid := stream_of(name)) is not None})
        for sid in ids:
            report.streams.append(self._check_stream(sid, repair))
        stray = [n for n in names if ".migrating-" in n]
        if stray:
            report.notes.append(f"unfinished migration temp files: {', '.join(sorted(stray))}")
        return report

    def _check_stream(self, sid: str, repair: bool) -> StreamCheck:
        path = events_path(self.root, sid)
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            size = 0
        if size == 0:
            legacy = legacy_events_path(self.root, sid)
            if not os.path.exists(legacy):
                return StreamCheck(sid, path, "ok", 0, "empty file")
            try:
                n = len(read_legacy(sid, legacy))
            except CorruptionError as exc:
                return StreamCheck(sid, legacy, "corrupt", 0, str(exc), exc.offset)
            return StreamCheck(sid, legacy, "legacy", n, "spec .json array file")
        reader = BatchReader(path, sid, 0, 50_000)
        count = 0
        try:
            while batch := reader.next_batch():
                count += len(batch)
        except CorruptionError as exc:
            if exc.offset is not None:  # every line before the bad one decoded fine
                with open(path, "rb") as fh:
                    count = fh.read(exc.offset).count(b"\n")
            return StreamCheck(sid, path, "corrupt", count, str(exc), exc.offset)
        finally:
            reader.close()
        if reader.good_end == size:
            return StreamCheck(sid, path, "ok", count)
        detail = f"{size - reader.good_end} bytes after the last complete event"
        repaired = False
        if repair and not self.read_only:
            repaired = self._repair_sync(sid)
        return StreamCheck(sid, path, "torn_tail", count, detail, reader.good_end, repaired)

    def _repair_sync(self, stream_id: str) -> bool:
        h = self._handles.for_stream(stream_id)
        path = events_path(self.root, stream_id)
        with h.lock:
            if lock_file(h, path, blocking=True, create=False) is None:
                return False
            try:
                size = os.fstat(h.fd).st_size
                tail = read_tail(h.fd, size, stream_id=stream_id, path=path)
                if tail.torn_bytes:
                    os.ftruncate(h.fd, tail.good_end)
                    os.fdatasync(h.fd)
                h.size = -1
                return True
            finally:
                fcntl.flock(h.fd, fcntl.LOCK_UN)

    async def verify(self, *, repair: bool = False) -> VerifyReport:
        """Check every stream file; with ``repair``, cut torn tails off (never anything else)."""
        if repair:
            self._check_writable()
        return await asyncio.to_thread(self._verify_sync, repair)
