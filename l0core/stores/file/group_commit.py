"""Appends that wait for a worker thread, batched per stream: group commit.

An append goes here when it cannot be written inline (the locks are busy, the
batch is large, durability is ``"fsync"``, or a legacy file must be migrated
first). It is queued on the stream's handle, and one worker thread at a time
(from the loop's default executor) drains the stream's queue: everything queued
while it waits for the locks is written with one ``write`` (and, with
``"fsync"``, one ``fdatasync``), each request checked against its own
``expected_seq``; then the stream is marked for its catalog record
(``catalog_writes``). The event loop never waits on another process or on the disk.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Sequence
from dataclasses import dataclass

from l0core.codec import encode_lines
from l0core.errors import ConcurrencyConflictError, StoreClosedError
from l0core.events import JSONDict
from l0core.stores.file.handles import StreamHandle, lock_file
from l0core.stores.file.layout import events_path
from l0core.stores.file.writes import StreamWrites


@dataclass(slots=True)
class Pending:
    """A batch waiting for the stream's worker thread."""

    events: Sequence[JSONDict]
    expected_seq: int | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[int]


def settle(fut: asyncio.Future[int], outcome: int | BaseException) -> None:
    if fut.done():
        return
    if isinstance(outcome, BaseException):
        fut.set_exception(outcome)
    else:
        fut.set_result(outcome)


class GroupCommit(StreamWrites):
    """The append path through the stream's worker thread."""

    async def _append_queued(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        """Queue the batch for this stream's worker thread; concurrent callers share it.

        Whatever is queued while the worker waits for the locks is written with one
        ``write`` (and, with ``"fsync"``, one ``fdatasync``): group commit.
        """
        h = self._handles.for_stream(stream_id)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        with h.queue_lock:
            h.queue.append(Pending(events, expected_seq, loop, fut))
            start = not h.draining
            h.draining = True
        if start:
            loop.run_in_executor(None, self._drain, h, stream_id)
        return await fut

    def _drain(self, h: StreamHandle, stream_id: str) -> None:
        """Write queued batches until the queue is empty (a worker thread)."""
        path = events_path(self.root, stream_id)
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
            else:
                self._cat_mark(h, stream_id)
            for req, outcome in zip(group, outcomes, strict=True):
                try:
                    req.loop.call_soon_threadsafe(settle, req.future, outcome)
                except RuntimeError:
                    pass  # the caller's loop has closed; nobody is waiting any more

    def _write_group(
        self, h: StreamHandle, stream_id: str, path: str, group: list[Pending]
    ) -> list[int | BaseException]:
        """Lock the file and write every request of ``group`` that passes its seq check."""
        while True:
            st = lock_file(h, path, blocking=True)
            assert st is not None
            try:
                if not self._sync_state(h, stream_id, st, migrate=True):
                    continue  # migrated a legacy file: lock the new one
                outcomes: list[int | BaseException] = []
                chunks: list[bytes] = []
                written: list[Sequence[JSONDict]] = []
                last = h.last_seq
                for req in group:
                    if req.expected_seq is not None and req.expected_seq != last:
                        outcomes.append(ConcurrencyConflictError(stream_id, req.expected_seq,
                                                                 last))
                        continue
                    chunks.append(encode_lines(stream_id, last + 1, req.events))
                    written.append(req.events)
                    last += len(req.events)
                    outcomes.append(last)
                if chunks:
                    self._write_data(h, b"".join(chunks), last)
                    h.pending.extend(written)
                    h.cat_end = h.size
                return outcomes
            finally:
                if h.fd >= 0:
                    fcntl.flock(h.fd, fcntl.LOCK_UN)
