"""Worker-side loading: stream metadata for the browser, event batches for the debugger.

These are plain async functions over l0core's public API, with no Textual in them;
the screens run them in workers and turn what they yield into messages. Errors are
reported per stream (a corrupt file marks its row) rather than ending the load.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from l0core.errors import L0Error
from l0core.events import EventEnvelope
from l0core.metadata import StreamMetadata
from l0core.stores.base import BaseEventStore
from l0core.stores.listing import describe_stream

FIRST_BATCH = 2_000
"""Events loaded before the debugger first paints (small, so it paints at once)."""
BATCH = 50_000
"""Events per batch after the first."""


@dataclass(slots=True)
class StreamRow:
    """One row of the browser: a stream's metadata, or why it could not be read."""

    stream_id: str
    meta: StreamMetadata | None
    error: str | None = None
    note: str | None = None
    """Set on a stream that reads but whose stored seqs are damaged (what was found)."""


def error_text(exc: BaseException) -> str:
    """One line for a user: the message of an :class:`L0Error`, else type and message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, L0Error):
        return message or type(exc).__name__
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


async def iter_stream_rows(
    store: BaseEventStore, stream_ids: Sequence[str], *, chunk: int = 25,
    max_wait: float = 0.1,
) -> AsyncIterator[list[StreamRow]]:
    """Metadata of ``stream_ids``, yielded in chunks so rows appear as they arrive.

    A chunk is yielded every ``chunk`` streams or every ``max_wait`` seconds,
    whichever comes first.
    """
    pending: list[StreamRow] = []
    last = time.monotonic()
    for stream_id in stream_ids:
        try:
            entry = await describe_stream(store, stream_id)
            if entry is None:
                row = StreamRow(stream_id, None, "empty stream")
            elif entry.metadata is None:
                row = StreamRow(stream_id, None, entry.reason)
            else:
                row = StreamRow(stream_id, entry.metadata, None, entry.reason or None)
        except Exception as exc:  # a bad stream marks its row; the rest still load
            row = StreamRow(stream_id, None, error_text(exc))
        pending.append(row)
        now = time.monotonic()
        if len(pending) >= chunk or now - last >= max_wait:
            yield pending
            pending = []
            last = now
    if pending:
        yield pending


async def iter_event_batches(
    store: BaseEventStore, stream_id: str, *, from_seq: int = 0,
    first_batch: int = FIRST_BATCH, batch: int = BATCH,
) -> AsyncIterator[list[EventEnvelope]]:
    """The stream's events from ``from_seq``: a small first batch, then big ones."""
    got_first = False
    async for chunk in store.iter_batches(stream_id, from_seq=from_seq, batch_size=first_batch):
        if chunk:
            yield chunk
            from_seq = chunk[-1].seq + 1
            got_first = True
        break
    if not got_first:
        return
    async for chunk in store.iter_batches(stream_id, from_seq=from_seq, batch_size=batch):
        if chunk:
            yield chunk


async def stream_exists(store: BaseEventStore, stream_id: str) -> bool:
    """True when the stream has at least one event."""
    return await store.get_last_seq(stream_id) >= 0
