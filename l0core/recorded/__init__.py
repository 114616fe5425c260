"""Recordings as test fixtures and as a cache: load them, replay them, record on a miss.

- :func:`load_recorded_events` / :func:`load_recorded_events_sync`: files or
  directories of recordings (JSONL, an exported slice, JSON arrays in either
  spelling, snapshots) -> a :class:`RecordedEventStore` in memory.
- :func:`get_or_replay` / :func:`get_or_replay_sync`: the spec's caching pattern;
  :func:`cache_key` makes a stream id from a request.

The pytest plugin built on them is :mod:`l0core.pytest_plugin`.
"""

from l0core.recorded.cache import CachedResult, cache_key, get_or_replay, get_or_replay_sync
from l0core.recorded.files import RecordingFile, RecordingFormatError, read_recording_file
from l0core.recorded.load import (
    RecordedEventStore,
    RecordingSource,
    load_recorded_events,
    load_recorded_events_sync,
    read_recordings,
)

__all__ = [
    "CachedResult",
    "RecordedEventStore",
    "RecordingFile",
    "RecordingFormatError",
    "RecordingSource",
    "cache_key",
    "get_or_replay",
    "get_or_replay_sync",
    "load_recorded_events",
    "load_recorded_events_sync",
    "read_recording_file",
    "read_recordings",
]
