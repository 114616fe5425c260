"""``StreamSummary``: what the browser shows and users filter on, kept per stream.

The summary is advanced from the *wire* events a store is about to write, in the same
transaction (or script, or index record) as the events, so it can never disagree with
them. It is exactly what :func:`l0core.metadata.get_stream_metadata` folds from the
events; ``tests/core/test_catalog_summary.py`` checks that with random streams.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import msgspec

from l0core.events import JSONDict

SummaryStatus = Literal["running", "completed", "error"]
ReadStatus = Literal["ok", "damaged", "unreadable", "other_stream"]

HEAD_CHARS = 200
"""Longest prompt and error heads kept: enough to recognise, small enough to index."""


def _head(text: object) -> str:
    return text[:HEAD_CHARS] if isinstance(text, str) else ""


class StreamSummary(msgspec.Struct):
    """One stream's summary (docs/format.md, "The catalog").

    A ``msgspec.Struct`` rather than a dataclass: a listing builds one per stream, and
    the Struct's constructor and copy run in C (a 10,000-stream listing spends a third
    of its time building dataclasses otherwise). The SQL stores build it positionally
    from a row in field order, which is ten times cheaper than by keyword: the order of
    the fields is part of the stores' contract (``catalog_sql.SUMMARY_COLUMNS``)."""

    stream_id: str
    model: str = ""
    prompt_head: str = ""
    start_ts: float = 0.0
    end_ts: float = 0.0
    last_ts: float = 0.0
    duration_ms: float = 0.0
    status: SummaryStatus = "running"
    event_count: int = 0
    token_count: int = 0
    retry_attempts: int = 0
    network_retry_count: int = 0
    violation_count: int = 0
    drift_detected: bool = False
    fallback_index: int = 0
    failure_type: str = ""
    error_head: str = ""
    last_seq: int = -1
    options: JSONDict = msgspec.field(default_factory=dict)
    """The START's wire options (empty when the first event is not a START)."""
    read_status: ReadStatus = "ok"
    """Only the scan path sets another value: ``damaged`` (seqs not 0..n-1, see
    :class:`~l0core.stores.verify.SeqDamage`), ``unreadable`` (the counts are empty),
    ``other_stream`` (the events name another stream id). Stores never store it."""
    read_note: str = ""
    """Why, in one line, when ``read_status`` is not ``ok``."""

    def copy(self) -> StreamSummary:
        """An independent copy (``options`` is not shared); the Redis and NATS stores
        make one per append."""
        new = copy.copy(self)
        new.options = dict(self.options)
        return new

    @property
    def retries(self) -> int:
        """Counted and network retries together: what ``retries>0`` filters on."""
        return self.retry_attempts + self.network_retry_count


SUMMARY_FIELDS: tuple[str, ...] = StreamSummary.__struct_fields__
"""Every attribute of a summary, in declaration order."""


def advance_summary(summary: StreamSummary, wire_events: Iterable[Mapping[str, Any]]) -> None:
    """Fold validated wire events (the next seqs of the stream) into ``summary`` in place.

    Mirrors :func:`l0core.fold.apply_event` field by field, reading the wire JSON
    directly so a store pays no decode on its append path.
    """
    s = summary
    for ev in wire_events:
        kind = ev["type"]
        ts = float(ev["ts"])
        if kind == "TOKEN":
            s.token_count = int(ev["index"]) + 1
        elif kind == "START":
            s.start_ts = ts
            if s.event_count == 0:
                opts = ev.get("options") or {}
                s.options = dict(opts)
                s.model = opts.get("model") or ""
                s.prompt_head = _head(opts.get("prompt"))
        elif kind == "GUARDRAIL":
            s.violation_count += len(ev["result"].get("violations") or ())
        elif kind == "DRIFT":
            if ev["result"].get("detected"):
                s.drift_detected = True
        elif kind == "RETRY":
            if ev["countsTowardLimit"]:
                s.retry_attempts += 1
            else:
                s.network_retry_count += 1
        elif kind == "FALLBACK":
            s.fallback_index = int(ev["to"])
        elif kind == "COMPLETE":
            s.token_count = int(ev["tokenCount"])
            s.end_ts = ts
            if s.status != "error":
                s.status = "completed"
        elif kind == "ERROR":
            s.end_ts = ts
            s.status = "error"
            err = ev.get("error") or {}
            s.failure_type = str(ev.get("failureType") or "")
            s.error_head = _head(err.get("message"))
        s.last_ts = ts
        s.event_count += 1
        s.last_seq += 1
    if s.event_count:
        end = s.end_ts or s.last_ts
        s.duration_ms = max(0.0, end - s.start_ts) if s.start_ts else 0.0


def summarize_wire(stream_id: str, wire_events: Iterable[Mapping[str, Any]]) -> StreamSummary:
    """A fresh summary of a whole stream."""
    summary = StreamSummary(stream_id=stream_id)
    advance_summary(summary, wire_events)
    return summary


def final_content(wire_events: Iterable[Mapping[str, Any]], start: str = "") -> str:
    """The content the fold ends with: what the catalog's text search looks in.

    Stores index it when a stream ends (COMPLETE carries it; for ERROR the tokens are
    folded once) and fold a running stream's events when a text query asks. ``start``
    is the content before these events, to fold a long stream batch by batch.
    """
    parts: list[str] = [start] if start else []
    for ev in wire_events:
        kind = ev["type"]
        if kind == "TOKEN":
            parts.append(ev["value"])
        elif kind == "CONTINUATION":
            parts = [ev["checkpoint"]]
        elif kind == "COMPLETE":
            parts = [ev["content"]]
    return "".join(parts)


_CAMEL = {name: "".join(w if i == 0 else w.title() for i, w in enumerate(name.split("_")))
          for name in SUMMARY_FIELDS}
_SNAKE = {camel: name for name, camel in _CAMEL.items()}


def encode_summary(summary: StreamSummary) -> JSONDict:
    """The summary as a camelCase JSON object (Redis hashes, the file index, NATS KV)."""
    data = {_CAMEL[k]: v for k, v in msgspec.structs.asdict(summary).items()}
    data["options"] = dict(summary.options)
    if summary.read_status == "ok":
        del data["readStatus"], data["readNote"]
    return data


def decode_summary(data: Mapping[str, Any]) -> StreamSummary:
    """Inverse of :func:`encode_summary`; unknown keys are ignored (newer writers)."""
    values = {_SNAKE[k]: v for k, v in data.items() if k in _SNAKE}
    return StreamSummary(**values)
