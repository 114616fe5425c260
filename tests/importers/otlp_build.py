"""OTLP JSON traces for the importer tests, as instrumented programs export them.

Spans in the OpenTelemetry file exporter's shape (``TracesData`` per line, OTLP/JSON:
hex ids, int64 as strings, ``AnyValue`` attributes). :func:`check_otlp` parses a line
with the official ``opentelemetry-proto`` classes, so a fixture cannot drift from
the real format.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

Obj = dict[str, Any]

T0 = 1_733_000_000_000_000_000
"""A span start, in ns."""
MS = 1_000_000


def value(v: Any) -> Obj:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [value(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": value(x)} for k, x in v.items()]}}
    raise TypeError(type(v))


def attributes(attrs: Obj) -> list[Obj]:
    return [{"key": k, "value": value(v)} for k, v in attrs.items()]


def event(name: str, time_ns: int, attrs: Obj | None = None) -> Obj:
    return {"timeUnixNano": str(time_ns), "name": name, "attributes": attributes(attrs or {})}


def span(trace: str, span_id: str, name: str, *, start: int = T0, end: int = T0 + 900 * MS,
         attrs: Obj | None = None, events: Sequence[Obj] = (), parent: str | None = None,
         error: str | None = None) -> Obj:
    out: Obj = {"traceId": trace, "spanId": span_id, "name": name, "kind": 3,
                "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
                "attributes": attributes(attrs or {}), "events": list(events)}
    if parent is not None:
        out["parentSpanId"] = parent
    if error is not None:
        out["status"] = {"code": 2, "message": error}
    return out


def traces(spans: Sequence[Obj], *, service: str = "checkout-api") -> str:
    """One ``TracesData`` line (newline included)."""
    data = {"resourceSpans": [{
        "resource": {"attributes": attributes({"service.name": service})},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2",
                                  "version": "2.1b0"},
                        "spans": list(spans)}]}]}
    return json.dumps(data, separators=(",", ":")) + "\n"


def _ids_as_base64(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: base64.b64encode(bytes.fromhex(v)).decode()
                if k in ("traceId", "spanId", "parentSpanId") else _ids_as_base64(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_ids_as_base64(v) for v in obj]
    return obj


def check_otlp(line: str) -> TracesData:
    """``line`` parsed by protobuf (its JSON mapping reads ids as base64, OTLP writes hex)."""
    parsed = json_format.Parse(json.dumps(_ids_as_base64(json.loads(line))), TracesData())
    assert parsed.resource_spans, "no resourceSpans"
    return parsed


def genai_messages(role: str, text: str, finish: str | None = None) -> str:
    message: Obj = {"role": role, "parts": [{"type": "text", "content": text}]}
    if finish is not None:
        message["finish_reason"] = finish
    return json.dumps([message])
