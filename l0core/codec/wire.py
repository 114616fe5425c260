"""Typed events, envelopes, snapshots and state <-> JSON objects, driven by the schema.

Writes the spec's camelCase shape exactly; reads camelCase and the snake_case
spelling of ``ai2070-l0``. Encoding doubles as validation: every field is
type-checked and every free-form payload is checked to be JSON, so a store that
encodes before it writes can never persist a bad event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from l0core.codec import schema
from l0core.codec.checks import MAX_INT, MIN_INT, fail, kind_of, need_number, need_object
from l0core.codec.fields import field_reader, field_writer, keep_unknown, known_keys, write_unknown
from l0core.codec.tokens import token_event
from l0core.events import (
    DriftEventResult,
    EventEnvelope,
    GuardrailEventResult,
    JSONDict,
    RecordedEvent,
    SerializedError,
    SerializedOptions,
    Snapshot,
    TokenEvent,
)

if TYPE_CHECKING:  # both import the stores, which import this module
    from l0core.fold import ReplayedState
    from l0core.metadata import StreamMetadata

# ───────────────────────────── payloads ─────────────────────────────


def decode_options(d: object, path: str = "options") -> SerializedOptions:
    options: SerializedOptions = schema.OPTIONS.decode(d, path)
    return options


def encode_options(opts: SerializedOptions | JSONDict, path: str = "options") -> JSONDict:
    """The wire object of ``opts`` (typed, or a dict in either spelling)."""
    wire: JSONDict = schema.OPTIONS.encode(opts, path)
    return wire


def decode_error(d: object, path: str = "error") -> SerializedError:
    error: SerializedError = schema.ERROR.decode(d, path)
    return error


def encode_error(err: SerializedError | JSONDict, path: str = "error") -> JSONDict:
    wire: JSONDict = schema.ERROR.encode(err, path)
    return wire


def decode_guardrail_result(d: object, path: str = "result") -> GuardrailEventResult:
    result: GuardrailEventResult = schema.GUARDRAIL_RESULT.decode(d, path)
    return result


def encode_guardrail_result(r: GuardrailEventResult | JSONDict, path: str = "result") -> JSONDict:
    wire: JSONDict = schema.GUARDRAIL_RESULT.encode(r, path)
    return wire


def decode_drift_result(d: object, path: str = "result") -> DriftEventResult:
    result: DriftEventResult = schema.DRIFT_RESULT.decode(d, path)
    return result


def encode_drift_result(r: DriftEventResult | JSONDict, path: str = "result") -> JSONDict:
    wire: JSONDict = schema.DRIFT_RESULT.encode(r, path)
    return wire


# ───────────────────────────── events ─────────────────────────────

EventDecoder = Callable[[JSONDict, str], RecordedEvent]
EventEncoder = Callable[[RecordedEvent, str], JSONDict]


def _event_decoder(kind: schema.EventKind) -> EventDecoder:
    read = field_reader(kind.fields)
    cls = kind.cls

    def decode(data: JSONDict, path: str) -> RecordedEvent:
        return cls(**read(data, path))

    return decode


def _event_encoder(kind: schema.EventKind) -> EventEncoder:
    write = field_writer(kind.fields)
    type_name = str(kind.event_type.value)

    def encode(event: RecordedEvent, path: str) -> JSONDict:
        out: JSONDict = {"type": type_name}
        write(event, path, out)
        return out

    return encode


# The table-driven codec of each kind. decode_event and encode_event put a fast path
# for TOKEN in front; the tests pin the fast paths to these.
CHECKED_DECODERS: dict[str, EventDecoder] = {
    str(k.event_type.value): _event_decoder(k) for k in schema.EVENT_KINDS
}
CHECKED_ENCODERS: dict[type, EventEncoder] = {k.cls: _event_encoder(k) for k in schema.EVENT_KINDS}


def _encoder_for(cls: type) -> EventEncoder | None:
    """The encoder of ``cls`` or of the event class it derives from."""
    for base in cls.__mro__:
        encoder = CHECKED_ENCODERS.get(base)
        if encoder is not None:
            return encoder
    return None


def decode_event(d: object, path: str = "event") -> RecordedEvent:
    """A typed event from its JSON object (either spelling). Raises on any bad field."""
    if not isinstance(d, dict):
        raise fail(path, f"expected an object, got {kind_of(d)}")
    t = d.get("type")
    if t == "TOKEN":
        # The fast path (see l0core.codec.tokens): exactly the checks the table would make.
        ts = d.get("ts")
        value = d.get("value")
        index = d.get("index")
        if (
            type(value) is str
            and type(index) is int
            and MIN_INT <= index <= MAX_INT
            and (
                (type(ts) is int and MIN_INT <= ts <= MAX_INT)
                or (type(ts) is float and math.isfinite(ts))
            )
        ):
            return token_event(ts, value, index)
    decode = CHECKED_DECODERS.get(t) if isinstance(t, str) else None
    if decode is None:
        if t is None:
            raise fail(f"{path}.type", "missing field")
        raise fail(f"{path}.type", f"unknown event type {t!r}")
    return decode(d, path)


def encode_event(event: RecordedEvent | Mapping[str, Any], path: str = "event") -> JSONDict:
    """The wire object of ``event`` (camelCase), validating every field on the way."""
    if type(event) is TokenEvent:  # the fast path: exactly the checks the table would make
        value, index, ts = event.value, event.index, event.ts
        if type(value) is str and type(index) is int and MIN_INT <= index <= MAX_INT and (
            (type(ts) is int and MIN_INT <= ts <= MAX_INT)
            or (type(ts) is float and math.isfinite(ts))
        ):
            return {"type": "TOKEN", "ts": ts, "value": value, "index": index}
    elif isinstance(event, Mapping):
        event = decode_event(dict(event), path)
    encode = CHECKED_ENCODERS.get(type(event)) or _encoder_for(type(event))
    if encode is None:
        need_number(getattr(event, "ts", None), f"{path}.ts")
        raise fail(f"{path}.type", f"unknown event type {type(event).__name__}")
    return encode(event, path)


def coerce_event(event: RecordedEvent | Mapping[str, Any], path: str = "event") -> RecordedEvent:
    """A validated, independent copy of ``event`` (typed object or wire dict)."""
    return decode_event(encode_event(event, path), path)


# ───────────────────────────── envelopes ─────────────────────────────


def encode_envelope(env: EventEnvelope) -> JSONDict:
    return {"streamId": env.stream_id, "seq": env.seq, "event": encode_event(env.event)}


_read_envelope = field_reader(schema.ENVELOPE_FIELDS)


def decode_envelope(d: object, path: str = "envelope") -> EventEnvelope:
    if not isinstance(d, dict):
        raise fail(path, f"expected an object, got {kind_of(d)}")
    stream_id = d.get("streamId")
    if stream_id is None:
        stream_id = d.get("stream_id")
    seq = d.get("seq")
    if type(stream_id) is not str or type(seq) is not int or seq < 0:
        head = _read_envelope(d, path)  # the checked path, which says what is wrong
        stream_id, seq = head["stream_id"], head["seq"]
    return EventEnvelope(stream_id, seq, decode_event(d.get("event"), f"{path}.event"))


def dumps(obj: Any) -> bytes:
    """orjson with the options every store uses."""
    return orjson.dumps(obj)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def encode_envelope_line(env: EventEnvelope) -> bytes:
    """One JSONL line (with its newline) for ``env``."""
    return orjson.dumps(encode_envelope(env)) + b"\n"


def encode_lines(stream_id: str, first_seq: int, events: Iterable[JSONDict]) -> bytes:
    """JSONL for already-encoded wire events numbered from ``first_seq``."""
    return b"".join(
        orjson.dumps({"streamId": stream_id, "seq": first_seq + i, "event": e}) + b"\n"
        for i, e in enumerate(events)
    )


# ───────────────────────────── snapshots and state ─────────────────────────────

_SNAPSHOT_FIELDS = schema.SNAPSHOT_HEAD_FIELDS + schema.STATE_FIELDS
_read_snapshot = field_reader(_SNAPSHOT_FIELDS)
_SNAPSHOT_KEYS = known_keys(_SNAPSHOT_FIELDS)
_write_spec_snapshot = field_writer(schema.SNAPSHOT_HEAD_FIELDS + schema.SPEC_STATE_FIELDS)
_write_own_state = field_writer(schema.OWN_STATE_FIELDS)
_write_state = field_writer(schema.STATE_FIELDS)
_write_metadata = field_writer(schema.METADATA_FIELDS)


def encode_snapshot(s: Snapshot, path: str = "snapshot") -> JSONDict:
    """A snapshot's wire object; the state beyond the spec's only when it is complete."""
    if not isinstance(s, Snapshot):
        raise fail(path, f"expected a Snapshot, got {kind_of(s)}")
    out: JSONDict = {}
    _write_spec_snapshot(s, path, out)
    if s.complete_state:
        _write_own_state(s, path, out)
    write_unknown(s.extra, path, out)
    return out


def decode_snapshot(d: object, path: str = "snapshot") -> Snapshot:
    """A snapshot in either spelling; one another library wrote has ``complete_state`` False."""
    data = need_object(d, path)
    values = _read_snapshot(data, path)
    complete = "completed" in data and ("startTs" in data or "start_ts" in data)
    return Snapshot(**values, complete_state=complete,
                    extra=keep_unknown(data, _SNAPSHOT_KEYS, path))


def encode_state(state: ReplayedState, path: str = "state") -> JSONDict:
    """A :class:`~l0core.fold.ReplayedState` with the spec's camelCase names."""
    out: JSONDict = {}
    _write_state(state, path, out)
    return out


def encode_metadata(meta: StreamMetadata, path: str = "metadata") -> JSONDict:
    """A :class:`~l0core.metadata.StreamMetadata` as JSON (what ``ls --json`` lists)."""
    out: JSONDict = {}
    _write_metadata(meta, path, out)
    return out
