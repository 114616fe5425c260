"""Importing a capture into a memory store and reading back what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from l0core import (
    BaseEventStore,
    RecordedEvent,
    ReplayedState,
    StartEvent,
    create_event_replayer,
    create_in_memory_event_store,
)
from l0core.importers import import_into


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


async def imported(path: Path, **kwargs: Any) -> tuple[BaseEventStore, list[str]]:
    """A memory store holding what ``import_into`` wrote from ``path``, and the ids."""
    store = create_in_memory_event_store()
    ids = await import_into(store, path, **kwargs)
    return store, ids


async def state(store: BaseEventStore, stream_id: str) -> ReplayedState:
    return await create_event_replayer(store).replay_to_state(stream_id)


async def events(store: BaseEventStore, stream_id: str) -> list[RecordedEvent]:
    return [env.event for env in await store.get_events(stream_id)]


def import_info(event: RecordedEvent) -> dict[str, Any]:
    """``options.metadata["l0.import"]`` of a START."""
    assert isinstance(event, StartEvent)
    meta: dict[str, Any] = event.options.metadata or {}
    info: dict[str, Any] = meta["l0.import"]
    return info
