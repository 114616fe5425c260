"""Recording helpers: turn a live LLM stream into a recorded L0 stream in one line.

- :func:`record_iterator`: wrap an async iterator of text chunks or OpenAI-style
  chunks; the caller sees the same chunks and exceptions.
- :func:`record_stream`: ``async with record_stream(store, "id") as rec: rec.token(...)``.
- :func:`record_l0_run`: record an ``ai2070-l0`` ``l0.run(...)`` call (extra ``[l0]``),
  or :class:`L0RunRecorder` for its callbacks when you call ``l0.run`` yourself.
- :func:`record_openai`, :func:`record_anthropic`: wrap an SDK stream (sync or
  async, ``create(stream=True)`` or ``.stream()``); the caller reads the SDK's own
  objects (docs/format.md "Recording the SDKs").

Appends are batched by a background task, so recording costs the stream a few
microseconds per token.
"""

from l0core.record.anthropic_sdk import record_anthropic
from l0core.record.classify import classify_failure
from l0core.record.iterator import RecordedIterator, extract_text, record_iterator
from l0core.record.l0_run import L0RunRecorder, RecordedL0Run, record_l0_run
from l0core.record.openai_sdk import record_openai
from l0core.record.sdk_stream import AsyncRecordedStream, RecordedStream
from l0core.record.session import (
    RecordingError,
    RecordingSession,
    StreamRecording,
    build_options,
    record_stream,
)
from l0core.record.stream_events import StreamEvents, classify_sdk_failure

__all__ = [
    "AsyncRecordedStream",
    "L0RunRecorder",
    "RecordedIterator",
    "RecordedL0Run",
    "RecordedStream",
    "RecordingError",
    "RecordingSession",
    "StreamEvents",
    "StreamRecording",
    "build_options",
    "classify_failure",
    "classify_sdk_failure",
    "extract_text",
    "record_anthropic",
    "record_iterator",
    "record_l0_run",
    "record_openai",
    "record_stream",
]
