"""Imported streams, and splitting a provider capture into them lazily.

A capture may hold several streams back to back. A decoder for one format reads
the records of one stream; the first record that belongs to the next stream is
put back and opens it. Each stream's events are produced only as they are asked
for, and a stream is read to its end (even if its consumer stopped early) before
the next one starts, so one pass over the file is enough. The streams of a
response's tool calls come right after it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from l0core.events import RecordedEvent, SerializedOptions
from l0core.importers.builder import Clock, StreamBuilder, ToolCall, synthetic_clock, tool_events
from l0core.importers.errors import ImportFormatError
from l0core.importers.ids import StreamNamer, sanitize
from l0core.importers.options import IMPORT_KEY, build_options
from l0core.importers.records import CUT, DONE, REQUEST, Record


@dataclass(eq=False)
class ImportedStream:
    """One stream read from a file. ``events`` is lazy and can be iterated once.

    ``outcome`` (``completed``, ``error``, ``truncated``, ``running``),
    ``finish_reason`` and ``usage`` are known once the events have been read.
    """

    stream_id: str
    events: Iterator[RecordedEvent]
    source_format: str
    container: str
    timestamps_missing: bool
    line: int
    response_id: str | None = None
    outcome: str = "running"
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    skipped: int = 0
    """Records or deltas of kinds we do not read (skipped, as docs/format.md says)."""
    parent_id: str | None = None
    """For a tool call's stream: the stream of the response that made the call."""
    tool_index: int | None = None


@dataclass(frozen=True, slots=True)
class FileContext:
    """What every stream of one file shares."""

    name: str
    stem: str
    container: str
    mtime_ms: int | None

    @property
    def basename(self) -> str:
        return self.name.replace("\\", "/").rsplit("/", 1)[-1]


class StreamDecoder(ABC):
    """One stream of one provider format, from its first record to the next stream's."""

    format: ClassVar[str]
    provider: ClassVar[str]
    api: ClassVar[str]
    terminal: ClassVar[str]
    """The event that ends a stream of this format (named when a capture is cut short)."""

    def __init__(self, ctx: FileContext, first: Record, request: Record | None) -> None:
        self.ctx = ctx
        self.first_line = first.line
        self.last_line = first.line
        self.raw_id: str | None = None
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.skipped = 0
        self.model: str | None = None
        self.request = request.obj if request is not None else None
        self.first_ts = request.ts if request is not None and request.ts is not None else first.ts
        self.builder = StreamBuilder(Clock(0, 0, ""))

    def begin(self, created_ms: float | None) -> None:
        """Set the clock from the first record (call before the first event)."""
        self.builder.clock = synthetic_clock(self.first_ts, created_ms, self.ctx.mtime_ms)

    def options(self, model: object, *, prompt: str | None = None,
                params: dict[str, Any] | None = None, **info: Any) -> SerializedOptions:
        """This stream's START options (``info`` joins ``metadata["l0.import"]``)."""
        self.model = model if isinstance(model, str) and model else None
        return build_options(model=model, prompt=prompt, params=params,
                             metadata={"provider": self.provider, "api": self.api},
                             info=self.info(**info))

    def tool_options(self, call: ToolCall, parent: str) -> SerializedOptions:
        """The START options of a tool call's stream (the SDK recorders' metadata)."""
        return build_options(model=self.model, metadata={
            "parentStreamId": parent, "toolIndex": call.number, "toolCallId": call.call_id,
            "toolName": call.name, "provider": self.provider, "api": self.api,
        }, info=self.info())

    def info(self, **more: Any) -> dict[str, Any]:
        """``metadata["l0.import"]`` of this stream's START."""
        clock = self.builder.clock
        out: dict[str, Any] = {
            "format": self.format, "container": self.ctx.container,
            "source": self.ctx.basename, "line": self.first_line,
            "timestamps": "missing" if clock.missing else "source",
        }
        if clock.missing:
            out["syntheticTs"] = clock.synthetic
        out.update(more)
        return out

    @classmethod
    def can_open(cls, rec: Record) -> bool:
        """Whether ``rec`` can be a stream's first record (a ping cannot)."""
        return True

    @abstractmethod
    def starts_new(self, rec: Record) -> bool:
        """Whether ``rec`` is the first record of the next stream."""

    @abstractmethod
    def feed(self, rec: Record) -> None:
        """Take one record of this stream."""

    def refuse(self, rec: Record, what: str) -> ImportFormatError:
        return ImportFormatError(self.ctx.name, f"not {what}: {_describe(rec.obj)}", rec.line)

    def cut(self, rec: Record) -> None:
        self.builder.truncated(None, f"the capture ends inside line {rec.line} (cut off "
                               f"before {self.terminal})", _where(rec.line))

    def finish(self, next_line: int | None) -> None:
        """The stream's records are over: a stream without its end is truncated."""
        if self.builder.ended:
            return
        if next_line is None:
            message = f"the capture ends before the stream finished (no {self.terminal})"
        else:
            message = (f"the next stream begins at line {next_line} before this one "
                       f"finished (no {self.terminal})")
        self.builder.truncated(None, message, _where(self.last_line))


def _where(line: int) -> dict[str, Any]:
    return {IMPORT_KEY: {"line": line}}


def _describe(obj: dict[str, Any]) -> str:
    if isinstance(obj.get("type"), str):
        return f"type {obj['type']!r}"
    keys = list(obj)[:5]
    return "keys " + ", ".join(repr(k) for k in keys) if keys else "an empty object"


class _Reader:
    """Records with one record of look-back (the one that opened the next stream).

    A stream that has ended still reads on, to find where the next one begins; a
    bad record found then belongs to what follows, so ``next(defer=True)`` keeps
    its error for the next read instead of failing the finished stream.
    """

    def __init__(self, records: Iterable[Record]) -> None:
        self._it = iter(records)
        self._back: Record | None = None
        self._error: ImportFormatError | None = None

    def next(self, *, defer: bool = False) -> Record | None:
        if self._back is not None:
            rec, self._back = self._back, None
            return rec
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        try:
            return next(self._it, None)
        except ImportFormatError as exc:
            if not defer:
                raise
            self._error = exc
            return None

    def push(self, rec: Record) -> None:
        self._back = rec


def provider_streams(records: Iterable[Record], decoder: type[StreamDecoder],
                     ctx: FileContext, namer: StreamNamer) -> Iterator[ImportedStream]:
    """The streams of a provider capture, one after the other, tool calls after their response."""
    reader = _Reader(records)
    request: Record | None = None
    while (rec := reader.next()) is not None:
        if rec.kind == REQUEST:
            request = rec
            continue
        if rec.kind in (DONE, CUT) or not decoder.can_open(rec):
            continue
        dec = decoder(ctx, rec, request)
        request = None
        stream = ImportedStream(
            stream_id=namer.response(sanitize(dec.raw_id, ctx.stem)),
            events=iter(()), source_format=decoder.format, container=ctx.container,
            timestamps_missing=dec.builder.clock.missing, line=rec.line,
            response_id=dec.raw_id)
        stream.events = _events(reader, dec, stream)
        yield stream
        for _ in stream.events:
            pass
        for call in dec.builder.tools.values():
            events = tool_events(call, dec.tool_options(call, stream.stream_id), dec.builder.end)
            yield ImportedStream(
                stream_id=namer.tool(stream.stream_id, call.number), events=iter(events),
                source_format=decoder.format, container=ctx.container,
                timestamps_missing=stream.timestamps_missing, line=stream.line,
                response_id=stream.response_id, outcome=stream.outcome,
                parent_id=stream.stream_id, tool_index=call.number)


def _events(reader: _Reader, dec: StreamDecoder,
            stream: ImportedStream) -> Iterator[RecordedEvent]:
    builder = dec.builder
    yield from builder.take()
    next_line: int | None = None
    while (rec := reader.next(defer=builder.ended)) is not None:
        if rec.kind == REQUEST or (rec.kind != CUT and dec.starts_new(rec)):
            reader.push(rec)
            next_line = rec.line
            break
        if rec.kind == CUT:
            dec.cut(rec)
        else:
            dec.last_line = rec.line
            dec.feed(rec)
        if builder.out:
            yield from builder.take()
    dec.finish(next_line)
    yield from builder.take()
    stream.outcome = builder.outcome
    stream.finish_reason = dec.finish_reason
    stream.usage = dec.usage
    stream.skipped = dec.skipped
