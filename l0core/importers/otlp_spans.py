"""OTLP JSON traces read into spans (docs/format.md, section 9).

The file exporter writes JSON Lines of ``TracesData``; the spans of one trace may
be on any line, so every span is read before any stream is built. Attribute
values (``AnyValue``) become plain Python values; ``l0.token`` events, the bulk of
an exported stream, are kept compact.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from l0core.importers.errors import ImportFormatError
from l0core.importers.records import JSON, short
from l0core.importers.source import Source
from l0core.importers.values import as_dict, as_str

STATUS_ERROR = 2
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
TOKEN_EVENT = "l0.token"


def any_value(value: object) -> Any:
    """An OTLP ``AnyValue`` as a plain value (``None`` when empty)."""
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in value:
        try:
            return float(value["doubleValue"])
        except (TypeError, ValueError):
            return None
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        array = value["arrayValue"] if isinstance(value["arrayValue"], dict) else {}
        return [any_value(v) for v in array.get("values") or []]
    if "kvlistValue" in value:
        kvlist = value["kvlistValue"] if isinstance(value["kvlistValue"], dict) else {}
        return attributes(kvlist.get("values"))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(items: object) -> dict[str, Any]:
    """A list of ``{"key", "value"}`` as a dict."""
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = any_value(item.get("value"))
    return out


def hex_id(value: object) -> str:
    """A trace or span id as lowercase hex (OTLP/JSON writes hex, protobuf JSON base64)."""
    if not isinstance(value, str) or not value:
        return ""
    if len(value) in (16, 32):
        try:
            bytes.fromhex(value)
            return value.lower()
        except ValueError:
            pass
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return value


def nanos(value: object) -> int:
    """A ``timeUnixNano`` (decimal string or number) as an int; 0 when absent."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str | float):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


def ns_to_ms(ns: int) -> int | float:
    """Nanoseconds as the ``ts`` they came from: an int when whole, else the nearest float."""
    whole, rest = divmod(ns, 1_000_000)
    return whole if rest == 0 else ns / 1_000_000


@dataclass(slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attrs: dict[str, Any]
    value: str | None = None
    """``l0.token`` only: the token's text (``attrs`` is then empty)."""
    index: int | None = None
    seq: int | None = None


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start_ns: int
    end_ns: int
    attrs: dict[str, Any]
    events: list[SpanEvent]
    status_code: int
    status_message: str
    line: int
    service: str | None
    children: list[Span] = field(default_factory=list)


def _token_event(time_ns: int, items: object) -> SpanEvent:
    event = SpanEvent(TOKEN_EVENT, time_ns, {})
    if isinstance(items, list):
        for item in items:
            if not isinstance(item, dict):
                continue
            key, value = item.get("key"), any_value(item.get("value"))
            if key == "l0.token.value" and isinstance(value, str):
                event.value = value
            elif key == "l0.token.index" and isinstance(value, int):
                event.index = value
            elif key == "l0.seq" and isinstance(value, int):
                event.seq = value
            elif isinstance(key, str):
                event.attrs[key] = value
    return event


def _events(items: object) -> list[SpanEvent]:
    out: list[SpanEvent] = []
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, dict):
            continue
        name = as_str(item.get("name")) or ""
        time_ns = nanos(item.get("timeUnixNano"))
        if name == TOKEN_EVENT:
            out.append(_token_event(time_ns, item.get("attributes")))
            continue
        attrs = attributes(item.get("attributes"))
        seq = attrs.get("l0.seq")
        out.append(SpanEvent(name, time_ns, attrs, seq=seq if isinstance(seq, int) else None))
    return out


def _status(value: object) -> tuple[int, str]:
    if not isinstance(value, dict):
        return 0, ""
    code = value.get("code", 0)
    if isinstance(code, str):
        code = _STATUS_NAMES.get(code, nanos(code))
    message = value.get("message")
    return (code if isinstance(code, int) else 0), (message if isinstance(message, str) else "")


def spans_of(doc: dict[str, Any], line: int) -> Iterator[Span]:
    """The spans of one ``TracesData`` object."""
    for rs in doc.get("resourceSpans") or []:
        if not isinstance(rs, dict):
            continue
        service = attributes(as_dict(rs.get("resource")).get("attributes")).get("service.name")
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
            if not isinstance(ss, dict):
                continue
            for raw in ss.get("spans") or []:
                if not isinstance(raw, dict):
                    continue
                code, message = _status(raw.get("status"))
                yield Span(
                    trace_id=hex_id(raw.get("traceId")), span_id=hex_id(raw.get("spanId")),
                    parent_id=hex_id(raw.get("parentSpanId")),
                    name=as_str(raw.get("name")) or "",
                    start_ns=nanos(raw.get("startTimeUnixNano")),
                    end_ns=nanos(raw.get("endTimeUnixNano")),
                    attrs=attributes(raw.get("attributes")), events=_events(raw.get("events")),
                    status_code=code, status_message=message, line=line,
                    service=service if isinstance(service, str) else None)


def read_spans(source: Source, container: str) -> list[Span]:
    """Every span of the file, in file order; refuses a cut-off last line (nothing imported)."""
    spans: list[Span] = []
    if container == JSON:
        data = source.read_all()
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            pos = getattr(exc, "pos", 0) or 0
            raise ImportFormatError(source.name, f"invalid JSON ({exc.args[0]})",
                                    data.count(b"\n", 0, pos) + 1) from None
        for item in doc if isinstance(doc, list) else [doc]:
            _check(source, item, 1)
            spans.extend(spans_of(item, 1))
        return spans
    for number, line in source.lines():
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if source.tail_partial and number == source.last_line:
                raise ImportFormatError(
                    source.name, "the file ends inside this line (cut off?); nothing imported:"
                    " remove that line to import the rest", number) from None
            raise ImportFormatError(source.name, f"invalid JSON ({exc.args[0]})",
                                    number) from None
        _check(source, doc, number)
        spans.extend(spans_of(doc, number))
    return spans


def _check(source: Source, doc: object, line: int) -> None:
    if not isinstance(doc, dict) or "resourceSpans" not in doc:
        what = (f"keys {', '.join(repr(k) for k in list(doc)[:5])}" if isinstance(doc, dict)
                else short(orjson.dumps(doc)))
        raise ImportFormatError(source.name, f"not OTLP TracesData ({what})", line)
