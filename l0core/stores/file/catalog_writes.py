"""Keeping the catalog while appending: records written shortly after, under the flock.

An append only remembers the batch it wrote (``h.pending``: one list append, so a
burst of appends stays as cheap as before); when its lease ends the stream is
marked dirty. A flusher thread wakes ``RECORD_DELAY`` seconds later and, for each
dirty stream, takes the stream's locks, folds what was written into the stream's
:class:`~l0core.stores.file.catalog_state.StreamState` (or folds the file's new bytes
when another process appended meanwhile), and appends one index record *before*
releasing the ``flock``: the latest record of a stream always describes the file as
it was, and a stream's records are in the order of its writes. Reads of this store
flush first, and so does ``close``; a writer that dies inside the delay leaves a
session file nobody holds, so readers check every stream (``catalog_file``).

The state is kept per stream (beyond the open-handle cache), so the next append
starts from it; when the file changed under us or the state was forgotten, the file
is folded once, off the event loop.
"""

from __future__ import annotations

import fcntl
import itertools
import threading
import time

from l0core.stores.file.catalog_records import state_record
from l0core.stores.file.catalog_state import StreamState, fold_stream
from l0core.stores.file.core import FileStoreCore
from l0core.stores.file.handles import StreamHandle, lock_file
from l0core.stores.file.layout import events_path

FOLD_PENDING = 256
"""Batches a stream may collect before they are folded (each keeps its wire dicts alive)."""
MAX_STATES = 4096
"""Stream states remembered after their handles closed (each holds the summary and,
until the stream ends, its content so far)."""
RECORD_DELAY = 0.05
"""Seconds from a lease's end to its stream's record: appends within it share one."""


class CatalogWrites(FileStoreCore):
    """The writer's half of the catalog."""

    _cat_dirty: dict[str, StreamHandle]
    _cat_flushing: threading.Lock
    _cat_wake: threading.Event
    _cat_stop: bool
    _cat_thread: threading.Thread | None

    def _cat_attach(self, h: StreamHandle, stream_id: str, tail_ts: float | None) -> None:
        """Give ``h`` the state that matches its locked file, or None (fold needed).

        ``tail_ts`` is the last event's ts when the file's tail was just read (the
        file changed since our last write, or the handle is new).
        """
        cat = h.cat
        if cat is not None and cat.ino == h.ino and (
                h.cat_end if h.pending else cat.end) == h.size:
            return
        h.pending.clear()
        with self._cat_lock:
            state = self._cat_states.get(stream_id)
        if (state is not None and state.ino == h.ino and state.end == h.size
                and state.size == h.size and state.summary.last_seq == h.last_seq
                and (tail_ts is None or state.summary.last_ts == float(tail_ts))):
            h.cat = state
        elif h.size == 0:
            h.cat = StreamState(stream_id, h.ino, content=False)
        else:
            h.cat = None

    @staticmethod
    def _cat_fold_pending(h: StreamHandle, state: StreamState) -> None:
        """Advance ``state`` by the batches written since (hold the stream's locks)."""
        pending = h.pending
        if len(pending) > 1 and len(pending[0]) == 1:  # single appends: fold them as one
            state.advance(list(itertools.chain.from_iterable(pending)), h.cat_end)
        else:
            for events in pending:
                state.advance(events, h.cat_end)
        pending.clear()

    def _cat_mark(self, h: StreamHandle, stream_id: str) -> None:
        """The lease wrote to the stream: record it within ``RECORD_DELAY``."""
        if not h.pending and h.cat is not None and h.cat.recorded:
            return
        self._cat_dirty[stream_id] = h
        if self._cat_thread is None:
            with self._cat_lock:
                if self._cat_thread is None:
                    t = threading.Thread(target=self._cat_loop, name="l0-catalog",
                                         daemon=True)
                    t.start()
                    self._cat_thread = t
        if not self._cat_wake.is_set():
            self._cat_wake.set()

    def _cat_loop(self) -> None:
        while not self._cat_stop:
            self._cat_wake.wait()
            if self._cat_stop:
                return
            time.sleep(RECORD_DELAY)  # let the burst go on, then record it once
            self._cat_wake.clear()
            self._cat_flush()

    def _cat_flush(self) -> None:
        """Record every dirty stream of this store (any thread but one holding a lease);
        returns once a round running on another thread has finished too."""
        with self._cat_flushing:
            while self._cat_dirty:
                try:
                    stream_id, h = self._cat_dirty.popitem()
                except KeyError:
                    return
                with h.lock:
                    self._cat_record_locked(h, stream_id, force=False)
                    if self._handles.get(stream_id) is not h:
                        h.close()  # evicted from the cache: the record reopened its file

    def _cat_record_locked(self, h: StreamHandle, stream_id: str, *,
                           force: bool) -> StreamState | None:
        """Bring the stream's state to its file's end and append its record (hold
        ``h.lock``; the ``flock`` is taken and released here). ``force``: even when
        this state was recorded already (a reader found the index disagreeing)."""
        st = lock_file(h, events_path(self.root, stream_id), blocking=True, create=False)
        if st is None or st.st_size == 0:  # deleted meanwhile (the delete was recorded)
            if st is not None:
                fcntl.flock(h.fd, fcntl.LOCK_UN)
            h.cat = None
            h.pending.clear()
            return None
        try:
            state = h.cat
            if state is not None and h.pending and state.ino == st.st_ino \
                    and h.cat_end == st.st_size:
                self._cat_fold_pending(h, state)
            elif state is None or state.ino != st.st_ino or state.size != st.st_size \
                    or h.pending:  # another process appended since: fold its bytes too
                with self._cat_lock:
                    known = self._cat_states.get(stream_id)
                state = fold_stream(self.root, stream_id, state or known, fd=h.fd)
                h.pending.clear()
                if state is None:
                    return None
                h.cat = state
            if state.content is None and state.summary.status != "running":
                # ended without a COMPLETE to take the content from: read the file once
                folded = fold_stream(self.root, stream_id, None, fd=h.fd)
                if folded is None:
                    return None
                state = h.cat = folded
            if force or not state.recorded:
                self._cat_append(stream_id, state, st.st_mtime_ns / 1e6)
            return state
        finally:
            if h.fd >= 0:
                fcntl.flock(h.fd, fcntl.LOCK_UN)

    def _cat_append(self, stream_id: str, state: StreamState, mtime_ms: float) -> None:
        """Append the record of ``state`` and remember the state as recorded."""
        try:
            self._cat_log.append(state_record(stream_id, state, mtime_ms))
        except OSError:
            return  # the session now looks dead: readers check every stream
        state.recorded = True
        with self._cat_lock:
            states = self._cat_states
            states.pop(stream_id, None)
            states[stream_id] = state
            if len(states) > MAX_STATES:
                del states[next(iter(states))]

    def _cat_close(self) -> None:
        """Stop the flusher and record what is left (the store is closing)."""
        self._cat_stop = True
        self._cat_wake.set()
        if self._cat_thread is not None:
            self._cat_thread.join()
        self._cat_flush()
