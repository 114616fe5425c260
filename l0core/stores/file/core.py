"""What every part of the file store shares: its state, where a stream's data is, expiry, delete.

``FileStoreCore`` is the base of the parts (``writes``, ``inline``,
``group_commit``, ``reads``, ``snapshots``, ``follow``, ``verify``), which
``FileEventStore`` puts together; it declares the state they use, which the
store's constructor sets. A stream's data is ``<id>.jsonl`` when that file is not
empty, else a legacy ``<id>.json``. With a TTL, a file's mtime is its stream's
last append: an expired stream is swept when it is next looked at.
"""

from __future__ import annotations

import asyncio
import os
import threading

from l0core.events import validate_stream_id
from l0core.stores.base import BaseEventStoreWithSnapshots
from l0core.stores.file.catalog_file import IndexLog, index_path
from l0core.stores.file.catalog_records import deleted_record
from l0core.stores.file.catalog_state import StreamState
from l0core.stores.file.flusher import GroupFlusher
from l0core.stores.file.handles import HandleCache, StreamHandle, lock_file
from l0core.stores.file.layout import (
    events_path,
    legacy_events_path,
    legacy_snapshot_path,
    snapshots_path,
    unlink_if_exists,
)
from l0core.stores.options import Durability


class FileStoreCore(BaseEventStoreWithSnapshots):
    """The state and the lookups every part of the file store uses."""

    root: str
    """The store's directory (absolute)."""
    durability: Durability
    group_interval: float
    repaired_tails: int
    """Torn tails this instance cut off while appending (a crash happened before)."""
    _handles: HandleCache
    _leases: dict[asyncio.AbstractEventLoop, tuple[StreamHandle, str]]
    """The one stream each event loop holds a lease on (l0core.stores.file.inline)."""
    _flusher: GroupFlusher
    _cat_log: IndexLog
    """Where this store appends its catalog records (``catalog_file``)."""
    _cat_states: dict[str, StreamState]
    """Each stream's summary as of its last record, oldest first (``catalog_writes``)."""
    _cat_lock: threading.Lock
    _cat_dirty: dict[str, StreamHandle]
    """Streams written since their last record, waiting for the catalog flusher."""

    # ── expiry ──

    def _expired_stat(self, st: os.stat_result) -> bool:
        return self.ttl > 0 and self.is_expired(st.st_mtime_ns / 1e6)

    def _source(self, stream_id: str) -> tuple[str, str, os.stat_result] | None:
        """("jsonl" | "legacy", path, stat) of the stream's data, or None; sweeps expired ones."""
        path = events_path(self.root, stream_id)
        try:
            st = os.stat(path)
            if st.st_size > 0:
                found = ("jsonl", path, st)
            else:
                raise FileNotFoundError
        except FileNotFoundError:
            legacy = legacy_events_path(self.root, stream_id)
            try:
                found = ("legacy", legacy, os.stat(legacy))
            except FileNotFoundError:
                return None
        if self._expired_stat(found[2]):
            if not self.read_only and not self._closed:
                self._delete_sync(stream_id, only_if_expired=True)
            return None
        return found

    # ── deleting ──

    def _delete_sync(self, stream_id: str, *, only_if_expired: bool = False) -> None:
        h = self._handles.for_stream(stream_id)
        path = events_path(self.root, stream_id)
        with h.lock:
            locked = lock_file(h, path, blocking=True, create=False) is not None
            try:
                if only_if_expired:
                    st = os.fstat(h.fd) if locked else None
                    if st is None or st.st_size == 0:
                        try:
                            st = os.stat(legacy_events_path(self.root, stream_id))
                        except FileNotFoundError:
                            st = None
                    if st is None or not self._expired_stat(st):
                        return
                for p in (legacy_events_path(self.root, stream_id),
                          snapshots_path(self.root, stream_id),
                          legacy_snapshot_path(self.root, stream_id),
                          os.path.join(self.root, stream_id + ".lock")):
                    unlink_if_exists(p)
                if locked:
                    unlink_if_exists(path)
                self._cat_forget(stream_id, h)
            finally:
                h.close()
        self._handles.discard(stream_id, h)

    def _cat_forget(self, stream_id: str, h: StreamHandle) -> None:
        """The stream was deleted (its locks held): drop its state, record the delete
        before the ``flock`` goes, so a writer waiting on it records after us."""
        h.cat = None
        h.pending.clear()
        self._cat_dirty.pop(stream_id, None)
        with self._cat_lock:
            self._cat_states.pop(stream_id, None)
        if os.path.exists(index_path(self.root)):
            try:
                self._cat_log.append(deleted_record(stream_id))
            except OSError:
                pass  # the session now looks dead to readers: they check every stream

    async def delete(self, stream_id: str) -> None:
        self._check_writable()
        validate_stream_id(stream_id)
        await asyncio.to_thread(self._delete_sync, stream_id)
