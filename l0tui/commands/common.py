"""What the subcommands share: opening stores, default locations, JSON shapes of l0core objects."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from l0core import (
    BaseEventStore,
    EventEnvelope,
    RecordedEvent,
    StoreConfigError,
    StreamNotFoundError,
    create_event_store,
)
from l0core.codec import encode_event
from l0core.stores.urls import mask_url

if TYPE_CHECKING:
    from l0core.timeline import Timeline

DEFAULT_STORE = "./l0-events"
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def default_location() -> str:
    """``$L0_STORE``, else ``./l0-events``."""
    return os.environ.get("L0_STORE") or DEFAULT_STORE


def is_url(location: str) -> bool:
    return _SCHEME_RE.match(location) is not None


def describe_location(location: str) -> str:
    """The location for messages, with any password masked."""
    return mask_url(location) if is_url(location) else location


def check_exists(location: str) -> None:
    """Raise when ``location`` is a path (not a URL) that does not exist."""
    if not is_url(location) and not os.path.exists(location):
        raise StoreConfigError(f"{location}: no such file or directory")


@asynccontextmanager
async def open_store(location: str, *, read_only: bool = True) -> AsyncIterator[BaseEventStore]:
    """Open ``location`` (a directory, ``sqlite:///x.db``, ``postgresql://...``) and close it.

    A read-only open of a path that does not exist is an error, not an empty store.
    """
    if read_only:
        check_exists(location)
    store = await create_event_store(location, read_only=read_only)
    try:
        yield store
    finally:
        await store.close()


async def read_all(store: BaseEventStore, stream_id: str) -> list[EventEnvelope]:
    """Every event of ``stream_id``; :class:`StreamNotFoundError` when it has none."""
    events: list[EventEnvelope] = []
    async for batch in store.iter_batches(stream_id):
        events.extend(batch)
    if not events:
        raise StreamNotFoundError(stream_id)
    return events


async def load_timeline(
    store: BaseEventStore, stream_id: str, on_batch: Callable[[int], None] | None = None
) -> Timeline:
    """The whole stream as a :class:`Timeline`; :class:`StreamNotFoundError` if it is empty.

    ``on_batch`` gets the number of events loaded so far after each batch.
    """
    from l0core.timeline import load_timeline as core_load_timeline  # not needed by ls

    timeline = await core_load_timeline(store, stream_id, on_progress=on_batch)
    if len(timeline) == 0:
        raise StreamNotFoundError(stream_id)
    return timeline


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _flatten(sub, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value


def _short_repr(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def payload_changes(a: RecordedEvent, b: RecordedEvent, limit: int = 3) -> list[str]:
    """What differs between two events of one kind (``ts`` ignored): ``path: a → b``.

    Used to say *how* two paired events differ (``options.metadata.temperature:
    0.2 → 1.3``) where the stream diff only says that they do.
    """
    if a.type != b.type:
        return []
    flat_a: dict[str, Any] = {}
    flat_b: dict[str, Any] = {}
    _flatten({k: v for k, v in encode_event(a).items() if k != "ts"}, "", flat_a)
    _flatten({k: v for k, v in encode_event(b).items() if k != "ts"}, "", flat_b)
    changes = []
    for key in sorted(set(flat_a) | set(flat_b)):
        x, y = flat_a.get(key, "—"), flat_b.get(key, "—")
        if x != y:
            changes.append(f"{key}: {_short_repr(x)} → {_short_repr(y)}")
    if len(changes) > limit:
        changes = [*changes[:limit], f"(+{len(changes) - limit} more)"]
    return changes


