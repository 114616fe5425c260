"""OTLP JSON: a recorded stream as an OpenTelemetry trace, for observability back ends.

Tracing tools read OTLP, not L0 recordings, so a stream is written as the
OpenTelemetry file exporter writes traces: JSON Lines, one ``TracesData`` object
per line, one line (one trace) per stream. The trace holds a GenAI inference span
(``chat {model}``) and under it one span per attempt (:mod:`l0core.timeline.attempts`);
every recorded event is a span event on the attempt it happened in, carrying its
wire JSON, so the trace can be read back into the same events. The mapping is in
``docs/format.md``, section "OTLP mapping"; the encoding follows OTLP/JSON
(lowerCamelCase keys, enums as integers, 64-bit integers as decimal strings,
trace and span ids as hex).

A line is produced in pieces (:func:`otlp_chunks`): the events of a long stream
are rebuilt from its :class:`~l0core.timeline.Timeline` a batch at a time, so
nothing larger than one batch of events exists besides the timeline itself.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from fractions import Fraction
from typing import IO, Any, Protocol

from l0core.codec import dumps, encode_event, encode_options
from l0core.errors import StreamNotFoundError
from l0core.events import (
    ErrorEvent,
    EventEnvelope,
    JSONDict,
    RecordedEventType,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)
from l0core.fold import ReplayedState
from l0core.timeline.attempts import Attempt
from l0core.timeline.index import Timeline, load_timeline

__all__ = [
    "EVENT_NAMES",
    "SERVICE_NAME",
    "otlp_chunks",
    "otlp_line",
    "span_id",
    "time_unix_nano",
    "trace_id",
    "write_otlp",
]

SERVICE_NAME = "l0tui"
"""The resource's ``service.name``."""
SCOPE_NAME = "l0core"
"""The instrumentation scope of every span."""

SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
STATUS_CODE_ERROR = 2

EVENT_NAMES: dict[RecordedEventType, str] = {
    RecordedEventType.START: "l0.start",
    RecordedEventType.TOKEN: "l0.token",
    RecordedEventType.CHECKPOINT: "l0.checkpoint",
    RecordedEventType.GUARDRAIL: "l0.guardrail",
    RecordedEventType.DRIFT: "l0.drift",
    RecordedEventType.RETRY: "l0.retry",
    RecordedEventType.FALLBACK: "l0.fallback",
    RecordedEventType.CONTINUATION: "l0.continuation",
    RecordedEventType.COMPLETE: "l0.complete",
    RecordedEventType.ERROR: "l0.error",
}
"""The span event name of each event kind."""

_REQUEST_PARAMS: tuple[tuple[str, tuple[str, ...], type], ...] = (
    ("gen_ai.request.temperature", ("temperature",), float),
    ("gen_ai.request.max_tokens", ("maxTokens", "max_tokens"), int),
    ("gen_ai.request.top_p", ("topP", "top_p"), float),
)
"""GenAI request attributes, the option keys that may hold them, and their type."""

_BATCH = 4096  # events rebuilt from the timeline and encoded at a time
_MAX_NANOS = 2**64 - 1  # timeUnixNano is a fixed64
# JSON allows these raw inside strings, but other readers split lines on them
# (U+2028, U+2029, NEL) or terminals act on them (C1 controls): written as \u escapes
_LINE_UNSAFE = re.compile(rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")


# ───────────────────────────── ids, times, values ─────────────────────────────


def trace_id(stream_id: str) -> str:
    """The trace of ``stream_id``: the first 16 bytes of its SHA-256, as hex."""
    return hashlib.sha256(stream_id.encode("utf-8")).digest()[:16].hex()


def span_id(stream_id: str, attempt: int) -> str:
    """The span of attempt ``attempt`` (0: the inference span), 8 bytes of SHA-256, hex."""
    return hashlib.sha256(f"{stream_id}/{attempt}".encode()).digest()[:8].hex()


def time_unix_nano(ts: float) -> str:
    """``ts`` (Unix ms, int or float) in nanoseconds, as the decimal string OTLP/JSON wants.

    Integral values are multiplied exactly; a float is rounded to the nearest
    nanosecond from its exact value. Outside the fixed64 range it is clamped.
    """
    if type(ts) is int:
        ns = ts * 1_000_000
    elif ts.is_integer():
        ns = int(ts) * 1_000_000
    else:
        ns = round(Fraction(ts) * 1_000_000)
    return str(min(max(ns, 0), _MAX_NANOS))


def _value(v: Any) -> JSONDict:
    """An OTLP ``AnyValue`` for a plain JSON value."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, list | tuple):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [_attr(str(k), x) for k, x in v.items()]}}
    return {}


def _attr(key: str, value: Any) -> JSONDict:
    return {"key": key, "value": _value(value)}


def _json(obj: Any) -> str:
    """Compact JSON with the line-unsafe characters escaped."""
    raw = _LINE_UNSAFE.sub(lambda m: b"\\u%04x" % ord(m.group().decode("utf-8")), dumps(obj))
    return raw.decode("utf-8")


def _wire(event: Any) -> str:
    """The event's wire JSON (the string every non-TOKEN span event carries)."""
    return dumps(encode_event(event)).decode("utf-8")


# ───────────────────────────── spans ─────────────────────────────


def _option(options: SerializedOptions, names: tuple[str, ...]) -> Any:
    """An option the schema does not name: among the options' own keys, else in metadata."""
    for source in (options.extra, options.metadata or {}):
        for name in names:
            if source.get(name) is not None:
                return source[name]
    return None


def _request_attributes(options: SerializedOptions) -> list[JSONDict]:
    attrs: list[JSONDict] = []
    provider = _option(options, ("provider",))
    if isinstance(provider, str) and provider:
        attrs.append(_attr("gen_ai.provider.name", provider))
    if options.model is not None:
        attrs.append(_attr("gen_ai.request.model", options.model))
    for key, names, kind in _REQUEST_PARAMS:
        value = _option(options, names)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if kind is int and isinstance(value, int):
            attrs.append(_attr(key, value))
        elif kind is float:
            attrs.append(_attr(key, float(value)))
    return attrs


def _messages(role: str, content: str, finish_reason: str | None = None) -> str:
    message: JSONDict = {"role": role, "parts": [{"type": "text", "content": content}]}
    if finish_reason is not None:
        message["finish_reason"] = finish_reason
    return dumps([message]).decode("utf-8")


def _inference_span(tl: Timeline, state: ReplayedState) -> JSONDict:
    """The GenAI inference span: the whole run, its request and its outcome."""
    sid = tl.stream_id
    starts = tl.landmarks(RecordedEventType.START)
    start_event = tl.envelope(starts[0]).event if starts else None
    options = start_event.options if isinstance(start_event, StartEvent) else None
    model = options.model if options is not None else None
    ended = state.completed or state.error is not None
    attrs = [_attr("gen_ai.operation.name", "chat")]
    if options is not None:
        attrs.extend(_request_attributes(options))
        if options.prompt is not None:
            attrs.append(_attr("gen_ai.input.messages", _messages("user", options.prompt)))
    finish = "error" if state.error is not None else "stop" if state.completed else None
    if finish is not None:
        attrs.append(_attr("gen_ai.output.messages",
                           _messages("assistant", state.content, finish)))
        attrs.append(_attr("gen_ai.response.finish_reasons", [finish]))
    attrs.append(_attr("gen_ai.usage.output_tokens", state.token_count))
    attrs.append(_attr("l0.stream_id", sid))
    if options is not None:
        attrs.append(_attr("l0.options", dumps(encode_options(options)).decode("utf-8")))
    span: JSONDict = {
        "traceId": trace_id(sid),
        "spanId": span_id(sid, 0),
        "name": f"chat {model}" if model else "chat",
        "kind": SPAN_KIND_CLIENT,
        "startTimeUnixNano": time_unix_nano(tl.ts(starts[0] if starts else 0)),
        "endTimeUnixNano": time_unix_nano(state.end_ts if ended else tl.ts(tl.last_seq)),
    }
    if state.error is not None:
        last_error = tl.envelope(tl.landmarks(RecordedEventType.ERROR)[-1]).event
        assert isinstance(last_error, ErrorEvent)
        attrs.append(_attr("error.type", last_error.failure_type))
        span["status"] = {"message": state.error.message, "code": STATUS_CODE_ERROR}
    span["attributes"] = attrs
    return span


def _attempt_failure(
    tl: Timeline, attempts: Sequence[Attempt], i: int, error_seqs: Sequence[int]
) -> tuple[str, str] | None:
    """Why attempt ``attempts[i]`` failed, as (``error.type``, status message), or None."""
    a = attempts[i]
    if a.outcome == "errored":
        # the attempt's last ERROR (an errored attempt holds at least one)
        ev = tl.envelope(error_seqs[bisect_right(error_seqs, a.end_seq) - 1]).event
        failure = ev.failure_type if isinstance(ev, ErrorEvent) else "error"
        return failure, a.reason or failure
    if a.outcome == "retried":
        reason = a.reason if a.reason is not None else "continuation"
        return reason, reason
    if a.outcome == "fell_back":
        to = attempts[i + 1].fallback_index if i + 1 < len(attempts) else a.fallback_index
        return "fallback", f"fell back to #{to}"
    return None


def _attempt_head(
    tl: Timeline, attempts: Sequence[Attempt], i: int, error_seqs: Sequence[int]
) -> JSONDict:
    """An attempt's span without its events."""
    a, sid = attempts[i], tl.stream_id
    span: JSONDict = {
        "traceId": trace_id(sid),
        "spanId": span_id(sid, a.number),
        "parentSpanId": span_id(sid, 0),
        "name": f"attempt {a.number}",
        "kind": SPAN_KIND_INTERNAL,
        "startTimeUnixNano": time_unix_nano(tl.ts(a.start_seq)),
        "endTimeUnixNano": time_unix_nano(tl.ts(a.end_seq)),
    }
    failure = _attempt_failure(tl, attempts, i, error_seqs)
    if failure is not None:
        span["attributes"] = [_attr("error.type", failure[0])]
        span["status"] = {"message": failure[1], "code": STATUS_CODE_ERROR}
    return span


def _span_event(env: EventEnvelope) -> JSONDict:
    ev = env.event
    if type(ev) is TokenEvent:
        return {"timeUnixNano": time_unix_nano(ev.ts), "name": "l0.token", "attributes": [
            {"key": "l0.token.value", "value": {"stringValue": ev.value}},
            {"key": "l0.token.index", "value": {"intValue": str(ev.index)}},
        ]}
    return {"timeUnixNano": time_unix_nano(ev.ts), "name": EVENT_NAMES[ev.type],
            "attributes": [{"key": "l0.event", "value": {"stringValue": _wire(ev)}}]}


def _event_chunks(tl: Timeline, start: int, stop: int) -> Iterator[str]:
    """The span events of seqs ``start <= seq < stop``, comma-separated, a batch at a time."""
    first = True
    for lo in range(start, stop, _BATCH):
        body = _json([_span_event(env) for env in tl.events(lo, min(stop, lo + _BATCH))])[1:-1]
        if body:
            yield body if first else "," + body
            first = False


# ───────────────────────────── lines ─────────────────────────────


def otlp_chunks(tl: Timeline) -> Iterator[str]:
    """One line of OTLP JSON (``TracesData``, newline included) for ``tl``, in pieces.

    Raises :class:`~l0core.errors.StreamNotFoundError` for an empty timeline.
    """
    if len(tl) == 0:
        raise StreamNotFoundError(tl.stream_id)
    state = tl.final_state()
    attempts = tl.attempts()
    error_seqs = tl.landmarks(RecordedEventType.ERROR)
    resource = {"attributes": [_attr("service.name", SERVICE_NAME)]}
    yield (f'{{"resourceSpans":[{{"resource":{_json(resource)},'
           f'"scopeSpans":[{{"scope":{_json({"name": SCOPE_NAME})},"spans":[')
    yield _json(_inference_span(tl, state))
    for i, a in enumerate(attempts):
        yield "," + _json(_attempt_head(tl, attempts, i, error_seqs))[:-1] + ',"events":['
        yield from _event_chunks(tl, a.start_seq, a.end_seq + 1)
        yield "]}"
    yield "]}]}]}\n"


def otlp_line(tl: Timeline) -> str:
    """:func:`otlp_chunks` joined: the whole line (for streams that fit in memory twice)."""
    return "".join(otlp_chunks(tl))


class _BatchSource(Protocol):
    """What :func:`write_otlp` needs from a store (every ``BaseEventStore`` has it)."""

    def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]: ...


async def write_otlp(store: _BatchSource, stream_ids: Iterable[str], out: IO[str]) -> int:
    """Write one OTLP JSON line per stream of ``stream_ids`` to ``out``; the number written.

    One stream's timeline is held at a time. A stream without events raises
    :class:`~l0core.errors.StreamNotFoundError` (lines already written stay).
    """
    count = 0
    for stream_id in stream_ids:
        tl = await load_timeline(store, stream_id)
        for chunk in otlp_chunks(tl):
            out.write(chunk)
        count += 1
    return count
