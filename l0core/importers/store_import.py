"""``import_into``: the streams of a capture appended to a store, in batches.

Parsing runs in a worker thread one batch at a time, so the event loop stays free
and memory holds one batch, not the file. The first append of each stream says
``expected_seq=-1``: a stream that already exists is refused atomically and never
overwritten; a stream that fails half-way is deleted again (docs/format.md,
section 10).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Generator, Iterator
from itertools import islice
from typing import BinaryIO

from l0core.errors import ConcurrencyConflictError
from l0core.events import RecordedEvent, validate_stream_id
from l0core.importers.errors import ImportFailure, ImportFormatError, StreamExistsError
from l0core.importers.iterate import iter_imported
from l0core.importers.source import Progress
from l0core.importers.stream import ImportedStream
from l0core.stores.base import BaseEventStore

DEFAULT_BATCH = 5000
"""Events per ``append_many``."""

OnStream = Callable[[str, ImportedStream, int], None]
"""Called after each stream with (stream id written, the stream, events written)."""


def _take(events: Iterator[RecordedEvent], n: int) -> list[RecordedEvent]:
    return list(islice(events, n))


async def import_into(
    store: BaseEventStore,
    path: str | os.PathLike[str] | BinaryIO,
    *,
    format: str | None = None,
    stream_id: str | None = None,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
    on_stream: OnStream | None = None,
) -> list[str]:
    """Append every stream of ``path`` to ``store``; the stream ids written, in order.

    ``stream_id`` names the first response (the next ones ``ID-2``, ``ID-3``, ...,
    tool calls ``ID-tool-0``, ...); without it ids come from the source. Raises
    :class:`~l0core.importers.StreamExistsError` for an id that has events already,
    :class:`~l0core.importers.ImportFormatError` for input it cannot read; either
    names the streams written before it.
    """
    if batch_size <= 0:
        raise ValueError(f"batch size must be > 0, got {batch_size}")
    if stream_id is not None:
        validate_stream_id(stream_id)
    streams: Generator[ImportedStream, None, None] = iter_imported(
        path, format=format, progress=progress, stream_id=stream_id)
    written: list[str] = []
    try:
        while (item := await asyncio.to_thread(next, streams, None)) is not None:
            count = await _write(store, item.stream_id, item, batch_size)
            written.append(item.stream_id)
            if on_stream is not None:
                on_stream(item.stream_id, item, count)
    except ImportFailure as exc:
        exc.note_written(written)
        raise
    finally:
        await asyncio.to_thread(streams.close)
    if not written:
        name = (os.fspath(path) if isinstance(path, str | os.PathLike)
                else getattr(path, "name", "<input>"))
        raise ImportFormatError(str(name), "no stream found in it (nothing imported)")
    return written


async def _write(store: BaseEventStore, stream_id: str, item: ImportedStream,
                 batch_size: int) -> int:
    """Append one stream; delete it again if it cannot be written completely."""
    last = -1
    try:
        while batch := await asyncio.to_thread(_take, item.events, batch_size):
            try:
                last = await store.append_many(stream_id, batch, expected_seq=last)
            except ConcurrencyConflictError:
                if last == -1:
                    raise StreamExistsError(stream_id, store.describe()) from None
                raise
    except BaseException:
        if last >= 0:
            await store.delete(stream_id)
        raise
    return last + 1
