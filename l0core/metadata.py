"""``get_stream_metadata``: a stream's summary without keeping its events."""

from __future__ import annotations

from dataclasses import dataclass, field

from l0core.catalog.summary import StreamSummary
from l0core.codec import decode_options
from l0core.events import SerializedOptions, StartEvent
from l0core.fold import ReplayedState, apply_event
from l0core.stores.base import BaseEventStore


@dataclass(slots=True, kw_only=True)
class StreamMetadata:
    """The spec's fields, plus the counts a stream browser shows."""

    stream_id: str
    event_count: int
    token_count: int
    start_ts: float
    end_ts: float
    completed: bool
    has_error: bool
    options: SerializedOptions = field(default_factory=SerializedOptions)
    last_ts: float = 0.0
    retry_attempts: int = 0
    network_retry_count: int = 0
    violation_count: int = 0
    fallback_index: int = 0
    drift_detected: bool = False

    @property
    def model(self) -> str:
        return self.options.model or ""

    @property
    def status(self) -> str:
        """``completed``, ``error`` or ``running`` (no terminal event yet)."""
        if self.has_error:
            return "error"
        if self.completed:
            return "completed"
        return "running"

    @property
    def duration_ms(self) -> float:
        end = self.end_ts or self.last_ts
        return max(0.0, end - self.start_ts) if self.start_ts else 0.0


def metadata_from_state(
    stream_id: str, event_count: int, state: ReplayedState, options: SerializedOptions,
    last_ts: float,
) -> StreamMetadata:
    return StreamMetadata(
        stream_id=stream_id,
        event_count=event_count,
        token_count=state.token_count,
        start_ts=state.start_ts,
        end_ts=state.end_ts,
        completed=state.completed,
        has_error=state.error is not None,
        options=options,
        last_ts=last_ts,
        retry_attempts=state.retry_attempts,
        network_retry_count=state.network_retry_count,
        violation_count=len(state.violations),
        fallback_index=state.fallback_index,
        drift_detected=state.drift_detected,
    )


def metadata_from_summary(summary: StreamSummary) -> StreamMetadata:
    """The metadata a catalog summary holds (the same fields, another shape)."""
    return StreamMetadata(
        stream_id=summary.stream_id,
        event_count=summary.event_count,
        token_count=summary.token_count,
        start_ts=summary.start_ts,
        end_ts=summary.end_ts,
        completed=summary.status == "completed",
        has_error=summary.status == "error",
        options=decode_options(summary.options) if summary.options else SerializedOptions(),
        last_ts=summary.last_ts,
        retry_attempts=summary.retry_attempts,
        network_retry_count=summary.network_retry_count,
        violation_count=summary.violation_count,
        fallback_index=summary.fallback_index,
        drift_detected=summary.drift_detected,
    )


async def get_stream_metadata(store: BaseEventStore, stream_id: str) -> StreamMetadata | None:
    """Summary of ``stream_id``, or None when it does not exist or is empty.

    Reads the store's catalog summary where the store keeps one; folds the events
    otherwise."""
    if store.keeps_summaries:
        summary = await store.get_summary(stream_id)
        return None if summary is None else metadata_from_summary(summary)
    return await fold_metadata(store, stream_id)


async def fold_metadata(store: BaseEventStore, stream_id: str) -> StreamMetadata | None:
    """:func:`get_stream_metadata` by folding every event: the reference the catalog's
    summaries are tested against."""
    state = ReplayedState()
    options = SerializedOptions()
    count = 0
    last_ts = 0.0
    async for batch in store.iter_batches(stream_id):
        for env in batch:
            event = env.event
            if count == 0 and isinstance(event, StartEvent):
                options = event.options
            apply_event(state, event)
            last_ts = event.ts
            count += 1
    if count == 0:
        return None
    return metadata_from_state(stream_id, count, state, options, last_ts)
