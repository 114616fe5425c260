"""l0core: L0 event sourcing for Python: events, stores, replay and the timeline.

No UI dependency: the TUI and command line in ``l0tui`` are built on this public API.
Names follow the spec in snake_case, compatible with ``ai2070-l0``'s ``l0.eventsourcing``.

Names are imported on first use (PEP 562), so ``import l0core`` stays cheap for
the command line: ``l0tui ls`` loads the catalog and one store, not the recorders,
the importers or the timeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ``fold`` and ``replay`` are also the names of submodules: bound here, at import, so
# that loading the submodule later cannot put the module where the function belongs.
from l0core.fold import fold
from l0core.replay import replay

if TYPE_CHECKING:
    from l0core.codec import decode_envelope, decode_event, encode_envelope, encode_event
    from l0core.compare import ReplayComparison, compare_replays
    from l0core.errors import (
        CompositeStoreError,
        ConcurrencyConflictError,
        CorruptionError,
        EventValidationError,
        InvalidStreamIdError,
        L0Error,
        StoreClosedError,
        StoreConfigError,
        StoreConnectionError,
        StreamNotFoundError,
    )
    from l0core.events import (
        CheckpointEvent,
        CompleteEvent,
        ContinuationEvent,
        DriftEvent,
        DriftEventResult,
        ErrorEvent,
        EventEnvelope,
        FallbackEvent,
        GuardrailEvent,
        GuardrailEventResult,
        GuardrailViolation,
        L0RecordedEventTypes,
        RecordedEvent,
        RecordedEventType,
        RetryEvent,
        SerializedError,
        SerializedOptions,
        Snapshot,
        StartEvent,
        TokenEvent,
        validate_stream_id,
    )
    from l0core.fold import (
        ReplayedState,
        apply_event,
        fold,
        snapshot_from_state,
        state_from_snapshot,
    )
    from l0core.metadata import StreamMetadata, get_stream_metadata
    from l0core.record import record_iterator, record_l0_run, record_stream
    from l0core.recorded import (
        CachedResult,
        RecordedEventStore,
        RecordingFormatError,
        cache_key,
        get_or_replay,
        get_or_replay_sync,
        load_recorded_events,
        load_recorded_events_sync,
    )
    from l0core.recorder import EventRecorder, create_event_recorder, generate_stream_id
    from l0core.replay import EventReplayer, ReplayResult, create_event_replayer, replay
    from l0core.serialize import ReplayedError, deserialize_error, serialize_error
    from l0core.stores.base import BaseEventStore, BaseEventStoreWithSnapshots, StorageAdapterConfig
    from l0core.stores.composite import CompositeEventStore, create_composite_store
    from l0core.stores.file import FileEventStore
    from l0core.stores.memory import InMemoryEventStore, create_in_memory_event_store
    from l0core.stores.registry import (
        create_event_store,
        get_registered_adapters,
        register_storage_adapter,
        unregister_storage_adapter,
    )
    from l0core.stores.sqlite import SQLiteEventStore
    from l0core.stores.ttl import TTLEventStore, with_ttl

_WHERE: dict[str, str] = {
    "BaseEventStore": "l0core.stores.base",
    "BaseEventStoreWithSnapshots": "l0core.stores.base",
    "CachedResult": "l0core.recorded",
    "CheckpointEvent": "l0core.events",
    "CompleteEvent": "l0core.events",
    "CompositeEventStore": "l0core.stores.composite",
    "CompositeStoreError": "l0core.errors",
    "ConcurrencyConflictError": "l0core.errors",
    "ContinuationEvent": "l0core.events",
    "CorruptionError": "l0core.errors",
    "DriftEvent": "l0core.events",
    "DriftEventResult": "l0core.events",
    "ErrorEvent": "l0core.events",
    "EventEnvelope": "l0core.events",
    "EventRecorder": "l0core.recorder",
    "EventReplayer": "l0core.replay",
    "EventValidationError": "l0core.errors",
    "FallbackEvent": "l0core.events",
    "FileEventStore": "l0core.stores.file",
    "GuardrailEvent": "l0core.events",
    "GuardrailEventResult": "l0core.events",
    "GuardrailViolation": "l0core.events",
    "InMemoryEventStore": "l0core.stores.memory",
    "InvalidStreamIdError": "l0core.errors",
    "L0Error": "l0core.errors",
    "L0RecordedEventTypes": "l0core.events",
    "RecordedEvent": "l0core.events",
    "RecordedEventStore": "l0core.recorded",
    "RecordedEventType": "l0core.events",
    "RecordingFormatError": "l0core.recorded",
    "ReplayComparison": "l0core.compare",
    "ReplayResult": "l0core.replay",
    "ReplayedError": "l0core.serialize",
    "ReplayedState": "l0core.fold",
    "RetryEvent": "l0core.events",
    "SQLiteEventStore": "l0core.stores.sqlite",
    "SerializedError": "l0core.events",
    "SerializedOptions": "l0core.events",
    "Snapshot": "l0core.events",
    "StartEvent": "l0core.events",
    "StorageAdapterConfig": "l0core.stores.base",
    "StoreClosedError": "l0core.errors",
    "StoreConfigError": "l0core.errors",
    "StoreConnectionError": "l0core.errors",
    "StreamMetadata": "l0core.metadata",
    "StreamNotFoundError": "l0core.errors",
    "TTLEventStore": "l0core.stores.ttl",
    "TokenEvent": "l0core.events",
    "apply_event": "l0core.fold",
    "cache_key": "l0core.recorded",
    "compare_replays": "l0core.compare",
    "create_composite_store": "l0core.stores.composite",
    "create_event_recorder": "l0core.recorder",
    "create_event_replayer": "l0core.replay",
    "create_event_store": "l0core.stores.registry",
    "create_in_memory_event_store": "l0core.stores.memory",
    "decode_envelope": "l0core.codec",
    "decode_event": "l0core.codec",
    "deserialize_error": "l0core.serialize",
    "encode_envelope": "l0core.codec",
    "encode_event": "l0core.codec",
    "fold": "l0core.fold",
    "generate_stream_id": "l0core.recorder",
    "get_or_replay": "l0core.recorded",
    "get_or_replay_sync": "l0core.recorded",
    "get_registered_adapters": "l0core.stores.registry",
    "get_stream_metadata": "l0core.metadata",
    "load_recorded_events": "l0core.recorded",
    "load_recorded_events_sync": "l0core.recorded",
    "record_iterator": "l0core.record",
    "record_l0_run": "l0core.record",
    "record_stream": "l0core.record",
    "register_storage_adapter": "l0core.stores.registry",
    "replay": "l0core.replay",
    "serialize_error": "l0core.serialize",
    "snapshot_from_state": "l0core.fold",
    "state_from_snapshot": "l0core.fold",
    "unregister_storage_adapter": "l0core.stores.registry",
    "validate_stream_id": "l0core.events",
    "with_ttl": "l0core.stores.ttl",
}
"""Each public name and the module that defines it."""

__all__ = [
    "BaseEventStore",
    "BaseEventStoreWithSnapshots",
    "CachedResult",
    "CheckpointEvent",
    "CompleteEvent",
    "CompositeEventStore",
    "CompositeStoreError",
    "ConcurrencyConflictError",
    "ContinuationEvent",
    "CorruptionError",
    "DriftEvent",
    "DriftEventResult",
    "ErrorEvent",
    "EventEnvelope",
    "EventRecorder",
    "EventReplayer",
    "EventValidationError",
    "FallbackEvent",
    "FileEventStore",
    "GuardrailEvent",
    "GuardrailEventResult",
    "GuardrailViolation",
    "InMemoryEventStore",
    "InvalidStreamIdError",
    "L0Error",
    "L0RecordedEventTypes",
    "RecordedEvent",
    "RecordedEventStore",
    "RecordedEventType",
    "RecordingFormatError",
    "ReplayComparison",
    "ReplayResult",
    "ReplayedError",
    "ReplayedState",
    "RetryEvent",
    "SQLiteEventStore",
    "SerializedError",
    "SerializedOptions",
    "Snapshot",
    "StartEvent",
    "StorageAdapterConfig",
    "StoreClosedError",
    "StoreConfigError",
    "StoreConnectionError",
    "StreamMetadata",
    "StreamNotFoundError",
    "TTLEventStore",
    "TokenEvent",
    "apply_event",
    "cache_key",
    "compare_replays",
    "create_composite_store",
    "create_event_recorder",
    "create_event_replayer",
    "create_event_store",
    "create_in_memory_event_store",
    "decode_envelope",
    "decode_event",
    "deserialize_error",
    "encode_envelope",
    "encode_event",
    "fold",
    "generate_stream_id",
    "get_or_replay",
    "get_or_replay_sync",
    "get_registered_adapters",
    "get_stream_metadata",
    "load_recorded_events",
    "load_recorded_events_sync",
    "record_iterator",
    "record_l0_run",
    "record_stream",
    "register_storage_adapter",
    "replay",
    "serialize_error",
    "snapshot_from_state",
    "state_from_snapshot",
    "unregister_storage_adapter",
    "validate_stream_id",
    "with_ttl",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'l0core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
