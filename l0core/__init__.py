"""l0core: L0 event sourcing for Python: events, stores, replay and the timeline.

No UI dependency: the TUI and command line in ``l0tui`` are built on this public API.
Names follow the spec in snake_case, compatible with ``ai2070-l0``'s ``l0.eventsourcing``.
"""

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
from l0core.fold import ReplayedState, apply_event, fold, snapshot_from_state, state_from_snapshot
from l0core.metadata import StreamMetadata, get_stream_metadata
from l0core.record import record_iterator, record_l0_run, record_stream
from l0core.recorder import EventRecorder, create_event_recorder, generate_stream_id
from l0core.replay import EventReplayer, ReplayResult, create_event_replayer, replay
from l0core.serialize import ReplayedError, deserialize_error, serialize_error
from l0core.stores.base import (
    BaseEventStore,
    BaseEventStoreWithSnapshots,
    StorageAdapterConfig,
)
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

__all__ = [
    "BaseEventStore",
    "BaseEventStoreWithSnapshots",
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
    "RecordedEventType",
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
    "get_registered_adapters",
    "get_stream_metadata",
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

# Recordings as test fixtures and as a cache (l0core.recorded; the pytest plugin is
# l0core.pytest_plugin).
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

__all__ += [
    "CachedResult",
    "RecordedEventStore",
    "RecordingFormatError",
    "cache_key",
    "get_or_replay",
    "get_or_replay_sync",
    "load_recorded_events",
    "load_recorded_events_sync",
]
