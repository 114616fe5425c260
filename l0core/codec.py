"""The wire format: typed events <-> JSON objects, one codec for every store.

Writes the spec's camelCase shape exactly; reads camelCase and the snake_case
spelling of ``ai2070-l0``. Encoding doubles as validation: every field is
type-checked and every free-form payload is checked to be JSON, so a store that
encodes before it writes can never persist a bad event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import orjson

from l0core.errors import EventValidationError
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
    JSONDict,
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

_MAX_INT = 2**63 - 1

# ───────────────────────────── checks ─────────────────────────────


def _fail(path: str, message: str) -> EventValidationError:
    return EventValidationError(message, path)


def _is_int(value: object) -> bool:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= _MAX_INT
    return isinstance(value, float) and math.isfinite(value)


def check_json(value: object, path: str) -> None:
    """Raise unless ``value`` is plain JSON (str keys, finite numbers, no cycles)."""
    stack: list[tuple[object, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > 200:
            raise _fail(where, "nested too deeply (or contains a cycle)")
        if item is None or isinstance(item, str | bool):
            continue
        if isinstance(item, int | float):
            if not _is_number(item):
                raise _fail(where, f"{item!r} is not a finite JSON number")
            continue
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise _fail(where, f"object key {key!r} is not a string")
                stack.append((sub, f"{where}.{key}", depth + 1))
            continue
        if isinstance(item, list | tuple):
            for i, sub in enumerate(item):
                stack.append((sub, f"{where}[{i}]", depth + 1))
            continue
        raise _fail(where, f"{type(item).__name__} is not JSON-serialisable")


def _need_str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"expected a string, got {_kind(value)}")
    return value


def _need_int(value: object, path: str) -> int:
    if not _is_int(value) or abs(cast(int, value)) > _MAX_INT:
        raise _fail(path, f"expected an integer, got {_kind(value)}")
    return cast(int, value)


def _need_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f"expected true or false, got {_kind(value)}")
    return value


def _need_number(value: object, path: str) -> float:
    if not _is_number(value):
        raise _fail(path, f"expected a finite number, got {_kind(value)}")
    return cast(float, value)


def _need_dict(value: object, path: str) -> JSONDict:
    if not isinstance(value, dict):
        raise _fail(path, f"expected an object, got {_kind(value)}")
    return value


def _opt_dict(value: object, path: str) -> JSONDict | None:
    if value is None:
        return None
    d = _need_dict(value, path)
    check_json(d, path)
    return d


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__


_MISSING: Any = object()


def _get(d: Mapping[str, Any], camel: str, snake: str, path: str) -> Any:
    """The value under ``camel`` or ``snake``; a missing field is an error."""
    value = d.get(camel, _MISSING)
    if value is _MISSING:
        value = d.get(snake, _MISSING)
        if value is _MISSING:
            raise _fail(f"{path}.{camel}", "missing field")
    return value


# ───────────────────────────── payloads ─────────────────────────────

# (wire name, attribute, other accepted spellings)
_OPTION_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("prompt", "prompt", ()),
    ("model", "model", ()),
    ("retry", "retry", ()),
    ("timeout", "timeout", ()),
    ("checkIntervals", "check_intervals", ("check_intervals",)),
    (
        "continueFromLastKnownGoodToken",
        "continue_from_last_known_good_token",
        ("continue_from_last_known_good_token", "continue_from_checkpoint"),
    ),
    ("detectDrift", "detect_drift", ("detect_drift",)),
    ("detectZeroTokens", "detect_zero_tokens", ("detect_zero_tokens",)),
    ("fallbackCount", "fallback_count", ("fallback_count",)),
    ("guardrailCount", "guardrail_count", ("guardrail_count",)),
    ("metadata", "metadata", ()),
)
_OPTION_KEYS = {n for wire, _, alts in _OPTION_FIELDS for n in (wire, *alts)}
_OPTION_CHECKS: dict[str, Callable[[object, str], object]] = {
    "prompt": _need_str,
    "model": _need_str,
    "retry": _opt_dict,
    "timeout": _opt_dict,
    "check_intervals": _opt_dict,
    "continue_from_last_known_good_token": _need_bool,
    "detect_drift": _need_bool,
    "detect_zero_tokens": _need_bool,
    "fallback_count": _need_int,
    "guardrail_count": _need_int,
    "metadata": _opt_dict,
}


def decode_options(d: object, path: str = "options") -> SerializedOptions:
    data = _need_dict(d, path)
    opts = SerializedOptions()
    for wire, attr, alts in _OPTION_FIELDS:
        value = None
        for name in (wire, *alts):
            if data.get(name) is not None:
                value = data[name]
                break
        if value is not None:
            setattr(opts, attr, _OPTION_CHECKS[attr](value, f"{path}.{wire}"))
    extra = {k: v for k, v in data.items() if k not in _OPTION_KEYS}
    check_json(extra, path)
    opts.extra = extra
    return opts


def encode_options(opts: SerializedOptions, path: str = "options") -> JSONDict:
    if not isinstance(opts, SerializedOptions):
        if isinstance(opts, dict):
            opts = decode_options(opts, path)
        else:
            raise _fail(path, f"expected SerializedOptions or a dict, got {_kind(opts)}")
    out: JSONDict = {}
    for wire, attr, _ in _OPTION_FIELDS:
        value = getattr(opts, attr)
        if value is not None:
            out[wire] = _OPTION_CHECKS[attr](value, f"{path}.{wire}")
    check_json(opts.extra, path)
    for key, value in opts.extra.items():
        out.setdefault(key, value)
    return out


_ERROR_KEYS = {"name", "message", "code", "stack", "metadata"}


def decode_error(d: object, path: str = "error") -> SerializedError:
    data = _need_dict(d, path)
    code = data.get("code")
    if code is not None and not isinstance(code, str) and not _is_int(code):
        raise _fail(f"{path}.code", f"expected a string or integer, got {_kind(code)}")
    stack = data.get("stack")
    extra = {k: v for k, v in data.items() if k not in _ERROR_KEYS}
    check_json(extra, path)
    return SerializedError(
        name=_need_str(_get(data, "name", "name", path), f"{path}.name"),
        message=_need_str(_get(data, "message", "message", path), f"{path}.message"),
        code=code,
        stack=None if stack is None else _need_str(stack, f"{path}.stack"),
        metadata=_opt_dict(data.get("metadata"), f"{path}.metadata"),
        extra=extra,
    )


def encode_error(err: SerializedError, path: str = "error") -> JSONDict:
    if not isinstance(err, SerializedError):
        if isinstance(err, dict):
            err = decode_error(err, path)
        else:
            raise _fail(path, f"expected SerializedError or a dict, got {_kind(err)}")
    out: JSONDict = {
        "name": _need_str(err.name, f"{path}.name"),
        "message": _need_str(err.message, f"{path}.message"),
    }
    if err.code is not None:
        if not isinstance(err.code, str) and not _is_int(err.code):
            raise _fail(f"{path}.code", f"expected a string or integer, got {_kind(err.code)}")
        out["code"] = err.code
    if err.stack is not None:
        out["stack"] = _need_str(err.stack, f"{path}.stack")
    if err.metadata is not None:
        out["metadata"] = _opt_dict(err.metadata, f"{path}.metadata")
    check_json(err.extra, path)
    for key, value in err.extra.items():
        out.setdefault(key, value)
    return out


def _violations(value: object, path: str) -> list[JSONDict]:
    if not isinstance(value, list):
        raise _fail(path, f"expected a list, got {_kind(value)}")
    for i, v in enumerate(value):
        _need_dict(v, f"{path}[{i}]")
    check_json(value, path)
    return value


_GUARDRAIL_KEYS = {"violations", "shouldRetry", "should_retry", "shouldHalt", "should_halt"}


def decode_guardrail_result(d: object, path: str = "result") -> GuardrailEventResult:
    data = _need_dict(d, path)
    extra = {k: v for k, v in data.items() if k not in _GUARDRAIL_KEYS}
    check_json(extra, path)
    return GuardrailEventResult(
        violations=list(_violations(_get(data, "violations", "violations", path),
                                    f"{path}.violations")),
        should_retry=_need_bool(_get(data, "shouldRetry", "should_retry", path),
                                f"{path}.shouldRetry"),
        should_halt=_need_bool(_get(data, "shouldHalt", "should_halt", path),
                               f"{path}.shouldHalt"),
        extra=extra,
    )


def encode_guardrail_result(r: GuardrailEventResult, path: str = "result") -> JSONDict:
    if isinstance(r, dict):
        r = decode_guardrail_result(r, path)
    if not isinstance(r, GuardrailEventResult):
        raise _fail(path, f"expected GuardrailEventResult or a dict, got {_kind(r)}")
    out: JSONDict = {
        "violations": _violations(r.violations, f"{path}.violations"),
        "shouldRetry": _need_bool(r.should_retry, f"{path}.shouldRetry"),
        "shouldHalt": _need_bool(r.should_halt, f"{path}.shouldHalt"),
    }
    check_json(r.extra, path)
    for key, value in r.extra.items():
        out.setdefault(key, value)
    return out


_DRIFT_KEYS = {"detected", "types", "confidence"}


def _types(value: object, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise _fail(path, f"expected a list of strings, got {_kind(value)}")
    return value


def decode_drift_result(d: object, path: str = "result") -> DriftEventResult:
    data = _need_dict(d, path)
    extra = {k: v for k, v in data.items() if k not in _DRIFT_KEYS}
    check_json(extra, path)
    return DriftEventResult(
        detected=_need_bool(_get(data, "detected", "detected", path), f"{path}.detected"),
        types=list(_types(_get(data, "types", "types", path), f"{path}.types")),
        confidence=_need_number(_get(data, "confidence", "confidence", path),
                                f"{path}.confidence"),
        extra=extra,
    )


def encode_drift_result(r: DriftEventResult, path: str = "result") -> JSONDict:
    if isinstance(r, dict):
        r = decode_drift_result(r, path)
    if not isinstance(r, DriftEventResult):
        raise _fail(path, f"expected DriftEventResult or a dict, got {_kind(r)}")
    out: JSONDict = {
        "detected": _need_bool(r.detected, f"{path}.detected"),
        "types": _types(r.types, f"{path}.types"),
        "confidence": _need_number(r.confidence, f"{path}.confidence"),
    }
    check_json(r.extra, path)
    for key, value in r.extra.items():
        out.setdefault(key, value)
    return out


def _policy(value: object, path: str) -> str | JSONDict:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        check_json(value, path)
        return value
    raise _fail(path, f"expected a string or an object, got {_kind(value)}")


# ───────────────────────────── events ─────────────────────────────

_TYPE_NAMES = {t.value for t in RecordedEventType}


def decode_event(d: object, path: str = "event") -> RecordedEvent:
    """A typed event from its JSON object (either spelling). Raises on any bad field."""
    if not isinstance(d, dict):
        raise _fail(path, f"expected an object, got {_kind(d)}")
    t = d.get("type")
    ts = d.get("ts")
    # Fast path: tokens are nearly every event of a stream.
    if t == "TOKEN":
        value = d.get("value")
        index = d.get("index")
        if (
            type(value) is str
            and type(index) is int
            and (type(ts) is int or (type(ts) is float and math.isfinite(ts)))
        ):
            return TokenEvent(ts=ts, value=value, index=index)
    if t not in _TYPE_NAMES:
        if t is None:
            raise _fail(f"{path}.type", "missing field")
        raise _fail(f"{path}.type", f"unknown event type {t!r}")
    ts = _need_number(_get(d, "ts", "ts", path), f"{path}.ts")
    p = path
    if t == "TOKEN":
        return TokenEvent(
            ts=ts,
            value=_need_str(_get(d, "value", "value", p), f"{p}.value"),
            index=_need_int(_get(d, "index", "index", p), f"{p}.index"),
        )
    if t == "START":
        return StartEvent(ts=ts, options=decode_options(_get(d, "options", "options", p),
                                                        f"{p}.options"))
    if t == "CHECKPOINT":
        return CheckpointEvent(
            ts=ts,
            at=_need_int(_get(d, "at", "at", p), f"{p}.at"),
            content=_need_str(_get(d, "content", "content", p), f"{p}.content"),
        )
    if t == "GUARDRAIL":
        return GuardrailEvent(
            ts=ts,
            at=_need_int(_get(d, "at", "at", p), f"{p}.at"),
            result=decode_guardrail_result(_get(d, "result", "result", p), f"{p}.result"),
        )
    if t == "DRIFT":
        return DriftEvent(
            ts=ts,
            at=_need_int(_get(d, "at", "at", p), f"{p}.at"),
            result=decode_drift_result(_get(d, "result", "result", p), f"{p}.result"),
        )
    if t == "RETRY":
        return RetryEvent(
            ts=ts,
            reason=_need_str(_get(d, "reason", "reason", p), f"{p}.reason"),
            attempt=_need_int(_get(d, "attempt", "attempt", p), f"{p}.attempt"),
            counts_toward_limit=_need_bool(
                _get(d, "countsTowardLimit", "counts_toward_limit", p), f"{p}.countsTowardLimit"
            ),
        )
    if t == "FALLBACK":
        return FallbackEvent(ts=ts, to=_need_int(_get(d, "to", "to", p), f"{p}.to"))
    if t == "CONTINUATION":
        return ContinuationEvent(
            ts=ts,
            checkpoint=_need_str(_get(d, "checkpoint", "checkpoint", p), f"{p}.checkpoint"),
            at=_need_int(_get(d, "at", "at", p), f"{p}.at"),
        )
    if t == "COMPLETE":
        return CompleteEvent(
            ts=ts,
            content=_need_str(_get(d, "content", "content", p), f"{p}.content"),
            token_count=_need_int(_get(d, "tokenCount", "token_count", p), f"{p}.tokenCount"),
        )
    # ERROR
    return ErrorEvent(
        ts=ts,
        error=decode_error(_get(d, "error", "error", p), f"{p}.error"),
        failure_type=_need_str(_get(d, "failureType", "failure_type", p), f"{p}.failureType"),
        recovery_strategy=_need_str(
            _get(d, "recoveryStrategy", "recovery_strategy", p), f"{p}.recoveryStrategy"
        ),
        policy=_policy(_get(d, "policy", "policy", p), f"{p}.policy"),
    )


def encode_event(event: RecordedEvent | Mapping[str, Any], path: str = "event") -> JSONDict:
    """The wire object of ``event`` (camelCase), validating every field on the way."""
    if isinstance(event, Mapping):
        event = decode_event(dict(event), path)
    p = path
    if isinstance(event, TokenEvent):
        value, index, ts = event.value, event.index, event.ts
        if type(value) is str and type(index) is int and abs(index) <= _MAX_INT and (
            type(ts) is int or (type(ts) is float and math.isfinite(ts))
        ):
            return {"type": "TOKEN", "ts": ts, "value": value, "index": index}
        return {
            "type": "TOKEN",
            "ts": _need_number(ts, f"{p}.ts"),
            "value": _need_str(value, f"{p}.value"),
            "index": _need_int(index, f"{p}.index"),
        }
    ts = _need_number(getattr(event, "ts", None), f"{p}.ts")
    if isinstance(event, StartEvent):
        return {"type": "START", "ts": ts, "options": encode_options(event.options,
                                                                     f"{p}.options")}
    if isinstance(event, CheckpointEvent):
        return {
            "type": "CHECKPOINT",
            "ts": ts,
            "at": _need_int(event.at, f"{p}.at"),
            "content": _need_str(event.content, f"{p}.content"),
        }
    if isinstance(event, GuardrailEvent):
        return {
            "type": "GUARDRAIL",
            "ts": ts,
            "at": _need_int(event.at, f"{p}.at"),
            "result": encode_guardrail_result(event.result, f"{p}.result"),
        }
    if isinstance(event, DriftEvent):
        return {
            "type": "DRIFT",
            "ts": ts,
            "at": _need_int(event.at, f"{p}.at"),
            "result": encode_drift_result(event.result, f"{p}.result"),
        }
    if isinstance(event, RetryEvent):
        return {
            "type": "RETRY",
            "ts": ts,
            "reason": _need_str(event.reason, f"{p}.reason"),
            "attempt": _need_int(event.attempt, f"{p}.attempt"),
            "countsTowardLimit": _need_bool(event.counts_toward_limit, f"{p}.countsTowardLimit"),
        }
    if isinstance(event, FallbackEvent):
        return {"type": "FALLBACK", "ts": ts, "to": _need_int(event.to, f"{p}.to")}
    if isinstance(event, ContinuationEvent):
        return {
            "type": "CONTINUATION",
            "ts": ts,
            "checkpoint": _need_str(event.checkpoint, f"{p}.checkpoint"),
            "at": _need_int(event.at, f"{p}.at"),
        }
    if isinstance(event, CompleteEvent):
        return {
            "type": "COMPLETE",
            "ts": ts,
            "content": _need_str(event.content, f"{p}.content"),
            "tokenCount": _need_int(event.token_count, f"{p}.tokenCount"),
        }
    if isinstance(event, ErrorEvent):
        return {
            "type": "ERROR",
            "ts": ts,
            "error": encode_error(event.error, f"{p}.error"),
            "failureType": _need_str(event.failure_type, f"{p}.failureType"),
            "recoveryStrategy": _need_str(event.recovery_strategy, f"{p}.recoveryStrategy"),
            "policy": _policy(event.policy, f"{p}.policy"),
        }
    raise _fail(f"{p}.type", f"unknown event type {type(event).__name__}")


def coerce_event(event: RecordedEvent | Mapping[str, Any], path: str = "event") -> RecordedEvent:
    """A validated, independent copy of ``event`` (typed object or wire dict)."""
    return decode_event(encode_event(event, path), path)


# ───────────────────────────── envelopes ─────────────────────────────


def encode_envelope(env: EventEnvelope) -> JSONDict:
    return {"streamId": env.stream_id, "seq": env.seq, "event": encode_event(env.event)}


def decode_envelope(d: object, path: str = "envelope") -> EventEnvelope:
    if not isinstance(d, dict):
        raise _fail(path, f"expected an object, got {_kind(d)}")
    stream_id = d.get("streamId")
    if stream_id is None:
        stream_id = d.get("stream_id")
    seq = d.get("seq")
    if type(stream_id) is not str:
        stream_id = _need_str(_get(d, "streamId", "stream_id", path), f"{path}.streamId")
    if type(seq) is not int:
        seq = _need_int(_get(d, "seq", "seq", path), f"{path}.seq")
    if seq < 0:
        raise _fail(f"{path}.seq", f"must be >= 0, got {seq}")
    return EventEnvelope(stream_id, seq, decode_event(d.get("event"), f"{path}.event"))


def dumps(obj: Any) -> bytes:
    """orjson with the options every store uses."""
    return orjson.dumps(obj)


def encode_envelope_line(env: EventEnvelope) -> bytes:
    """One JSONL line (with its newline) for ``env``."""
    return orjson.dumps(encode_envelope(env)) + b"\n"


def encode_lines(stream_id: str, first_seq: int, events: Iterable[JSONDict]) -> bytes:
    """JSONL for already-encoded wire events numbered from ``first_seq``."""
    return b"".join(
        orjson.dumps({"streamId": stream_id, "seq": first_seq + i, "event": e}) + b"\n"
        for i, e in enumerate(events)
    )


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


# ───────────────────────────── snapshots ─────────────────────────────

_SNAPSHOT_FIELDS: tuple[tuple[str, str], ...] = (
    ("streamId", "stream_id"),
    ("seq", "seq"),
    ("ts", "ts"),
    ("content", "content"),
    ("tokenCount", "token_count"),
    ("checkpoint", "checkpoint"),
    ("violations", "violations"),
    ("driftDetected", "drift_detected"),
    ("retryAttempts", "retry_attempts"),
    ("networkRetryCount", "network_retry_count"),
    ("fallbackIndex", "fallback_index"),
    ("completed", "completed"),
    ("error", "error"),
    ("startTs", "start_ts"),
    ("endTs", "end_ts"),
)
_SNAPSHOT_KEYS = {n for pair in _SNAPSHOT_FIELDS for n in pair}


def encode_snapshot(s: Snapshot, path: str = "snapshot") -> JSONDict:
    if not isinstance(s, Snapshot):
        raise _fail(path, f"expected a Snapshot, got {_kind(s)}")
    validate_stream_id(s.stream_id)
    out: JSONDict = {
        "streamId": s.stream_id,
        "seq": _need_int(s.seq, f"{path}.seq"),
        "ts": _need_number(s.ts, f"{path}.ts"),
        "content": _need_str(s.content, f"{path}.content"),
        "tokenCount": _need_int(s.token_count, f"{path}.tokenCount"),
        "checkpoint": _need_str(s.checkpoint, f"{path}.checkpoint"),
        "violations": _violations(s.violations, f"{path}.violations"),
        "driftDetected": _need_bool(s.drift_detected, f"{path}.driftDetected"),
        "retryAttempts": _need_int(s.retry_attempts, f"{path}.retryAttempts"),
        "networkRetryCount": _need_int(s.network_retry_count, f"{path}.networkRetryCount"),
        "fallbackIndex": _need_int(s.fallback_index, f"{path}.fallbackIndex"),
    }
    if s.complete_state:
        out["completed"] = _need_bool(s.completed, f"{path}.completed")
        out["error"] = None if s.error is None else encode_error(s.error, f"{path}.error")
        out["startTs"] = _need_number(s.start_ts, f"{path}.startTs")
        out["endTs"] = _need_number(s.end_ts, f"{path}.endTs")
    if s.seq < 0:
        raise _fail(f"{path}.seq", f"must be >= 0, got {s.seq}")
    check_json(s.extra, path)
    for key, value in s.extra.items():
        out.setdefault(key, value)
    return out


def decode_snapshot(d: object, path: str = "snapshot") -> Snapshot:
    data = _need_dict(d, path)

    def get(camel: str, snake: str, default: Any = _MISSING) -> Any:
        for name in (camel, snake):
            if name in data:
                return data[name]
        if default is _MISSING:
            raise _fail(f"{path}.{camel}", "missing field")
        return default

    complete = "completed" in data and ("startTs" in data or "start_ts" in data)
    error = get("error", "error", None)
    extra = {k: v for k, v in data.items() if k not in _SNAPSHOT_KEYS}
    check_json(extra, path)
    return Snapshot(
        stream_id=_need_str(get("streamId", "stream_id"), f"{path}.streamId"),
        seq=_need_int(get("seq", "seq"), f"{path}.seq"),
        ts=_need_number(get("ts", "ts"), f"{path}.ts"),
        content=_need_str(get("content", "content"), f"{path}.content"),
        token_count=_need_int(get("tokenCount", "token_count"), f"{path}.tokenCount"),
        checkpoint=_need_str(get("checkpoint", "checkpoint"), f"{path}.checkpoint"),
        violations=list(_violations(get("violations", "violations", []), f"{path}.violations")),
        drift_detected=_need_bool(get("driftDetected", "drift_detected", False),
                                  f"{path}.driftDetected"),
        retry_attempts=_need_int(get("retryAttempts", "retry_attempts", 0),
                                 f"{path}.retryAttempts"),
        network_retry_count=_need_int(get("networkRetryCount", "network_retry_count", 0),
                                      f"{path}.networkRetryCount"),
        fallback_index=_need_int(get("fallbackIndex", "fallback_index", 0),
                                 f"{path}.fallbackIndex"),
        completed=_need_bool(get("completed", "completed", False), f"{path}.completed"),
        error=None if error is None else decode_error(error, f"{path}.error"),
        start_ts=_need_number(get("startTs", "start_ts", 0), f"{path}.startTs"),
        end_ts=_need_number(get("endTs", "end_ts", 0), f"{path}.endTs"),
        complete_state=complete,
        extra=extra,
    )
