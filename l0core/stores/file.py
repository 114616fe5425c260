"""``FileEventStore``: one append-only JSONL file per stream, safe across processes.

Layout of the directory:

- ``<id>.jsonl``: the stream, one wire envelope per line (the spec's camelCase).
- ``<id>.snapshots.jsonl``: every snapshot saved for the stream, one per line.
- ``<id>.json`` / ``<id>.snapshot.json``: the spec's legacy array files (written by
  the TypeScript library and by ``ai2070-l0``), read as they are; the first append
  to such a stream migrates it to JSONL (temp file + rename, then the array file is
  removed), so nothing is ever lost or rewritten in place.

An append takes an exclusive ``flock`` on the stream file itself, finds the last
seq (cached, validated by the file's size; else read from the tail), cuts off a
torn tail left by a crash, and writes the whole batch with one ``write`` on an
``O_APPEND`` descriptor. No lock files exist, so ``delete`` leaves nothing behind;
a writer that waited on a file that was deleted or replaced sees it has no links
left and reopens.

``durability`` says what an acknowledged append means:

- ``"os"``: handed to the kernel; survives the process dying (kill -9), not a power cut.
- ``"group"`` (default): as ``"os"``, and a background thread ``fdatasync``s written
  files every ``group_interval`` seconds (0.2 s by default), bounding what a power
  cut can take, at almost no cost per append.
- ``"fsync"``: ``fdatasync`` before the append returns.

Without ``"fsync"`` an append whose locks are free is done on the calling thread
(a page-cache write of a few microseconds: cheaper than a thread hop) and keeps
the locks as a *lease* until the task yields to the event loop, so a burst of
appends costs one ``write`` each: that is what makes 100k+ single appends per
second possible. When the locks are busy, the batch is large, or durability is
``"fsync"``, the batch is queued for a worker thread, which writes everything
queued for the stream meanwhile with one ``write`` (and one ``fdatasync``): the
event loop never waits on another process or on the disk.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import re
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import parse_qs

import orjson

from l0core.codec import (
    decode_envelope,
    decode_snapshot,
    encode_envelope,
    encode_lines,
    encode_snapshot,
)
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
    Snapshot,
    validate_stream_id,
)
from l0core.stores.base import BaseEventStoreWithSnapshots, Clock, StorageAdapterConfig
from l0core.stores.jsonl import decode_block, read_tail, split_complete
from l0core.stores.urls import path_from_url
from l0core.stores.verify import StreamCheck, VerifyReport

Durability = Literal["os", "group", "fsync"]
DURABILITY_LEVELS: tuple[Durability, ...] = ("os", "group", "fsync")
DEFAULT_DURABILITY: Durability = "group"

INLINE_MAX_EVENTS = 256
"""Batches up to this size may be written on the calling thread when the lock is free."""
READ_CHUNK = 8 * 1024 * 1024
MAX_OPEN_HANDLES = 256

_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,200}")

_write = os.write
"""The OS-call boundary for appends (the fault tests inject a disk-full here)."""


def _stream_of(name: str) -> str | None:
    """The stream id a directory entry holds events for, or None (snapshots, temp files)."""
    if name.endswith(".jsonl"):
        stem = name[:-6]
    elif name.endswith(".json") and not name.endswith(".snapshot.json"):
        stem = name[:-5]
    else:
        return None
    if stem.endswith(".snapshots"):
        return None
    return stem if _ID_RE.fullmatch(stem) else None


class _Handle:
    """An open stream file plus what this process last knew about it."""

    __slots__ = ("dirty", "draining", "fd", "ino", "last_seq", "lease_loop", "lock", "queue",
                 "queue_lock", "size")

    def __init__(self) -> None:
        self.fd = -1
        self.ino = -1
        self.size = -1
        self.last_seq = -1
        self.lock = threading.Lock()
        self.dirty = False
        self.lease_loop: asyncio.AbstractEventLoop | None = None
        """The event loop whose task holds ``lock`` and the flock until it yields."""
        self.queue: list[_Pending] = []
        self.queue_lock = threading.Lock()
        self.draining = False

    def forget(self) -> None:
        self.size = -1

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1
                self.size = -1


@dataclass(slots=True)
class _Pending:
    """A batch waiting for the stream's worker thread."""

    events: Sequence[JSONDict]
    expected_seq: int | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[int]


def _settle(fut: asyncio.Future[int], outcome: int | BaseException) -> None:
    if fut.done():
        return
    if isinstance(outcome, BaseException):
        fut.set_exception(outcome)
    else:
        fut.set_result(outcome)


@dataclass(slots=True)
class _Cursor:
    """Where a subscriber is in a stream file."""

    next_seq: int
    offset: int = -1
    ino: int = -1


class FileEventStore(BaseEventStoreWithSnapshots):
    """Streams as JSONL files in a directory (the embedded default store)."""

    def __init__(
        self,
        config: StorageAdapterConfig | str | os.PathLike[str] | None = None,
        *,
        durability: Durability | None = None,
        group_interval: float | None = None,
        prefix: str | None = None,
        ttl: int | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
    ) -> None:
        if config is None:
            config = "./l0-events"
        if not isinstance(config, StorageAdapterConfig):
            config = StorageAdapterConfig(type="file", connection=os.fspath(config))
        super().__init__(config, prefix=prefix, ttl=ttl, clock=clock, read_only=read_only)
        location = config.connection or "./l0-events"
        query: dict[str, list[str]] = {}
        if location.startswith("file://") and "?" in location:
            location, _, qs = location.partition("?")
            query = parse_qs(qs)
        self.root = os.path.abspath(path_from_url(location, "file"))
        options = config.options or {}
        from_url = query.get("durability", [])
        chosen = (durability or (from_url[0] if from_url else None)
                  or options.get("durability") or DEFAULT_DURABILITY)
        if chosen not in DURABILITY_LEVELS:
            raise StoreConfigError(f"durability must be one of {', '.join(DURABILITY_LEVELS)}, "
                                   f"got {chosen!r}")
        self.durability = cast(Durability, chosen)
        interval = group_interval if group_interval is not None else options.get(
            "group_interval", 0.2)
        if not isinstance(interval, int | float) or interval <= 0:
            raise StoreConfigError(f"group_interval must be a positive number, got {interval!r}")
        self.group_interval = float(interval)
        if self.read_only:
            if not os.path.isdir(self.root):
                raise StoreConfigError(f"{self.root} is not a directory")
        else:
            try:
                os.makedirs(self.root, exist_ok=True)
            except OSError as exc:
                raise StoreConfigError(f"cannot create store directory {self.root}: "
                                       f"{exc.strerror}") from exc
        self._handles: dict[str, _Handle] = {}
        self._handles_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self.repaired_tails = 0
        """Torn tails this instance cut off while appending (a crash happened before)."""

    def describe(self) -> str:
        return self.root

    # ── paths ──

    def _path(self, stream_id: str) -> str:
        return os.path.join(self.root, stream_id + ".jsonl")

    def _legacy_path(self, stream_id: str) -> str:
        return os.path.join(self.root, stream_id + ".json")

    def _snapshots_path(self, stream_id: str) -> str:
        return os.path.join(self.root, stream_id + ".snapshots.jsonl")

    def _legacy_snapshot_path(self, stream_id: str) -> str:
        return os.path.join(self.root, stream_id + ".snapshot.json")

    # ── expiry ──

    def _expired_stat(self, st: os.stat_result) -> bool:
        return self.ttl > 0 and self.is_expired(st.st_mtime_ns / 1e6)

    def _touch(self, fd: int) -> None:
        if self.ttl > 0:
            ns = int(self.clock() * 1_000_000)
            os.utime(fd, ns=(ns, ns))

    def _source(self, stream_id: str) -> tuple[str, str, os.stat_result] | None:
        """("jsonl" | "legacy", path, stat) of the stream's data, or None; sweeps expired ones."""
        path = self._path(stream_id)
        try:
            st = os.stat(path)
            if st.st_size > 0:
                found = ("jsonl", path, st)
            else:
                raise FileNotFoundError
        except FileNotFoundError:
            legacy = self._legacy_path(stream_id)
            try:
                found = ("legacy", legacy, os.stat(legacy))
            except FileNotFoundError:
                return None
        if self._expired_stat(found[2]):
            if not self.read_only and not self._closed:
                self._delete_sync(stream_id, only_if_expired=True)
            return None
        return found

    # ── handles ──

    def _handle(self, stream_id: str) -> _Handle:
        h = self._handles.get(stream_id)
        if h is None:
            with self._handles_lock:
                h = self._handles.get(stream_id)
                if h is None:
                    if len(self._handles) >= MAX_OPEN_HANDLES:
                        self._close_idle_handles()
                    h = self._handles[stream_id] = _Handle()
        return h

    def _close_idle_handles(self) -> None:
        """Close handles nobody is using (hold ``_handles_lock``).

        Handles still waiting for a group flush stay open (the flusher needs them)."""
        for sid, h in list(self._handles.items()):
            if not h.dirty and h.lock.acquire(blocking=False):
                try:
                    h.close()
                    del self._handles[sid]
                finally:
                    h.lock.release()

    # ── appending ──

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        if self._closed:
            raise StoreClosedError("FileEventStore is closed")
        if self.durability != "fsync" and len(events) <= INLINE_MAX_EVENTS:
            seq = self._append_inline(stream_id, events, expected_seq)
            if seq is not None:
                return seq
        return await self._append_queued(stream_id, events, expected_seq)

    def _append_inline(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int | None:
        """Append on the event loop's thread if no one holds the stream; else None.

        The first inline append takes a *lease*: it keeps the thread lock and the
        flock until the calling task yields to the event loop (a ``call_soon``
        releases them), so back-to-back appends cost one ``write`` each. Other
        processes wait at most until this task yields.
        """
        h = self._handle(stream_id)
        loop = asyncio.get_running_loop()
        if h.lease_loop is loop:
            if self.ttl > 0 or h.size < 0:  # expiry needs the mtime; a failed write, the size
                self._sync_state(h, stream_id, os.fstat(h.fd), migrate=False)
            return self._write_batch(h, stream_id, events, expected_seq)
        if not h.lock.acquire(blocking=False):
            return None
        leased = False
        try:
            st = self._lock_file(h, self._path(stream_id), blocking=False)
            if st is None:
                return None
            try:
                if not self._sync_state(h, stream_id, st, migrate=False):
                    fcntl.flock(h.fd, fcntl.LOCK_UN)  # a legacy file to migrate: off-loop
                    return None
            except BaseException:
                fcntl.flock(h.fd, fcntl.LOCK_UN)
                raise
            h.lease_loop = loop
            leased = True
            loop.call_soon(self._end_lease, h)
            return self._write_batch(h, stream_id, events, expected_seq)
        finally:
            if not leased:
                h.lock.release()

    @staticmethod
    def _end_lease(h: _Handle) -> None:
        h.lease_loop = None
        try:
            if h.fd >= 0:
                fcntl.flock(h.fd, fcntl.LOCK_UN)
        finally:
            h.lock.release()

    async def _append_queued(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        """Queue the batch for this stream's worker thread; concurrent callers share it.

        Whatever is queued while the worker waits for the locks is written with one
        ``write`` (and, with ``"fsync"``, one ``fdatasync``): group commit.
        """
        h = self._handle(stream_id)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        with h.queue_lock:
            h.queue.append(_Pending(events, expected_seq, loop, fut))
            start = not h.draining
            h.draining = True
        if start:
            loop.run_in_executor(None, self._drain, h, stream_id)
        return await fut

    def _drain(self, h: _Handle, stream_id: str) -> None:
        """Write queued batches until the queue is empty (a worker thread)."""
        path = self._path(stream_id)
        while True:
            with h.queue_lock:
                group, h.queue = h.queue, []
                if not group:
                    h.draining = False
                    return
            try:
                with h.lock:
                    if self._closed:
                        raise StoreClosedError("FileEventStore is closed")
                    outcomes = self._write_group(h, stream_id, path, group)
            except BaseException as exc:  # nothing of this group was written
                outcomes = [exc] * len(group)
            for req, outcome in zip(group, outcomes, strict=True):
                try:
                    req.loop.call_soon_threadsafe(_settle, req.future, outcome)
                except RuntimeError:
                    pass  # the caller's loop has closed; nobody is waiting any more

    def _write_group(
        self, h: _Handle, stream_id: str, path: str, group: list[_Pending]
    ) -> list[int | BaseException]:
        """Lock the file and write every request of ``group`` that passes its seq check."""
        while True:
            st = self._lock_file(h, path, blocking=True)
            assert st is not None
            try:
                if not self._sync_state(h, stream_id, st, migrate=True):
                    continue  # migrated a legacy file: lock the new one
                outcomes: list[int | BaseException] = []
                chunks: list[bytes] = []
                last = h.last_seq
                for req in group:
                    if req.expected_seq is not None and req.expected_seq != last:
                        outcomes.append(ConcurrencyConflictError(stream_id, req.expected_seq,
                                                                 last))
                        continue
                    chunks.append(encode_lines(stream_id, last + 1, req.events))
                    last += len(req.events)
                    outcomes.append(last)
                if chunks:
                    self._write_data(h, b"".join(chunks), last)
                return outcomes
            finally:
                if h.fd >= 0:
                    fcntl.flock(h.fd, fcntl.LOCK_UN)

    def _lock_file(
        self, h: _Handle, path: str, blocking: bool, create: bool = True
    ) -> os.stat_result | None:
        """Open (if needed) and flock the stream file, following deletes and renames.

        Returns the file's stat, or None when not ``blocking`` and another process
        holds the lock, or when the file does not exist and ``create`` is off. A file
        that was deleted or replaced while we waited has no links left: reopen.
        Hold ``h.lock``.
        """
        while True:
            if h.fd < 0:
                flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0)
                try:
                    h.fd = os.open(path, flags, 0o644)
                except FileNotFoundError:
                    return None
                h.size = -1
            try:
                fcntl.flock(h.fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                return None
            st = os.fstat(h.fd)
            if st.st_nlink > 0:
                if h.ino != st.st_ino:
                    h.ino = st.st_ino
                    h.size = -1
                return st
            h.close()  # unlinked or renamed over: closing drops the lock

    def _sync_state(self, h: _Handle, stream_id: str, st: os.stat_result, *,
                    migrate: bool) -> bool:
        """Bring ``h`` up to date with the locked file: expiry, torn tail, last seq.

        Returns False when the stream is still a legacy ``.json`` file: with
        ``migrate`` it is migrated first (and ``h`` closed, so the caller relocks).
        """
        size = st.st_size
        if size == 0 and os.path.exists(self._legacy_path(stream_id)):
            if migrate:
                self._migrate_locked(h, stream_id)
            return False
        if size > 0 and self._expired_stat(st):
            os.ftruncate(h.fd, 0)
            _unlink(self._snapshots_path(stream_id))
            size = 0
            h.size = -1
        if size != h.size:
            tail = read_tail(h.fd, size, stream_id=stream_id, path=self._path(stream_id))
            if tail.torn_bytes:
                os.ftruncate(h.fd, tail.good_end)
                self.repaired_tails += 1
            h.last_seq = -1 if tail.last is None else tail.last.seq
            h.size = tail.good_end
        return True

    def _write_batch(
        self, h: _Handle, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        """Write the batch after the last seq (both locks held, state synced)."""
        last = h.last_seq
        self._check_expected(stream_id, expected_seq, last)
        self._write_data(h, encode_lines(stream_id, last + 1, events), last + len(events))
        return h.last_seq

    def _write_data(self, h: _Handle, data: bytes, new_last: int) -> None:
        """Append encoded lines ending at ``new_last``, then make them as durable as asked."""
        size = h.size
        self._write_all(h, data, size)
        h.size = size + len(data)
        h.last_seq = new_last
        self._touch(h.fd)
        if self.durability == "fsync":
            os.fdatasync(h.fd)
            if size == 0:
                _fsync_dir(self.root)
        elif self.durability == "group":
            h.dirty = True
            if self._flusher is None:
                self._ensure_flusher()

    @staticmethod
    def _write_all(h: _Handle, data: bytes, size: int) -> None:
        """Write ``data`` at the end; on failure cut the file back so nothing half-lands."""
        view = memoryview(data)
        try:
            while view:
                n = _write(h.fd, view)
                if n <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[n:]
        except BaseException:
            h.size = -1
            try:
                os.ftruncate(h.fd, size)
            except OSError:
                pass  # the torn tail is cut off by the next append instead
            raise

    def _migrate_locked(self, h: _Handle, stream_id: str) -> None:
        """Rewrite a legacy ``<id>.json`` as JSONL via temp + rename; hold the empty file's lock.

        On any problem the legacy file is left as it was and the append fails.
        """
        legacy = self._legacy_path(stream_id)
        envelopes = self._read_legacy(stream_id, legacy)
        tmp = os.path.join(self.root, f".{stream_id}.jsonl.migrating-{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:
                fh.write(b"".join(orjson.dumps(encode_envelope(e)) + b"\n" for e in envelopes))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path(stream_id))
            _fsync_dir(self.root)
            os.unlink(legacy)
            _fsync_dir(self.root)
        except OSError as exc:
            _unlink(tmp)
            raise StoreConfigError(f"cannot migrate legacy stream file {legacy} to JSONL: "
                                   f"{exc.strerror}; it is unchanged") from exc
        h.close()  # the empty file we locked is gone; reopen the migrated one

    # ── group durability ──

    def _ensure_flusher(self) -> None:
        if self._flusher is None:
            with self._handles_lock:
                if self._flusher is None:
                    t = threading.Thread(target=self._flush_loop, name="l0-file-flush",
                                         daemon=True)
                    self._flusher = t
                    t.start()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.group_interval):
            self.flush()

    def flush(self) -> None:
        """``fdatasync`` every stream file written since the last flush."""
        with self._handles_lock:
            handles = list(self._handles.values())
        for h in handles:
            if not h.dirty:
                continue
            with h.lock:
                if h.fd < 0:
                    continue
                fd = os.dup(h.fd)
                h.dirty = False
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)

    # ── reading ──

    def _read_legacy(self, stream_id: str, path: str) -> list[EventEnvelope]:
        try:
            with open(path, "rb") as fh:
                data = orjson.loads(fh.read())
        except FileNotFoundError:
            return []
        except orjson.JSONDecodeError as exc:
            raise CorruptionError(f"legacy stream file is not JSON: {exc}", path=path) from None
        if not isinstance(data, list):
            raise CorruptionError("legacy stream file is not a JSON array", path=path)
        out: list[EventEnvelope] = []
        for i, item in enumerate(data):
            try:
                env = decode_envelope(item, f"[{i}]")
            except EventValidationError as exc:
                raise CorruptionError(f"legacy stream file: {exc}", path=path) from None
            if env.seq != i or env.stream_id != stream_id:
                raise CorruptionError(
                    f"legacy stream file: item {i} is {env.stream_id!r} seq {env.seq}, "
                    f"expected {stream_id!r} seq {i}", path=path)
            out.append(env)
        return out

    def _read_sync(self, stream_id: str, from_seq: int, to_seq: int | None) -> list[EventEnvelope]:
        src = self._source(stream_id)
        if src is None:
            return []
        kind, path, _ = src
        if kind == "legacy":
            events = self._read_legacy(stream_id, path)
            end = len(events) if to_seq is None else max(0, min(len(events), to_seq + 1))
            return events[max(0, from_seq):end]
        if to_seq is not None:  # a range: read only as far as it goes
            if to_seq < from_seq:
                return []
            reader = _BatchReader(path, stream_id, max(0, from_seq),
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
        reader = _BatchReader(src[1], stream_id, max(0, from_seq), max(1, batch_size))
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
            events = self._read_legacy(stream_id, path)
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
        ids = {sid for name in names if (sid := _stream_of(name)) is not None}
        return sorted(sid for sid in ids if self._source(sid) is not None)

    async def list_streams(self) -> list[str]:
        return await asyncio.to_thread(self._list_sync)

    # ── deleting ──

    def _delete_sync(self, stream_id: str, *, only_if_expired: bool = False) -> None:
        h = self._handle(stream_id)
        path = self._path(stream_id)
        with h.lock:
            locked = self._lock_file(h, path, blocking=True, create=False) is not None
            try:
                if only_if_expired:
                    st = os.fstat(h.fd) if locked else None
                    if st is None or st.st_size == 0:
                        try:
                            st = os.stat(self._legacy_path(stream_id))
                        except FileNotFoundError:
                            st = None
                    if st is None or not self._expired_stat(st):
                        return
                for p in (self._legacy_path(stream_id), self._snapshots_path(stream_id),
                          self._legacy_snapshot_path(stream_id),
                          os.path.join(self.root, stream_id + ".lock")):
                    _unlink(p)
                if locked:
                    _unlink(path)
            finally:
                h.close()
        with self._handles_lock:
            if self._handles.get(stream_id) is h:
                del self._handles[stream_id]

    async def delete(self, stream_id: str) -> None:
        self._check_writable()
        validate_stream_id(stream_id)
        await asyncio.to_thread(self._delete_sync, stream_id)

    # ── snapshots ──

    def _save_snapshot_sync(self, stream_id: str, line: bytes) -> None:
        path = self._snapshots_path(stream_id)
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
        legacy = self._legacy_snapshot_path(stream_id)
        try:
            with open(legacy, "rb") as fh:
                snap = decode_snapshot(orjson.loads(fh.read()))
            if snap.stream_id == stream_id:
                found[snap.seq] = snap
        except FileNotFoundError:
            pass
        except (orjson.JSONDecodeError, EventValidationError) as exc:
            raise CorruptionError(f"legacy snapshot file: {exc}", path=legacy) from None
        path = self._snapshots_path(stream_id)
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

    # ── following ──

    async def subscribe(
        self, stream_id: str, *, after_seq: int = -1, poll_interval: float = 0.05
    ) -> AsyncIterator[EventEnvelope]:
        """Catch up, then follow the file by its size: works while another process writes."""
        validate_stream_id(stream_id)
        cursor = _Cursor(next_seq=after_seq + 1)
        while True:
            batch = await asyncio.to_thread(self._follow_sync, stream_id, cursor)
            for env in batch:
                yield env
                if env.event.type in TERMINAL_TYPES:
                    return
            if not batch:
                await asyncio.sleep(poll_interval)

    def _follow_sync(self, stream_id: str, cursor: _Cursor) -> list[EventEnvelope]:
        src = self._source(stream_id)
        if src is None:
            return []
        kind, path, st = src
        if kind == "legacy":
            events = self._read_legacy(stream_id, path)[cursor.next_seq:]
        else:
            if st.st_ino != cursor.ino or st.st_size < cursor.offset or cursor.offset < 0:
                cursor.ino, cursor.offset, line_seq = st.st_ino, 0, 0  # (re)start from the top
            else:
                line_seq = cursor.next_seq
            if st.st_size <= cursor.offset:
                return []
            with open(path, "rb") as fh:
                fh.seek(cursor.offset)
                data = fh.read(st.st_size - cursor.offset)
            lines, _ = split_complete(data)
            decoded, _ = decode_block(lines, stream_id=stream_id, first_seq=line_seq,
                                      base_offset=cursor.offset, path=path, final_at_eof=True)
            cursor.offset += sum(len(lines[i]) + 1 for i in range(len(decoded)))
            events = [e for e in decoded if e.seq >= cursor.next_seq]
        if events:
            cursor.next_seq = events[-1].seq + 1
        return events

    # ── checking ──

    def _verify_sync(self, repair: bool) -> VerifyReport:
        report = VerifyReport(store=self.root)
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            report.notes.append(f"{self.root} does not exist")
            return report
        ids = sorted({sid for name in names if (sid := _stream_of(name)) is not None})
        for sid in ids:
            report.streams.append(self._check_stream(sid, repair))
        stray = [n for n in names if ".migrating-" in n]
        if stray:
            report.notes.append(f"unfinished migration temp files: {', '.join(sorted(stray))}")
        return report

    def _check_stream(self, sid: str, repair: bool) -> StreamCheck:
        path = self._path(sid)
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            size = 0
        if size == 0:
            legacy = self._legacy_path(sid)
            if not os.path.exists(legacy):
                return StreamCheck(sid, path, "ok", 0, "empty file")
            try:
                n = len(self._read_legacy(sid, legacy))
            except CorruptionError as exc:
                return StreamCheck(sid, legacy, "corrupt", 0, str(exc), exc.offset)
            return StreamCheck(sid, legacy, "legacy", n, "spec .json array file")
        reader = _BatchReader(path, sid, 0, 50_000)
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
        h = self._handle(stream_id)
        path = self._path(stream_id)
        with h.lock:
            if self._lock_file(h, path, blocking=True, create=False) is None:
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

    # ── lifecycle ──

    async def close(self) -> None:
        if self._closed:
            return
        self._stop.set()
        await asyncio.to_thread(self._close_sync)
        await super().close()

    def _close_sync(self) -> None:
        if self._flusher is not None:
            self._flusher.join()
        if self.durability != "os":
            self.flush()
        with self._handles_lock:
            for h in self._handles.values():
                with h.lock:
                    h.close()
            self._handles.clear()


class _BatchReader:
    """Reads a JSONL stream file in chunks and decodes it ``batch_size`` events at a time."""

    def __init__(self, path: str, stream_id: str, from_seq: int, batch_size: int) -> None:
        self.path = path
        self.stream_id = stream_id
        self.from_seq = from_seq
        self.batch_size = batch_size
        self.fh: Any = None
        self.offset = 0
        """File offset of ``pending[0]``."""
        self.seq = 0
        """Seq of ``pending[0]``."""
        self.pending: list[bytes] = []
        self.carry = b""
        self.eof = False
        self.good_end = 0
        """End of the last complete, good line seen so far."""

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def _fill(self) -> None:
        if self.fh is None:
            try:
                self.fh = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            except FileNotFoundError:
                self.eof = True
                return
        chunk = self.fh.read(READ_CHUNK)
        if not chunk:
            self.eof = True
            return
        data = self.carry + chunk
        lines, end = split_complete(data)
        self.carry = data[end:]
        self.pending.extend(lines)

    def next_batch(self) -> list[EventEnvelope]:
        while True:
            # Skip lines before from_seq without decoding them.
            if self.seq < self.from_seq and self.pending:
                skip = min(len(self.pending), self.from_seq - self.seq)
                self.offset += sum(len(line) + 1 for line in self.pending[:skip])
                del self.pending[:skip]
                self.seq += skip
                self.good_end = self.offset
            # One line more than a batch, or EOF: then we know whether a line is the last.
            if len(self.pending) > self.batch_size or (self.eof and self.pending):
                break
            if self.eof:
                return []
            self._fill()
        take = self.pending[:self.batch_size]
        at_eof = self.eof and len(take) == len(self.pending)
        events, torn = decode_block(take, stream_id=self.stream_id, first_seq=self.seq,
                                    base_offset=self.offset, path=self.path, final_at_eof=at_eof)
        used = len(events)
        self.offset += sum(len(line) + 1 for line in take[:used])
        self.good_end = self.offset
        self.seq += used
        del self.pending[:len(take)]
        if torn:
            self.pending.clear()
        return events


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_store(config: StorageAdapterConfig) -> FileEventStore:
    """Registry entry for a directory path or ``file://DIR``."""
    return FileEventStore(config)
