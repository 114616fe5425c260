"""Durability ``"group"``: one background thread ``fdatasync``s written files periodically.

An append in this mode only marks its handle dirty; the thread wakes every
``interval`` seconds and syncs each dirty stream file, which bounds what a power
cut can take at almost no cost per append. It starts with the first such append.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

from l0core.stores.file.handles import HandleCache


class GroupFlusher:
    """The flusher thread of one store, over that store's handle cache."""

    __slots__ = ("_stopping", "also", "handles", "interval", "thread")

    def __init__(self, handles: HandleCache, interval: float,
                 also: Callable[[], None] | None = None) -> None:
        self.handles = handles
        self.interval = interval
        self.also = also
        """Called after each round (the catalog index's own ``fdatasync``)."""
        self.thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the thread unless it runs already (appends call this when ``thread`` is None)."""
        if self.thread is None:
            with self.handles.lock:
                if self.thread is None:
                    t = threading.Thread(target=self._loop, name="l0-file-flush",
                                         daemon=True)
                    self.thread = t
                    t.start()

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        """``fdatasync`` every stream file written since the last flush."""
        with self.handles.lock:
            handles = list(self.handles.values())
        for h in handles:
            if not h.dirty:
                continue
            with h.lock:
                if h.fd < 0:
                    continue
                try:
                    fd = os.dup(h.fd)
                except OSError:  # no descriptor to spare: sync under the lock instead
                    with contextlib.suppress(OSError):
                        os.fdatasync(h.fd)
                        h.dirty = False
                    continue
                h.dirty = False
            try:
                os.fdatasync(fd)
            except OSError:
                h.dirty = True  # the next round tries again; the thread must not die
            finally:
                os.close(fd)
        if self.also is not None:
            self.also()

    def stop(self) -> None:
        """Ask the thread to end after its current flush (see ``join``)."""
        self._stopping.set()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()
