"""Record any async iterator of text chunks (or OpenAI-style chunks) as it is consumed.

``record_iterator(source, store, ...)`` returns an async iterator that yields exactly
what ``source`` yields, and raises exactly what it raises, while recording START,
one TOKEN per chunk with text, a CHECKPOINT every N tokens, then COMPLETE (content
and token count) when the source ends, or ERROR (the exception serialized and
classified, ``recoveryStrategy`` "halt", ``policy`` "default") when it raises.
Closing it early (``break`` out of ``async with``, ``aclose()``) or cancelling the
consuming task records an ERROR with ``failureType`` "abort".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import Any, Self, TypeVar

from l0core.closing import AsyncCloseable
from l0core.events import SerializedOptions
from l0core.record.classify import classify_failure
from l0core.record.session import (
    DEFAULT_CHECKPOINT_EVERY,
    RecordingError,
    RecordingSession,
    build_options,
)
from l0core.stores.base import BaseEventStore, Clock

T = TypeVar("T")

log = logging.getLogger("l0core.record")

BACKPRESSURE_LIMIT = 50_000
"""Queued-but-unstored events beyond which the iterator waits for the store."""


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def extract_text(chunk: Any) -> str | None:
    """The text of a chunk: a ``str`` itself, or ``choices[0].delta.content``.

    Objects and dicts in OpenAI's streaming shape are both understood (and
    ``choices[0].text`` of the legacy completions API). Chunks without text (role
    announcements, ``finish_reason`` or usage-only chunks) give ``None``.
    """
    if isinstance(chunk, str):
        return chunk
    choices = _get(chunk, "choices")
    if not choices or not isinstance(choices, list | tuple):
        return None
    first = choices[0]
    delta = _get(first, "delta")
    text = _get(delta, "content") if delta is not None else _get(first, "text")
    return text if isinstance(text, str) else None


class RecordedIterator(AsyncIterator[T], AsyncCloseable):
    """An async iterator over ``source`` that records what passes through it.

    ``stream_id``, ``content`` and ``token_count`` are readable at any time;
    ``session`` is the underlying :class:`~l0core.record.session.RecordingSession`.
    Use ``async with`` (or ``await it.aclose()``) when you may stop early, so the
    recording is finished and flushed deterministically.
    """

    def __init__(
        self,
        source: AsyncIterable[T],
        store: BaseEventStore,
        stream_id: str | None = None,
        *,
        options: SerializedOptions | Mapping[str, Any] | None = None,
        prompt: str | None = None,
        model: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
        clock: Clock | None = None,
        extract: Callable[[Any], str | None] = extract_text,
        classify: Callable[[BaseException], str] = classify_failure,
        strict: bool = False,
        snapshot_every: int | None = None,
    ) -> None:
        self._source = source
        self._iter: AsyncIterator[T] = source.__aiter__()
        self.session = RecordingSession(store, stream_id, checkpoint_every=checkpoint_every,
                                        clock=clock, strict=strict,
                                        snapshot_every=snapshot_every)
        self._options = build_options(options, prompt=prompt, model=model, metadata=metadata)
        self._start_ts = self.session.clock()  # the request began when we were handed it
        self._extract = extract
        self._classify = classify
        self._done = False

    @property
    def stream_id(self) -> str:
        return self.session.stream_id

    @property
    def content(self) -> str:
        return self.session.content

    @property
    def token_count(self) -> int:
        return self.session.token_count

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        if self._done:
            raise StopAsyncIteration
        session = self.session
        if not session.started:
            session.start(self._options, ts=self._start_ts)
        try:
            chunk = await self._iter.__anext__()
        except StopAsyncIteration:
            self._done = True
            session.complete()
            await self._finish(failed=False)
            raise
        except BaseException as exc:
            self._done = True
            session.error(exc, self._classify(exc))
            await self._finish(failed=True)
            raise
        text = self._extract(chunk)
        if text:
            session.token(text)
            if session.pending > BACKPRESSURE_LIMIT:
                await session.flush()
        return chunk

    async def _finish(self, *, failed: bool) -> None:
        try:
            await asyncio.shield(self.session.close())
        except RecordingError:
            if not failed:
                raise
            log.warning("recording of %s is incomplete", self.stream_id)

    async def close(self) -> None:
        """Stop early: close the source and record an "abort" ERROR if it had not ended."""
        if self._done:
            await self.session.close()
            return
        self._done = True
        try:
            closer = getattr(self._iter, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            if not self.session.started:
                self.session.start(self._options, ts=self._start_ts)
            self.session.error(
                asyncio.CancelledError("the consumer stopped reading the stream"), "abort"
            )
            await self._finish(failed=True)


def record_iterator(
    source: AsyncIterable[T],
    store: BaseEventStore,
    stream_id: str | None = None,
    *,
    options: SerializedOptions | Mapping[str, Any] | None = None,
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
    clock: Clock | None = None,
    extract: Callable[[Any], str | None] = extract_text,
    classify: Callable[[BaseException], str] = classify_failure,
    strict: bool = False,
    snapshot_every: int | None = None,
) -> RecordedIterator[T]:
    """Wrap ``source`` so consuming it records the stream to ``store``.

    ``async for chunk in record_iterator(llm_stream, store, "chat-42", model="gpt-4o"):``
    yields the same chunks; ``options``/``prompt``/``model``/``metadata`` go into START;
    ``snapshot_every=N`` saves a snapshot after every N-th stored event.
    """
    return RecordedIterator(
        source, store, stream_id, options=options, prompt=prompt, model=model,
        metadata=metadata, checkpoint_every=checkpoint_every, clock=clock, extract=extract,
        classify=classify, strict=strict, snapshot_every=snapshot_every,
    )
