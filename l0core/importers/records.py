"""Containers: SSE, JSON Lines or one JSON document, turned into provider objects.

Whatever the container, a format decoder sees the same :class:`Record`s: one
provider object with the line it started on and the capture time a JSON line's
wrapper gave it, a ``[DONE]``, a request line, or the cut-off tail of a truncated
file (docs/format.md, section 10, "Containers").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from l0core.importers.errors import ImportFormatError
from l0core.importers.source import Source

OBJECT = "object"
DONE = "done"
REQUEST = "request"
CUT = "cut"

SSE = "sse"
JSONL = "jsonl"
JSON = "json"

_WRAPPED = ("data", "event", "chunk")
_MARKERS = ("type", "object", "choices", "resourceSpans", "error", "id")


class Record:
    """One thing a capture holds. ``obj`` is the provider's object (``{}`` for DONE/CUT)."""

    __slots__ = ("kind", "line", "obj", "sse_event", "ts")

    def __init__(self, kind: str, line: int, obj: dict[str, Any], ts: float | None = None,
                 sse_event: str | None = None) -> None:
        self.kind = kind
        self.line = line
        self.obj = obj
        self.ts = ts
        self.sse_event = sse_event

    def __repr__(self) -> str:
        return f"Record({self.kind}, line {self.line}, {self.obj!r})"


def container_of(head: bytes, complete: bool = False) -> str:
    """``sse``, ``jsonl`` or ``json`` from the first non-blank line of ``head``.

    ``complete``: ``head`` is the whole file (its last line is not cut by the head's end).
    """
    lines = head.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if line.startswith((b"data:", b"event:", b":", b"id:", b"retry:")):
            return SSE
        if line.startswith(b"["):
            return JSON
        if line.startswith(b"{"):
            if i == len(lines) - 1 and not complete:
                return JSONL  # one line longer than the head: JSON Lines of big objects
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                return JSON  # a document spread over lines (pretty-printed)
        return JSONL
    return JSONL


def short(data: bytes | str, limit: int = 60) -> str:
    """A line's start for a message (control characters shown as escapes)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = text.strip()
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text)


def parse_time(value: object) -> float | None:
    """A capture time in Unix ms: a number of ms, or an ISO 8601 string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        ms = moment.timestamp() * 1000
        return int(ms) if ms.is_integer() else ms
    return None


def unwrap(obj: dict[str, Any], line: int) -> Record:
    """A JSON line's object as a record: a request line, a timed wrapper, or the object."""
    if any(key in obj for key in _MARKERS):
        return Record(OBJECT, line, obj)
    request = obj.get("request")
    ts = parse_time(obj["ts"]) if "ts" in obj else None
    if ts is None and isinstance(obj.get("t"), int | float) and not isinstance(obj["t"], bool):
        ts = obj["t"] * 1000
    if isinstance(request, dict):
        return Record(REQUEST, line, request, ts)
    for key in _WRAPPED:
        inner = obj.get(key)
        if isinstance(inner, dict):
            return Record(OBJECT, line, inner, ts)
        if inner == "[DONE]":
            return Record(DONE, line, {}, ts)
    return Record(OBJECT, line, obj)


def _loads(source: Source, line: int, data: bytes, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if source.tail_partial and line == source.last_line:
            return CUT
        raise ImportFormatError(source.name, f"invalid JSON {what}({exc.args[0]})",
                                line) from None


def jsonl_records(source: Source) -> Iterator[Record]:
    """JSON Lines: one object per line, blank lines skipped."""
    for number, line in source.lines():
        if not line or line.isspace():
            continue
        obj = _loads(source, number, line, "")
        if obj is CUT:
            yield Record(CUT, number, {})
            return
        if not isinstance(obj, dict):
            raise ImportFormatError(source.name, f"expected a JSON object, got {short(line)}",
                                    number)
        yield unwrap(obj, number)


def sse_records(source: Source) -> Iterator[Record]:
    """Server-sent events: ``event:`` and ``data:`` fields, a blank line ends an event.

    Every event's data is one JSON object or ``[DONE]``. Several ``data:`` lines of
    one event are joined with newlines as SSE says; when that is not JSON (a capture
    that left out the blank lines), each is read on its own.
    """
    event: str | None = None
    data: list[bytes] = []
    start = event_line = last_data = 0
    event_raw, event_name = b"", ""  # the last event line, decoded once
    for number, line in source.lines():
        if not line:
            if data:
                yield from _dispatch(source, start, last_data, event, data)
                data = []
            event = None
            continue
        if line.startswith(b"data:"):
            value = line[6:] if line[5:6] == b" " else line[5:]
            if not data:
                start = event_line if event is not None else number
            data.append(value)
            last_data = number
        elif line.startswith(b"event:"):
            if data:  # no blank line before the next event
                yield from _dispatch(source, start, last_data, event, data)
                data = []
            if line != event_raw:
                event_raw, event_name = line, line[6:].strip().decode("utf-8", "replace")
            event = event_name
            event_line = number
        elif line.startswith(b":") or line.startswith((b"id:", b"retry:")) or line == b"id":
            continue
        else:
            raise ImportFormatError(source.name, f"not an SSE line: {short(line)}", number)
    if data:
        yield from _dispatch(source, start, last_data, event, data)


def _dispatch(source: Source, line: int, last: int, event: str | None,
              data: list[bytes]) -> Iterator[Record]:
    """One SSE event as a record (``line``: where it starts, ``last``: its last data line)."""
    joined = data[0] if len(data) == 1 else b"\n".join(data)
    if joined.strip() == b"[DONE]":
        yield Record(DONE, line, {}, sse_event=event)
        return
    try:
        obj = orjson.loads(joined)
    except orjson.JSONDecodeError as exc:
        if len(data) > 1:
            first = last - len(data) + 1
            for offset, part in enumerate(data):
                yield from _dispatch(source, first + offset, first + offset, event, [part])
            return
        if source.tail_partial and last == source.last_line:
            yield Record(CUT, line, {}, sse_event=event)
            return
        raise ImportFormatError(source.name, f"invalid JSON in SSE data ({exc.args[0]})",
                                line) from None
    if not isinstance(obj, dict):
        raise ImportFormatError(source.name, f"SSE data is not a JSON object: {short(joined)}",
                                line)
    yield Record(OBJECT, line, obj, sse_event=event)


def document_records(source: Source) -> Iterator[Record]:
    """One JSON document: an array of objects (or a single object), read whole."""
    data = source.read_all()
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        pos = getattr(exc, "pos", 0) or 0
        line = data.count(b"\n", 0, pos) + 1
        raise ImportFormatError(source.name, f"invalid JSON ({exc.args[0]})", line) from None
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        if not isinstance(item, dict):
            raise ImportFormatError(source.name, "expected an array of JSON objects", 1)
        yield unwrap(item, 1)


def records(source: Source, container: str) -> Iterator[Record]:
    if container == SSE:
        return sse_records(source)
    if container == JSON:
        return document_records(source)
    return jsonl_records(source)
