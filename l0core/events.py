"""The recorded event model: ten event kinds, their payloads, envelopes and snapshots.

Attributes are snake_case (compatible with ``ai2070-l0``'s ``l0.eventsourcing``);
the camelCase wire format lives in :mod:`l0core.codec`. Payload objects keep any
keys they do not know in ``extra`` so that a round trip never drops data.
Events are plain slotted dataclasses: treat them as immutable once recorded.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias

from l0core.errors import InvalidStreamIdError

JSONDict: TypeAlias = dict[str, Any]


def now_ms() -> float:
    """Wall-clock time in Unix milliseconds, the unit of every ``ts``."""
    return time.time() * 1000.0


class RecordedEventType(StrEnum):
    """The ten recorded event kinds; members compare equal to the spec's strings."""

    START = "START"
    TOKEN = "TOKEN"
    CHECKPOINT = "CHECKPOINT"
    GUARDRAIL = "GUARDRAIL"
    DRIFT = "DRIFT"
    RETRY = "RETRY"
    FALLBACK = "FALLBACK"
    CONTINUATION = "CONTINUATION"
    COMPLETE = "COMPLETE"
    ERROR = "ERROR"


L0RecordedEventTypes = RecordedEventType
"""Alias named after the spec's TypeScript constant."""


# ───────────────────────────── payloads ─────────────────────────────


@dataclass(slots=True, kw_only=True)
class SerializedOptions:
    """The options a stream was started with (functions stripped)."""

    prompt: str | None = None
    model: str | None = None
    retry: JSONDict | None = None
    timeout: JSONDict | None = None
    check_intervals: JSONDict | None = None
    continue_from_last_known_good_token: bool | None = None
    detect_drift: bool | None = None
    detect_zero_tokens: bool | None = None
    fallback_count: int | None = None
    guardrail_count: int | None = None
    metadata: JSONDict | None = None
    extra: JSONDict = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class SerializedError:
    """An exception as stored: survives a round trip with name, code, stack, metadata."""

    name: str
    message: str
    code: str | int | None = None
    stack: str | None = None
    metadata: JSONDict | None = None
    extra: JSONDict = field(default_factory=dict)


GuardrailViolation: TypeAlias = JSONDict
"""A violation as recorded (``rule``, ``message``, ``severity``, ``recoverable``, ...).

Kept as the JSON object it was written as, so unknown keys survive untouched."""


@dataclass(slots=True, kw_only=True)
class GuardrailEventResult:
    violations: list[GuardrailViolation] = field(default_factory=list)
    should_retry: bool = False
    should_halt: bool = False
    extra: JSONDict = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class DriftEventResult:
    detected: bool = False
    types: list[str] = field(default_factory=list)
    confidence: float = 0.0
    extra: JSONDict = field(default_factory=dict)


RecoveryPolicy: TypeAlias = str | JSONDict
"""ERROR's ``policy``: a name (``"default"``) or the TypeScript library's object."""


# ───────────────────────────── events ─────────────────────────────


@dataclass(slots=True, kw_only=True)
class StartEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.START
    ts: float = field(default_factory=now_ms)
    options: SerializedOptions = field(default_factory=SerializedOptions)


@dataclass(slots=True, kw_only=True)
class TokenEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.TOKEN
    ts: float = field(default_factory=now_ms)
    value: str
    index: int


@dataclass(slots=True, kw_only=True)
class CheckpointEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.CHECKPOINT
    ts: float = field(default_factory=now_ms)
    at: int
    content: str


@dataclass(slots=True, kw_only=True)
class GuardrailEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.GUARDRAIL
    ts: float = field(default_factory=now_ms)
    at: int
    result: GuardrailEventResult


@dataclass(slots=True, kw_only=True)
class DriftEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.DRIFT
    ts: float = field(default_factory=now_ms)
    at: int
    result: DriftEventResult


@dataclass(slots=True, kw_only=True)
class RetryEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.RETRY
    ts: float = field(default_factory=now_ms)
    reason: str
    attempt: int
    counts_toward_limit: bool


@dataclass(slots=True, kw_only=True)
class FallbackEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.FALLBACK
    ts: float = field(default_factory=now_ms)
    to: int


@dataclass(slots=True, kw_only=True)
class ContinuationEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.CONTINUATION
    ts: float = field(default_factory=now_ms)
    checkpoint: str
    at: int


@dataclass(slots=True, kw_only=True)
class CompleteEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.COMPLETE
    ts: float = field(default_factory=now_ms)
    content: str
    token_count: int


@dataclass(slots=True, kw_only=True)
class ErrorEvent:
    type: ClassVar[RecordedEventType] = RecordedEventType.ERROR
    ts: float = field(default_factory=now_ms)
    error: SerializedError
    failure_type: str
    recovery_strategy: str
    policy: RecoveryPolicy


RecordedEvent: TypeAlias = (
    StartEvent
    | TokenEvent
    | CheckpointEvent
    | GuardrailEvent
    | DriftEvent
    | RetryEvent
    | FallbackEvent
    | ContinuationEvent
    | CompleteEvent
    | ErrorEvent
)

EVENT_CLASSES: dict[RecordedEventType, type[RecordedEvent]] = {
    RecordedEventType.START: StartEvent,
    RecordedEventType.TOKEN: TokenEvent,
    RecordedEventType.CHECKPOINT: CheckpointEvent,
    RecordedEventType.GUARDRAIL: GuardrailEvent,
    RecordedEventType.DRIFT: DriftEvent,
    RecordedEventType.RETRY: RetryEvent,
    RecordedEventType.FALLBACK: FallbackEvent,
    RecordedEventType.CONTINUATION: ContinuationEvent,
    RecordedEventType.COMPLETE: CompleteEvent,
    RecordedEventType.ERROR: ErrorEvent,
}

TERMINAL_TYPES = frozenset({RecordedEventType.COMPLETE, RecordedEventType.ERROR})
"""Kinds after which a stream is finished (``subscribe`` ends after them)."""


@dataclass(slots=True)
class EventEnvelope:
    """An event with its stream identity and its position (0-based, gap-free)."""

    stream_id: str
    seq: int
    event: RecordedEvent


@dataclass(slots=True, kw_only=True)
class Snapshot:
    """State of a stream after folding events ``0..seq`` (``seq`` inclusive).

    The spec's fields, plus the rest of :class:`~l0core.fold.ReplayedState`
    (``completed``, ``error``, ``start_ts``, ``end_ts``) so that a snapshot
    restores the exact state. A snapshot written by another library lacks those
    (``complete_state`` is False); replay then does not trust it for acceleration,
    because the spec leaves open whether its ``seq`` is inclusive.
    """

    stream_id: str
    seq: int
    ts: float
    content: str
    token_count: int
    checkpoint: str
    violations: list[GuardrailViolation] = field(default_factory=list)
    drift_detected: bool = False
    retry_attempts: int = 0
    network_retry_count: int = 0
    fallback_index: int = 0
    completed: bool = False
    error: SerializedError | None = None
    start_ts: float = 0.0
    end_ts: float = 0.0
    complete_state: bool = True
    extra: JSONDict = field(default_factory=dict)


# ───────────────────────────── stream ids ─────────────────────────────

MAX_STREAM_ID_LENGTH = 200
_STREAM_ID_RE = re.compile(r"[A-Za-z0-9_-]+")


def validate_stream_id(stream_id: object) -> str:
    """Return ``stream_id`` if it is a safe id, else raise :class:`InvalidStreamIdError`.

    Safe means non-empty, ``[A-Za-z0-9_-]`` only and at most 200 characters, so an
    id can be a file name, a SQL value or a key fragment in every store.
    """
    if not isinstance(stream_id, str):
        raise InvalidStreamIdError(f"stream id must be a string, got {type(stream_id).__name__}")
    if not stream_id:
        raise InvalidStreamIdError("stream id must not be empty")
    if len(stream_id) > MAX_STREAM_ID_LENGTH:
        raise InvalidStreamIdError(
            f"stream id is {len(stream_id)} characters long; the limit is {MAX_STREAM_ID_LENGTH}"
        )
    if _STREAM_ID_RE.fullmatch(stream_id) is None:
        raise InvalidStreamIdError(
            f"stream id {stream_id[:60]!r} may only contain letters, digits, '_' and '-'"
        )
    return stream_id
