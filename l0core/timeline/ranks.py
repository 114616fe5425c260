"""Event kinds ranked by importance; the rank is how the timeline stores a kind.

The timeline keeps one byte per seq (the kind's rank) instead of an object, and
the minimap shows the highest rank in each cell, so the order below is both the
storage code and "which kind wins a cell". The tables are built once here so the
index's hot loops only do dict and bytes lookups.
"""

from __future__ import annotations

from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    ErrorEvent,
    FallbackEvent,
    GuardrailEvent,
    RecordedEventType,
    RetryEvent,
    StartEvent,
    TokenEvent,
)

IMPORTANCE: tuple[RecordedEventType, ...] = (
    RecordedEventType.TOKEN,
    RecordedEventType.CHECKPOINT,
    RecordedEventType.START,
    RecordedEventType.COMPLETE,
    RecordedEventType.CONTINUATION,
    RecordedEventType.DRIFT,
    RecordedEventType.GUARDRAIL,
    RecordedEventType.RETRY,
    RecordedEventType.FALLBACK,
    RecordedEventType.ERROR,
)
"""Event kinds from least to most important (``ERROR`` wins a minimap cell)."""

RANK: dict[RecordedEventType, int] = {kind: i for i, kind in enumerate(IMPORTANCE)}
"""Kind -> rank (its position in :data:`IMPORTANCE`)."""

TOKEN_RANK = RANK[RecordedEventType.TOKEN]

CLASS_RANK: dict[type, int] = {
    StartEvent: RANK[RecordedEventType.START],
    TokenEvent: TOKEN_RANK,
    CheckpointEvent: RANK[RecordedEventType.CHECKPOINT],
    GuardrailEvent: RANK[RecordedEventType.GUARDRAIL],
    DriftEvent: RANK[RecordedEventType.DRIFT],
    RetryEvent: RANK[RecordedEventType.RETRY],
    FallbackEvent: RANK[RecordedEventType.FALLBACK],
    ContinuationEvent: RANK[RecordedEventType.CONTINUATION],
    CompleteEvent: RANK[RecordedEventType.COMPLETE],
    ErrorEvent: RANK[RecordedEventType.ERROR],
}
"""Event class -> rank; also the set of classes a timeline accepts."""

IS_TOKEN = bytes([1] + [0] * 255)
"""``bytes.translate`` table: rank -> 1 for TOKEN, else 0 (a mask for ``compress``)."""

TOKEN_OR_NONE: tuple[str | None, ...] = tuple(
    "" if r == TOKEN_RANK else None for r in range(256)
)
"""Rank -> what ``Timeline.token_values`` starts from: "" for TOKEN, None otherwise."""
