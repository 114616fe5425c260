"""The write itself, shared by both append paths (``inline`` and ``group_commit``).

With the stream's thread lock and ``flock`` held: bring the handle up to date
with the file (expiry, a torn tail left by a crash, the last seq, a legacy file
to migrate), check ``expected_seq``, write the whole batch with one ``write`` on
the ``O_APPEND`` descriptor (cut back on failure, so nothing half-lands), then
make it as durable as ``durability`` asks.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence

from l0core.codec import encode_lines
from l0core.events import JSONDict
from l0core.stores.file.catalog_writes import FOLD_PENDING, CatalogWrites
from l0core.stores.file.handles import StreamHandle
from l0core.stores.file.layout import (
    events_path,
    fsync_dir,
    legacy_events_path,
    snapshots_path,
    unlink_if_exists,
)
from l0core.stores.file.legacy import migrate_locked
from l0core.stores.jsonl import read_tail

_write = os.write
"""The OS-call boundary for appends (the fault tests inject a disk-full here)."""


class StreamWrites(CatalogWrites):
    """Writing a batch to a locked stream file."""

    def _touch(self, fd: int) -> None:
        if self.ttl > 0:
            ns = int(self.clock() * 1_000_000)
            os.utime(fd, ns=(ns, ns))

    def _sync_state(self, h: StreamHandle, stream_id: str, st: os.stat_result, *,
                    migrate: bool) -> bool:
        """Bring ``h`` up to date with the locked file: expiry, torn tail, last seq.

        Returns False when the stream is still a legacy ``.json`` file: with
        ``migrate`` it is migrated first (and ``h`` closed, so the caller relocks).
        """
        size = st.st_size
        if size == 0 and os.path.exists(legacy_events_path(self.root, stream_id)):
            if migrate:
                migrate_locked(h, self.root, stream_id)
            return False
        if size > 0 and self._expired_stat(st):
            os.ftruncate(h.fd, 0)
            unlink_if_exists(snapshots_path(self.root, stream_id))
            size = 0
            h.size = -1
        if size != h.size:
            tail = read_tail(h.fd, size, stream_id=stream_id,
                             path=events_path(self.root, stream_id))
            if tail.torn_bytes:
                os.ftruncate(h.fd, tail.good_end)
                self.repaired_tails += 1
            h.last_seq = -1 if tail.last is None else tail.last.seq
            h.size = tail.good_end
            self._cat_attach(h, stream_id,
                             None if tail.last is None else float(tail.last.event.ts))
        else:
            self._cat_attach(h, stream_id, None)
        return True

    def _write_batch(
        self, h: StreamHandle, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        """Write the batch after the last seq (both locks held, state synced)."""
        last = h.last_seq
        self._check_expected(stream_id, expected_seq, last)
        self._write_data(h, encode_lines(stream_id, last + 1, events), last + len(events))
        pending = h.pending
        pending.append(events)
        h.cat_end = h.size
        if len(pending) >= FOLD_PENDING and h.cat is not None:
            self._cat_fold_pending(h, h.cat)  # keep a long lease's garbage small
        return h.last_seq

    def _write_data(self, h: StreamHandle, data: bytes, new_last: int) -> None:
        """Append encoded lines ending at ``new_last``, then make them as durable as asked."""
        size = h.size
        write_all(h, data, size)
        h.size = size + len(data)
        h.last_seq = new_last
        self._touch(h.fd)
        if self.durability == "fsync":
            os.fdatasync(h.fd)
            if size == 0:
                fsync_dir(self.root)
        elif self.durability == "group":
            h.dirty = True
            if self._flusher.thread is None:
                self._flusher.start()


def write_all(h: StreamHandle, data: bytes, size: int) -> None:
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
