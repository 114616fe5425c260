"""Appends on the event loop's thread, under a *lease* on the stream's locks.

Without ``"fsync"``, an append whose locks are free is written on the calling
thread: a page-cache write of a few microseconds, cheaper than a thread hop. The
first such append keeps the thread lock and the ``flock`` as a lease until the
task yields to the event loop, so a burst of appends costs one ``write`` each;
that is what makes 100k+ single appends per second possible. Other processes
wait at most until the task yields. With ``"fsync"``, or when the locks are
busy, the batch is large, the stream is still a legacy file or its summary must
first be folded from the file (``catalog_writes``), the append goes to
``group_commit`` instead. When the lease ends, the stream is marked for its
catalog record.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Sequence

from l0core.events import JSONDict
from l0core.stores.file.handles import StreamHandle, lock_file
from l0core.stores.file.layout import events_path
from l0core.stores.file.writes import StreamWrites

INLINE_MAX_EVENTS = 256
"""Batches up to this size may be written on the calling thread when the lock is free."""


class InlineAppends(StreamWrites):
    """The append path that stays on the event loop's thread."""

    def _append_inline(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int | None:
        """Append on the event loop's thread if no one holds the stream; else None.

        The first inline append takes a *lease*: it keeps the thread lock and the
        flock until the calling task yields to the event loop (a ``call_soon``
        releases them), so back-to-back appends cost one ``write`` each. Other
        processes wait at most until this task yields.
        """
        h = self._handles.for_stream(stream_id)
        loop = asyncio.get_running_loop()
        if h.lease_loop is loop:
            if self.ttl > 0 or h.size < 0:  # expiry needs the mtime; a failed write, the size
                self._sync_state(h, stream_id, os.fstat(h.fd), migrate=False)
            return self._write_batch(h, stream_id, events, expected_seq)
        if not h.lock.acquire(blocking=False):
            return None
        leased = False
        try:
            st = lock_file(h, events_path(self.root, stream_id), blocking=False)
            if st is None:
                return None
            try:
                # A legacy file to migrate, or a stream whose summary must be folded
                # from its file first: both go off the loop.
                if not self._sync_state(h, stream_id, st, migrate=False) or h.cat is None:
                    fcntl.flock(h.fd, fcntl.LOCK_UN)
                    return None
            except BaseException:
                fcntl.flock(h.fd, fcntl.LOCK_UN)
                raise
            # One lease per event loop: a task that appends to stream after stream
            # without yielding would otherwise hold every one of their locks and
            # descriptors until it yields (thousands, past the process's limit).
            held = self._leases.get(loop)
            if held is not None:
                self._end_lease(*held)
            h.lease_loop = loop
            self._leases[loop] = (h, stream_id)
            leased = True
            loop.call_soon(self._end_lease, h, stream_id)
            return self._write_batch(h, stream_id, events, expected_seq)
        finally:
            if not leased:
                h.lock.release()

    def _end_lease(self, h: StreamHandle, stream_id: str) -> None:
        """Release the ``flock`` and the thread lock (``call_soon``: once the task
        yields, or when the same loop leases another stream); the stream's catalog
        record follows shortly (``catalog_writes``)."""
        loop = h.lease_loop
        if loop is None:
            return  # already ended early
        h.lease_loop = None
        if self._leases.get(loop, (None, ""))[0] is h:
            del self._leases[loop]
        try:
            if h.fd >= 0:
                fcntl.flock(h.fd, fcntl.LOCK_UN)
        finally:
            h.lock.release()
            self._cat_mark(h, stream_id)

    def _end_this_loops_lease(self) -> None:
        """End the lease the calling event loop holds, if any: a synchronous call that
        takes the stream locks (``flush``) would otherwise wait for a release that
        only this thread, once it yields, can make."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        held = self._leases.get(loop)
        if held is not None:
            self._end_lease(*held)
