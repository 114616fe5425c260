"""The wire format, declared once: every event kind and nested object, field by field.

Each :class:`~l0core.codec.fields.Field` gives the camelCase name the format
writes, the snake_case attribute (also accepted on read, as ``ai2070-l0`` writes
it), how the value is checked, and whether it may be absent. Decoding, encoding,
validation messages and the JSON exports are all driven by these tables; see
``docs/format.md`` for the format itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from l0core.codec.checks import (
    copy_list,
    need_bool,
    need_error_code,
    need_int,
    need_json_object,
    need_name_or_null,
    need_number,
    need_policy,
    need_seq,
    need_str,
    need_str_list,
    need_stream_id,
    need_violations,
)
from l0core.codec.fields import Field, Value, object_value, plain
from l0core.events import (
    EVENT_CLASSES,
    DriftEventResult,
    GuardrailEventResult,
    RecordedEvent,
    RecordedEventType,
    SerializedError,
    SerializedOptions,
)

# ───────────────────────────── plain values ─────────────────────────────

STR = plain(need_str)
INT = plain(need_int)
SEQ = plain(need_seq)
BOOL = plain(need_bool)
NUMBER = plain(need_number)
JSON_OBJECT = plain(need_json_object)
POLICY = plain(need_policy)
ERROR_CODE = plain(need_error_code)
VIOLATIONS = Value(copy_list(need_violations), need_violations)
STR_LIST = Value(copy_list(need_str_list), need_str_list)
STREAM_ID = Value(need_str, need_stream_id)
"""Read as any string (reading never refuses data already stored); checked as an id on write."""
NAME_OR_NULL = Value(need_str, need_name_or_null)

# ───────────────────────────── payloads ─────────────────────────────

OPTION_FIELDS: tuple[Field, ...] = (
    Field("prompt", "prompt", STR, nullable=True),
    Field("model", "model", STR, nullable=True),
    Field("retry", "retry", JSON_OBJECT, nullable=True),
    Field("timeout", "timeout", JSON_OBJECT, nullable=True),
    Field("checkIntervals", "check_intervals", JSON_OBJECT, nullable=True),
    Field("continueFromLastKnownGoodToken", "continue_from_last_known_good_token", BOOL,
          nullable=True, also=("continue_from_checkpoint",)),
    Field("detectDrift", "detect_drift", BOOL, nullable=True),
    Field("detectZeroTokens", "detect_zero_tokens", BOOL, nullable=True),
    Field("fallbackCount", "fallback_count", INT, nullable=True),
    Field("guardrailCount", "guardrail_count", INT, nullable=True),
    Field("metadata", "metadata", JSON_OBJECT, nullable=True),
)
OPTIONS = object_value(SerializedOptions, OPTION_FIELDS)

ERROR_FIELDS: tuple[Field, ...] = (
    Field("name", "name", STR),
    Field("message", "message", STR),
    Field("code", "code", ERROR_CODE, nullable=True),
    Field("stack", "stack", STR, nullable=True),
    Field("metadata", "metadata", JSON_OBJECT, nullable=True),
)
ERROR = object_value(SerializedError, ERROR_FIELDS)

GUARDRAIL_RESULT_FIELDS: tuple[Field, ...] = (
    Field("violations", "violations", VIOLATIONS),
    Field("shouldRetry", "should_retry", BOOL),
    Field("shouldHalt", "should_halt", BOOL),
)
GUARDRAIL_RESULT = object_value(GuardrailEventResult, GUARDRAIL_RESULT_FIELDS)

DRIFT_RESULT_FIELDS: tuple[Field, ...] = (
    Field("detected", "detected", BOOL),
    Field("types", "types", STR_LIST),
    Field("confidence", "confidence", NUMBER),
)
DRIFT_RESULT = object_value(DriftEventResult, DRIFT_RESULT_FIELDS)

# ───────────────────────────── events ─────────────────────────────


@dataclass(frozen=True, slots=True)
class EventKind:
    """One event kind: its ``type`` string, its class and its fields after ``type``.

    Unknown keys on an event (as opposed to inside its payloads) are not kept.
    """

    event_type: RecordedEventType
    cls: type[RecordedEvent]
    fields: tuple[Field, ...]


TS = Field("ts", "ts", NUMBER)
AT = Field("at", "at", INT)


def _kind(t: RecordedEventType, *fields: Field) -> EventKind:
    return EventKind(t, EVENT_CLASSES[t], (TS, *fields))


EVENT_KINDS: tuple[EventKind, ...] = (
    _kind(RecordedEventType.START, Field("options", "options", OPTIONS)),
    _kind(RecordedEventType.TOKEN, Field("value", "value", STR), Field("index", "index", INT)),
    _kind(RecordedEventType.CHECKPOINT, AT, Field("content", "content", STR)),
    _kind(RecordedEventType.GUARDRAIL, AT, Field("result", "result", GUARDRAIL_RESULT)),
    _kind(RecordedEventType.DRIFT, AT, Field("result", "result", DRIFT_RESULT)),
    _kind(RecordedEventType.RETRY, Field("reason", "reason", STR),
          Field("attempt", "attempt", INT),
          Field("countsTowardLimit", "counts_toward_limit", BOOL)),
    _kind(RecordedEventType.FALLBACK, Field("to", "to", INT)),
    _kind(RecordedEventType.CONTINUATION, Field("checkpoint", "checkpoint", STR), AT),
    _kind(RecordedEventType.COMPLETE, Field("content", "content", STR),
          Field("tokenCount", "token_count", INT)),
    _kind(RecordedEventType.ERROR, Field("error", "error", ERROR),
          Field("failureType", "failure_type", STR),
          Field("recoveryStrategy", "recovery_strategy", STR),
          Field("policy", "policy", POLICY)),
)

ENVELOPE_FIELDS: tuple[Field, ...] = (
    Field("streamId", "stream_id", STR),
    Field("seq", "seq", SEQ),
)
"""An envelope's own fields; its ``event`` is decoded by kind."""

# ───────────────────────────── state and snapshots ─────────────────────────────

SPEC_STATE_FIELDS: tuple[Field, ...] = (
    Field("content", "content", STR),
    Field("tokenCount", "token_count", INT),
    Field("checkpoint", "checkpoint", STR),
    Field("violations", "violations", VIOLATIONS, default=[]),
    Field("driftDetected", "drift_detected", BOOL, default=False),
    Field("retryAttempts", "retry_attempts", INT, default=0),
    Field("networkRetryCount", "network_retry_count", INT, default=0),
    Field("fallbackIndex", "fallback_index", INT, default=0),
)
"""The fields of the spec's ``ReplayedState`` that its snapshots carry."""

OWN_STATE_FIELDS: tuple[Field, ...] = (
    Field("completed", "completed", BOOL, default=False),
    Field("error", "error", ERROR, nullable=True, write_null=True),
    Field("startTs", "start_ts", NUMBER, default=0),
    Field("endTs", "end_ts", NUMBER, default=0),
)
"""The rest of the state: snapshots written by this library carry these too, so they
restore the exact state; a snapshot without them is not trusted to replay from."""

STATE_FIELDS: tuple[Field, ...] = SPEC_STATE_FIELDS + OWN_STATE_FIELDS
"""A :class:`~l0core.fold.ReplayedState` as JSON (``l0tui show --json``)."""

SNAPSHOT_HEAD_FIELDS: tuple[Field, ...] = (
    Field("streamId", "stream_id", STREAM_ID),
    Field("seq", "seq", SEQ),
    Field("ts", "ts", NUMBER),
)

# ───────────────────────────── stream metadata ─────────────────────────────

METADATA_FIELDS: tuple[Field, ...] = (
    Field("streamId", "stream_id", STR),
    Field("model", "model", NAME_OR_NULL),
    Field("status", "status", STR),
    Field("eventCount", "event_count", INT),
    Field("tokenCount", "token_count", INT),
    Field("startTs", "start_ts", NUMBER),
    Field("endTs", "end_ts", NUMBER),
    Field("durationMs", "duration_ms", NUMBER),
    Field("retryAttempts", "retry_attempts", INT),
    Field("networkRetryCount", "network_retry_count", INT),
    Field("violationCount", "violation_count", INT),
    Field("fallbackIndex", "fallback_index", INT),
    Field("driftDetected", "drift_detected", BOOL),
    Field("completed", "completed", BOOL),
    Field("hasError", "has_error", BOOL),
)
"""A :class:`~l0core.metadata.StreamMetadata` as JSON (``l0tui ls --json``); write only."""
