"""``FileEventStore``: the parts of the file store put together.

The store is its parts (one module each, see the package docstring): this
module holds the constructor, the choice between the two append paths, and
closing.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence

from l0core.errors import StoreClosedError, StoreConfigError
from l0core.events import JSONDict
from l0core.stores.base import Clock, StorageAdapterConfig
from l0core.stores.file.catalog import FileCatalog
from l0core.stores.file.catalog_file import IndexLog
from l0core.stores.file.flusher import GroupFlusher
from l0core.stores.file.follow import FileFollow
from l0core.stores.file.group_commit import GroupCommit
from l0core.stores.file.handles import HandleCache
from l0core.stores.file.inline import INLINE_MAX_EVENTS, InlineAppends
from l0core.stores.file.options import parse_file_options
from l0core.stores.file.reads import FileReads
from l0core.stores.file.snapshots import FileSnapshots
from l0core.stores.file.verify import FileVerify
from l0core.stores.options import Durability


class FileEventStore(InlineAppends, GroupCommit, FileReads, FileSnapshots, FileFollow,
                     FileVerify, FileCatalog):
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
        options = parse_file_options(config, durability, group_interval)
        self.root = options.root
        self.durability = options.durability
        self.group_interval = options.group_interval
        if self.read_only:
            if not os.path.isdir(self.root):
                raise StoreConfigError(f"{self.root} is not a directory")
            if not os.access(self.root, os.R_OK | os.X_OK):
                raise StoreConfigError(f"{self.root}: permission denied (cannot list the "
                                       "directory)")
        else:
            if os.path.exists(self.root) and not os.path.isdir(self.root):
                raise StoreConfigError(f"{self.root} is a file, not a store directory")
            try:
                os.makedirs(self.root, exist_ok=True)
            except OSError as exc:
                raise StoreConfigError(f"cannot create store directory {self.root}: "
                                       f"{exc.strerror}") from exc
        self._handles = HandleCache()
        self._leases = {}
        self._cat_log = IndexLog(self.root, self.durability)
        self._cat_states = {}
        self._cat_lock = threading.Lock()
        self._cat_dirty = {}
        self._cat_flushing = threading.Lock()
        self._cat_wake = threading.Event()
        self._cat_stop = False
        self._cat_thread = None
        self._flusher = GroupFlusher(self._handles, self.group_interval, self._cat_log.sync)
        self.repaired_tails = 0
        self._init_catalog()

    def describe(self) -> str:
        return self.root

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

    def flush(self) -> None:
        """``fdatasync`` every stream file written since the last flush."""
        self._end_this_loops_lease()
        self._flusher.flush()

    async def close(self) -> None:
        if self._closed:
            return
        self._flusher.stop()
        await asyncio.to_thread(self._close_sync)
        await super().close()

    def _close_sync(self) -> None:
        self._cat_close()
        self._flusher.join()
        if self.durability != "os":
            self.flush()
        self._handles.close_all()
        self._cat_flush()  # what leases that ended meanwhile marked
        self._handles.close_all()
        self._cat_log.close()
        self._close_catalog()


def open_store(config: StorageAdapterConfig) -> FileEventStore:
    """Registry entry for a directory path or ``file://DIR``."""
    return FileEventStore(config)
