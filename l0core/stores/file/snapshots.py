"""Snapshots of a file store: appended to ``<id>.snapshots.jsonl``, one per line.

Saving takes an exclusive ``flock`` on the snapshot file (reopening it if it was
replaced meanwhile) and cuts off a torn last line first. Listing also reads the
spec's legacy ``<id>.snapshot.json``; for one seq the JSONL line wins.
"""

from __future__ import annotations

import asyncio
import fcntl
import os

import orjson

from l0core.codec import decode_snapshot, encode_snapshot
from l0core.errors import CorruptionError, EventValidationError
from l0core.events import Snapshot, validate_stream_id
from l0core.stores.file.core import FileStoreCore
from l0core.stores.file.layout import legacy_snapshot_path, snapshots_path
from l0core.stores.jsonl import split_complete


class FileSnapshots(FileStoreCore):
    """Saving and listing snapshots."""

    def _save_snapshot_sync(self, stream_id: str, line: bytes) -> None:
        path = snapshots_path(self.root, stream_id)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            while True:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if same:
                    break
                os.close(fd)
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = os.pread(fd, size, 0)
                os.ftruncate(fd, data.rfind(b"\n") + 1)  # a torn snapshot line
            os.write(fd, line)
            if self.durability == "fsync":
                os.fdatasync(fd)
        finally:
            os.close(fd)

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_writable()
        line = orjson.dumps(encode_snapshot(snapshot)) + b"\n"
        await asyncio.to_thread(self._save_snapshot_sync, snapshot.stream_id, line)

    def _snapshots_sync(self, stream_id: str) -> list[Snapshot]:
        found: dict[int, Snapshot] = {}
        legacy = legacy_snapshot_path(self.root, stream_id)
        try:
            with open(legacy, "rb") as fh:
                snap = decode_snapshot(orjson.loads(fh.read()))
            if snap.stream_id == stream_id:
                found[snap.seq] = snap
        except FileNotFoundError:
            pass
        except (orjson.JSONDecodeError, EventValidationError) as exc:
            raise CorruptionError(f"legacy snapshot file: {exc}", path=legacy) from None
        path = snapshots_path(self.root, stream_id)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            data = b""
        lines, _ = split_complete(data)
        offset = 0
        for i, line in enumerate(lines):
            try:
                snap = decode_snapshot(orjson.loads(line))
            except (orjson.JSONDecodeError, EventValidationError) as exc:
                if i == len(lines) - 1:
                    break  # torn final line
                raise CorruptionError(f"bad snapshot line: {exc}", path=path,
                                      offset=offset) from None
            found[snap.seq] = snap
            offset += len(line) + 1
        return [found[s] for s in sorted(found)]

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        if self.ttl > 0 and not await self.exists(stream_id):
            return []
        return await asyncio.to_thread(self._snapshots_sync, stream_id)
