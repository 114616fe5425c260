"""The index records of the file store's catalog: one JSON object per stream update.

A writer appends one record per lease (the appends a task makes before it yields)
while it still holds the stream's ``flock``, so a stream's records are in the order
of its writes. A record says: stream ``id``'s file was inode ``ino`` and ``size``
bytes, the first ``end`` of them fold to this summary. ``options`` (the START
options) appear in the first record a writer makes for a stream, ``content`` (the
final content, casefolded: all text search needs) once the stream has ended, ``bad``
instead of the summary when the file cannot be decoded; ``{"id": .., "deleted":
true}`` drops a stream. The format is described in ``docs/format.md`` (section 7).
"""

from __future__ import annotations

from typing import Any

import orjson

from l0core.stores.file.catalog_state import StreamState


def state_fields(stream_id: str, state: StreamState, mtime_ms: float, *,
                 options: bool) -> dict[str, Any]:
    """The record of ``state`` as an object (``options``: include the START options)."""
    rec: dict[str, Any] = {"id": stream_id, "ino": state.ino, "size": state.size,
                           "end": state.end, "mtime": mtime_ms}
    if state.bad is not None:
        rec["bad"] = list(state.bad)
        return rec
    s = state.summary
    rec.update(lastSeq=s.last_seq, eventCount=s.event_count, status=s.status, model=s.model,
               startTs=s.start_ts, endTs=s.end_ts, lastTs=s.last_ts, durationMs=s.duration_ms,
               tokenCount=s.token_count, retryAttempts=s.retry_attempts,
               networkRetryCount=s.network_retry_count, violationCount=s.violation_count,
               driftDetected=s.drift_detected, fallbackIndex=s.fallback_index,
               failureType=s.failure_type, errorHead=s.error_head)
    if options:
        rec["options"] = s.options
    if s.status != "running" and state.content is not None:
        rec["content"] = state.content.value().casefold()
    return rec


def state_record(stream_id: str, state: StreamState, mtime_ms: float) -> bytes:
    """The record line of ``state``; its options go into the first one only."""
    rec = state_fields(stream_id, state, mtime_ms, options=not state.options_recorded)
    state.options_recorded = True
    return orjson.dumps(rec)


def deleted_record(stream_id: str) -> bytes:
    return orjson.dumps({"id": stream_id, "deleted": True})
