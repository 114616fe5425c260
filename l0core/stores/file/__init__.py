"""The file store: one append-only JSONL file per stream, safe across processes.

Layout of the directory (``layout``; the formats are in ``docs/format.md``):

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

Where each part lives:

- ``store``: ``FileEventStore``, the parts put together (constructor, append path, close).
- ``options``: the directory, durability and group interval, read from config and URL.
- ``layout``: which file holds what; ``core``: the shared state, lookups, expiry, delete.
- ``handles``: the cache of open stream files and the ``flock`` around a write.
- ``writes``: the write itself; ``inline``: appends on the calling thread under a lease;
  ``group_commit``: appends batched on a worker thread; ``flusher``: durability ``"group"``.
- ``legacy``: the spec's ``<id>.json`` array files and their migration to JSONL.
- ``reads`` and ``batch_reader``: reading; ``snapshots``; ``follow``: ``subscribe``;
  ``verify``: checking files and cutting torn tails off.
- The catalog (one summary per stream, ``.l0catalog/index``): ``catalog_state`` (a
  stream's summary as of a byte offset, folding a file), ``catalog_records`` (one
  record per stream update), ``catalog_file`` (the index: base, records, sessions,
  compaction), ``catalog_writes`` (records written after appends, under the flock),
  ``summary_table`` (the index in memory, column by column, and the queries),
  ``catalog`` (the store's catalog API, and what readers check).
"""

from l0core.stores.file.batch_reader import READ_CHUNK
from l0core.stores.file.handles import MAX_OPEN_HANDLES
from l0core.stores.file.inline import INLINE_MAX_EVENTS
from l0core.stores.file.store import FileEventStore, open_store
from l0core.stores.options import DEFAULT_DURABILITY, DURABILITY_LEVELS, Durability

__all__ = [
    "DEFAULT_DURABILITY",
    "DURABILITY_LEVELS",
    "INLINE_MAX_EVENTS",
    "MAX_OPEN_HANDLES",
    "READ_CHUNK",
    "Durability",
    "FileEventStore",
    "open_store",
]
