"""Worker-side loading: event batches for the debugger, and one-line error texts.

Plain async functions over l0core's public API, with no Textual in them; the screens
run them in workers and turn what they yield into messages. (The browser reads the
store's catalog through :mod:`l0tui.catalog_window`.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from l0core.errors import L0Error
from l0core.events import EventEnvelope
from l0core.stores.base import BaseEventStore

FIRST_BATCH = 2_000
"""Events loaded before the debugger first paints (small, so it paints at once)."""
BATCH = 50_000
"""Events per batch after the first."""


def error_text(exc: BaseException) -> str:
    """One line for a user: the message of an :class:`L0Error`, else type and message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, L0Error):
        return message or type(exc).__name__
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


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
