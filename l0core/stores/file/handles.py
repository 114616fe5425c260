"""Open stream files: one handle per stream, cached, and the flock that guards appends.

A handle keeps the descriptor open between appends together with what this
process last knew about the file (inode, size, last seq), so an append does not
re-read the tail unless the file changed. ``h.lock`` serialises this process's
threads on the stream, then the ``flock`` on the file itself serialises
processes: always taken in that order. No lock files exist, so a writer that
waited on a file that was deleted or replaced sees it has no links left and
reopens it (``lock_file``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from l0core.events import JSONDict
    from l0core.stores.file.catalog_state import StreamState
    from l0core.stores.file.group_commit import Pending

MAX_OPEN_HANDLES = 256


class StreamHandle:
    """An open stream file plus what this process last knew about it."""

    __slots__ = ("cat", "cat_end", "dirty", "draining", "fd", "ino", "last_seq", "lease_loop",
                 "lock", "pending", "queue", "queue_lock", "size")

    def __init__(self) -> None:
        self.fd = -1
        self.ino = -1
        self.size = -1
        self.last_seq = -1
        self.lock = threading.Lock()
        self.dirty = False
        self.lease_loop: asyncio.AbstractEventLoop | None = None
        """The event loop whose task holds ``lock`` and the flock until it yields."""
        self.queue: list[Pending] = []
        self.queue_lock = threading.Lock()
        self.draining = False
        self.cat: StreamState | None = None
        """The stream's summary as of the last record (None: fold the file first)."""
        self.pending: list[Sequence[JSONDict]] = []
        """Batches written since ``cat`` was advanced (folded when the lease ends)."""
        self.cat_end = -1
        """The file size after the last batch in ``pending``."""

    def forget(self) -> None:
        self.size = -1

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1
                self.size = -1



class HandleCache(dict[str, StreamHandle]):
    """Stream id -> handle; at most about ``MAX_OPEN_HANDLES`` descriptors stay open.

    ``lock`` guards the dictionary itself (and the start of the flusher thread).
    """

    __slots__ = ("lock",)

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def for_stream(self, stream_id: str) -> StreamHandle:
        """The stream's handle, created (not opened) on first use."""
        h = self.get(stream_id)
        if h is None:
            with self.lock:
                h = self.get(stream_id)
                if h is None:
                    if len(self) >= MAX_OPEN_HANDLES:
                        self._close_idle()
                    h = self[stream_id] = StreamHandle()
        return h

    def _close_idle(self) -> None:
        """Close handles nobody is using (hold ``lock``).

        A handle still waiting for the group flush is flushed here first, so the number
        of open descriptors stays bounded however fast new streams arrive (thousands of
        new streams a second outrun a flush round; open files then grew past the
        process limit). One waiting for its catalog record may close: the catalog
        flusher keeps it and opens its file again."""
        for sid, h in list(self.items()):
            if h.lock.acquire(blocking=False):
                try:
                    if h.dirty and h.fd >= 0:
                        os.fdatasync(h.fd)
                        h.dirty = False
                    h.close()
                    del self[sid]
                except OSError:
                    continue  # kept open and dirty: the flusher tries again
                finally:
                    h.lock.release()

    def discard(self, stream_id: str, h: StreamHandle) -> None:
        """Drop ``h`` from the cache if it is still the stream's handle (after a delete)."""
        with self.lock:
            if self.get(stream_id) is h:
                del self[stream_id]

    def close_all(self) -> None:
        """Close every handle and empty the cache (the store is closing)."""
        with self.lock:
            for h in self.values():
                with h.lock:
                    h.close()
            self.clear()


def lock_file(
    h: StreamHandle, path: str, blocking: bool, create: bool = True
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
