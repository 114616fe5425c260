"""OTLP traces into streams: one per inference span (docs/format.md, section 9).

A trace our exporter wrote carries every recorded event as an ``l0.*`` span event,
and is read back exactly. Any other trace is read through the GenAI and
OpenInference attributes of its inference spans (:mod:`.otlp_genai`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from l0core.codec import decode_event, decode_options
from l0core.errors import EventValidationError
from l0core.events import RecordedEvent, StartEvent, TokenEvent
from l0core.importers.builder import Clock, StreamBuilder, tool_events
from l0core.importers.detect import OTLP
from l0core.importers.errors import ImportFormatError
from l0core.importers.ids import StreamNamer, sanitize
from l0core.importers.options import build_options
from l0core.importers.otlp_genai import (
    TEXT,
    TOOL_CALL,
    error_of,
    failure_type,
    finish_reasons_of,
    is_inference,
    model_of,
    output_of,
    params_of,
    prompt_of,
    usage_of,
)
from l0core.importers.otlp_spans import TOKEN_EVENT, Span, SpanEvent, ns_to_ms, read_spans
from l0core.importers.source import Source
from l0core.importers.stream import FileContext, ImportedStream

_L0_KINDS = frozenset({
    "l0.start", "l0.token", "l0.checkpoint", "l0.guardrail", "l0.drift", "l0.retry",
    "l0.fallback", "l0.continuation", "l0.complete", "l0.error",
})


def _roots(spans: list[Span]) -> list[Span]:
    """The inference spans not inside another one, in file order; children linked."""
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    for span in spans:
        parent = by_id.get((span.trace_id, span.parent_id)) if span.parent_id else None
        if parent is not None and parent is not span:
            parent.children.append(span)
    inference = {id(s) for s in spans if is_inference(s)}
    roots = []
    for span in spans:
        if id(span) not in inference:
            continue
        seen = {id(span)}
        parent = by_id.get((span.trace_id, span.parent_id)) if span.parent_id else None
        inside = False
        while parent is not None and id(parent) not in seen:
            if id(parent) in inference:
                inside = True
                break
            seen.add(id(parent))
            parent = by_id.get((parent.trace_id, parent.parent_id)) if parent.parent_id else None
        if not inside:
            roots.append(span)
    return roots


def _subtree(root: Span) -> list[Span]:
    """``root`` and its descendants, in file order (line, then position)."""
    out, stack, seen = [], [root], set()
    while stack:
        span = stack.pop()
        if id(span) in seen:
            continue
        seen.add(id(span))
        out.append(span)
        stack.extend(reversed(span.children))
    order = {id(s): i for i, s in enumerate(out)}
    return sorted(out, key=lambda s: (s is not root, s.line, order[id(s)]))


def _l0_events(tree: list[Span]) -> list[SpanEvent]:
    events = [e for span in tree for e in span.events if e.name in _L0_KINDS]
    if events and all(e.seq is not None for e in events):
        events.sort(key=lambda e: e.seq if e.seq is not None else 0)
    return events


def stream_id_of(root: Span) -> str:
    for key in ("l0.stream_id", "gen_ai.response.id"):
        value = root.attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return f"{root.trace_id}-{root.span_id}"


def otlp_streams(source: Source, ctx: FileContext,
                 namer: StreamNamer) -> Iterator[ImportedStream]:
    """The streams of an OTLP JSON file (every span is read first)."""
    spans = read_spans(source, ctx.container)
    for root in _roots(spans):
        tree = _subtree(root)
        l0 = _l0_events(tree)
        stream_id = namer.response(sanitize(stream_id_of(root), ctx.stem))
        stream = ImportedStream(
            stream_id=stream_id, events=iter(()), source_format=OTLP, container=ctx.container,
            timestamps_missing=False, line=root.line,
            response_id=root.attrs.get("gen_ai.response.id")
            if isinstance(root.attrs.get("gen_ai.response.id"), str) else None)
        if l0:
            stream.events = _exact(ctx, root, l0, stream)
            yield stream
            continue
        stream.finish_reason = _first_reason(root)
        stream.usage = usage_of(root.attrs)
        call = _GenAICall(ctx, root, stream)
        stream.events = call.events()
        yield stream
        for _ in stream.events:
            pass
        yield from call.tool_streams(namer)


def _first_reason(root: Span) -> str | None:
    reasons = finish_reasons_of(root)
    return next((r for r in reasons or [] if isinstance(r, str)), None)


def _exact(ctx: FileContext, root: Span, events: list[SpanEvent],
           stream: ImportedStream) -> Iterator[RecordedEvent]:
    """An exported stream, event by event, exactly as recorded."""
    if events[0].name != "l0.start":
        raw = root.attrs.get("l0.options")
        options = orjson.loads(raw) if isinstance(raw, str) else {}
        yield StartEvent(ts=ns_to_ms(root.start_ns), options=decode_options(options))
    outcome = "running"
    for event in events:
        if event.name == TOKEN_EVENT:
            if event.value is None or event.index is None:
                raise ImportFormatError(ctx.name, "an l0.token event without l0.token.value "
                                        "and l0.token.index", root.line)
            yield TokenEvent(ts=ns_to_ms(event.time_ns), value=event.value, index=event.index)
            continue
        wire = event.attrs.get("l0.event")
        try:
            decoded = decode_event(orjson.loads(wire) if isinstance(wire, str) else wire)
        except (orjson.JSONDecodeError, EventValidationError) as exc:
            raise ImportFormatError(ctx.name, f"{event.name} event: bad l0.event ({exc})",
                                    root.line) from None
        if decoded.type == "COMPLETE":
            outcome = "completed"
        elif decoded.type == "ERROR":
            outcome = "error"
        yield decoded
    stream.outcome = outcome


class _GenAICall:
    """A model call from another program's trace, read through GenAI/OpenInference."""

    def __init__(self, ctx: FileContext, root: Span, stream: ImportedStream) -> None:
        self.ctx = ctx
        self.root = root
        self.stream = stream
        start_ms = ns_to_ms(root.start_ns)
        self.builder = StreamBuilder(Clock(start_ms, start_ms, ""))
        attrs = root.attrs
        self.model = model_of(attrs)
        provider = attrs.get("gen_ai.provider.name", attrs.get("gen_ai.system"))
        self.meta = {"provider": provider if isinstance(provider, str) else None,
                     "api": attrs.get("gen_ai.operation.name")
                     if isinstance(attrs.get("gen_ai.operation.name"), str) else None}

    def info(self) -> dict[str, Any]:
        root = self.root
        ttfc = root.attrs.get("gen_ai.response.time_to_first_chunk")
        return {
            "format": OTLP, "container": self.ctx.container, "source": self.ctx.basename,
            "line": root.line, "timestamps": "source", "traceId": root.trace_id,
            "spanId": root.span_id, "responseId": self.stream.response_id,
            "finishReasons": finish_reasons_of(root), "usage": usage_of(root.attrs),
            "service": root.service,
            "timeToFirstChunk": ttfc if isinstance(ttfc, int | float) else None,
        }

    def events(self) -> Iterator[RecordedEvent]:
        root, builder = self.root, self.builder
        attrs = root.attrs
        start_ms = ns_to_ms(root.start_ns)
        end_ms = ns_to_ms(root.end_ns) if root.end_ns else start_ms
        builder.start(build_options(model=self.model, prompt=prompt_of(root),
                                    params=params_of(attrs), metadata=self.meta,
                                    info=self.info()), start_ms)
        yield from builder.take()
        parts, timed = output_of(root)
        at = end_ms
        ttfc = attrs.get("gen_ai.response.time_to_first_chunk")
        if isinstance(ttfc, int | float) and not isinstance(ttfc, bool):
            first = root.start_ns + round(ttfc * 1e9)
            at = ns_to_ms(first) if first <= root.end_ns or not root.end_ns else end_ms
        for number, part in enumerate(parts):
            ts = ns_to_ms(part.time_ns) if timed and part.time_ns else at
            if part.kind == TEXT:
                builder.text(part.value, ts)
            elif part.kind == TOOL_CALL:
                attrs_ = part.attrs or {}
                builder.tool_start(number, ts, attrs_.get("id"), attrs_.get("name"))
                builder.tool_args(number, part.value, ts)
            else:
                self.stream.skipped += 1
            yield from builder.take()
        error = error_of(root)
        if error is None:
            builder.complete(end_ms)
        else:
            builder.error(error, failure_type(error.name), end_ms)
        self.stream.outcome = builder.outcome
        yield from builder.take()

    def tool_streams(self, namer: StreamNamer) -> Iterator[ImportedStream]:
        parent = self.stream
        for call in self.builder.tools.values():
            options = build_options(model=self.model, metadata={
                **self.meta, "parentStreamId": parent.stream_id, "toolIndex": call.number,
                "toolCallId": call.call_id, "toolName": call.name}, info=self.info())
            yield ImportedStream(
                stream_id=namer.tool(parent.stream_id, call.number),
                events=iter(tool_events(call, options, self.builder.end)),
                source_format=OTLP, container=parent.container, timestamps_missing=False,
                line=parent.line, response_id=parent.response_id, outcome=parent.outcome,
                parent_id=parent.stream_id, tool_index=call.number)
