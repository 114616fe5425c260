"""Reading what the OTLP exporter wrote with the official ``opentelemetry-proto`` classes."""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, TracesData

from l0core import create_event_store
from l0core.timeline import Timeline, load_timeline
from tests.paths import DEMO_STREAMS


def demo_stream_ids() -> list[str]:
    """The demo streams this checkout has (a clean clone lacks 09-long-stream)."""
    return sorted(p.name.removesuffix(".jsonl") for p in DEMO_STREAMS.glob("*.jsonl")
                  if not p.name.endswith(".snapshots.jsonl"))


async def demo_timeline(stream_id: str) -> Timeline:
    store = await create_event_store(str(DEMO_STREAMS), read_only=True)
    try:
        return await load_timeline(store, stream_id)
    finally:
        await store.close()


def _ids_to_base64(obj: Any) -> Any:
    """The OTLP/JSON hex ids rewritten as protobuf's JSON mapping spells bytes (base64)."""
    if isinstance(obj, dict):
        return {k: base64.b64encode(bytes.fromhex(v)).decode()
                if k in ("traceId", "spanId", "parentSpanId") else _ids_to_base64(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_ids_to_base64(v) for v in obj]
    return obj


def parse_line(line: str) -> TracesData:
    """``line`` parsed by ``json_format.Parse`` as it is, and again with its ids as bytes.

    Protobuf's own JSON mapping reads bytes as base64, OTLP/JSON writes trace and span
    ids as hex; the second parse gives the real 16- and 8-byte ids.
    """
    json_format.Parse(line, TracesData())
    return json_format.Parse(json.dumps(_ids_to_base64(json.loads(line))), TracesData())


def value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind) if kind is not None else None


def attrs(kvs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in kvs:
        assert isinstance(kv, KeyValue)
        assert kv.key not in out, f"attribute {kv.key} twice"
        out[kv.key] = value(kv.value)
    return out


def spans(data: TracesData) -> list[Span]:
    assert len(data.resource_spans) == 1
    assert len(data.resource_spans[0].scope_spans) == 1
    return list(data.resource_spans[0].scope_spans[0].spans)
