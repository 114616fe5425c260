"""``iter_imported``: a capture in, its streams out, one at a time (docs/format.md, section 10)."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import BinaryIO

from l0core.importers.anthropic import AnthropicDecoder
from l0core.importers.detect import (
    ANTHROPIC,
    OPENAI_CHAT,
    OPENAI_RESPONSES,
    OTLP,
    check_format,
    check_text,
    detect_format,
)
from l0core.importers.ids import StreamNamer
from l0core.importers.openai_chat import ChatDecoder
from l0core.importers.openai_responses import ResponsesDecoder
from l0core.importers.otlp import otlp_streams
from l0core.importers.records import container_of, records
from l0core.importers.source import Progress, Source
from l0core.importers.stream import FileContext, ImportedStream, StreamDecoder, provider_streams

DECODERS: dict[str, type[StreamDecoder]] = {
    OPENAI_CHAT: ChatDecoder,
    OPENAI_RESPONSES: ResponsesDecoder,
    ANTHROPIC: AnthropicDecoder,
}


def iter_imported(
    path_or_binary_file: str | os.PathLike[str] | BinaryIO,
    *,
    format: str | None = None,
    progress: Progress | None = None,
    stream_id: str | None = None,
) -> Generator[ImportedStream, None, None]:
    """The streams of a capture, in file order, each read lazily.

    ``format`` (``openai-chat``, ``openai-responses``, ``anthropic``, ``otlp``) is
    detected from the first lines when not given; ``progress`` gets (bytes read,
    total bytes). ``stream_id`` names the first response ``ID`` and the next ones
    ``ID-2``, ``ID-3``, ...; without it ids come from the source. Consume each
    stream's ``events`` before asking for the next stream (a stream left unread is
    read past). Raises
    :class:`~l0core.importers.ImportFormatError` for input it cannot read.
    """
    if format is not None:
        check_format(format)
    source = Source(path_or_binary_file, progress)
    try:
        head = source.head
        if format is None:
            fmt = detect_format(head, name=source.name, complete=source.head_is_all)
        else:
            check_text(head, name=source.name, complete=source.head_is_all)
            fmt = format
        ctx = FileContext(source.name, source.stem,
                          container_of(head, complete=source.head_is_all), source.mtime_ms)
        namer = StreamNamer(stream_id)
        if fmt == OTLP:
            yield from otlp_streams(source, ctx, namer)
        else:
            yield from provider_streams(records(source, ctx.container), DECODERS[fmt], ctx,
                                        namer)
    finally:
        source.close()
