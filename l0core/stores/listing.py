"""Listing a store stream by stream, so one unreadable stream never hides the others.

``l0tui ls`` and the TUI browser both list this way: every stream the store names
gets a :class:`ListedStream`, with its summary when it reads and the reason when
it does not. The statuses are part of the display vocabulary (``docs/format.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from l0core.errors import L0Error, StoreClosedError, StoreConnectionError
from l0core.metadata import StreamMetadata, get_stream_metadata
from l0core.stores.base import BaseEventStore

ReadStatus = Literal["ok", "damaged", "unreadable", "other_stream"]
"""``damaged``: reads, but its stored seqs are not 0..n-1; ``other_stream``: the
stored events name another stream id than the one the store files them under."""


@dataclass(slots=True, frozen=True)
class ListedStream:
    """One stream of a listing: its summary, or why there is none."""

    stream_id: str
    metadata: StreamMetadata | None
    read_status: ReadStatus = "ok"
    reason: str = ""

    @property
    def readable(self) -> bool:
        return self.metadata is not None


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def describe_stream(store: BaseEventStore, stream_id: str) -> ListedStream | None:
    """``stream_id``'s entry (None when it has no events); never raises for bad data."""
    try:
        if (other := await store.content_stream_id(stream_id)) is not None:
            return ListedStream(stream_id, None, "other_stream",
                                f"its events name stream {other!r}")
        meta = await get_stream_metadata(store, stream_id)
        if meta is None:
            return None
        damage = await store.seq_damage(stream_id)
    except (StoreConnectionError, StoreClosedError):
        raise  # the store, not this stream, is the problem
    except (L0Error, ValueError) as exc:
        return ListedStream(stream_id, None, "unreadable", _one_line(str(exc)))
    if damage:
        return ListedStream(stream_id, meta, "damaged", damage.describe())
    return ListedStream(stream_id, meta)


async def list_with_status(store: BaseEventStore) -> list[ListedStream]:
    """Every stream of ``store`` in id order; unreadable ones marked, not raised."""
    out = []
    for stream_id in sorted(await store.list_streams()):
        entry = await describe_stream(store, stream_id)
        if entry is not None:
            out.append(entry)
    return out
