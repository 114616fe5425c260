"""The wrapper an SDK stream is recorded through: same items, same attributes.

:class:`RecordedStream` (sync) and :class:`AsyncRecordedStream` stand in for
what an SDK call returned: a stream (``Stream``, ``MessageStream``, ...), a
stream manager (``client.messages.stream(...)``) or, async only, the un-awaited
call. Iterating yields exactly the SDK's own objects; any other attribute is the
SDK object's (``response``, ``current_completion_snapshot``, ...), and the
``get_final_*``/``until_done`` helpers read the rest of the stream through the
wrapper first, so it is recorded too. ``recording`` is the
:class:`~l0core.record.stream_events.StreamEvents` (stream id, text so far,
status).

How the iteration ends decides the last event: exhausted after the final event
is COMPLETE; an exception is an ERROR classified from it; ``close()``, leaving
``with`` or ``break`` out of ``for`` before the end is an "abort" ERROR (docs/
format.md "Recording the SDKs"). A sync wrapper's events go to the store
through :class:`~l0core.record.stream_group.ThreadedSessionGroup`; an async
one's through a :class:`~l0core.record.stream_group.SessionGroup` on the
caller's loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from l0core.events import SerializedOptions, validate_stream_id
from l0core.record.session import RecordingError
from l0core.record.stream_events import Observe, StreamEvents
from l0core.record.stream_group import SessionGroup, ThreadedSessionGroup
from l0core.recorder import generate_stream_id
from l0core.stores.base import BaseEventStore, Clock

T = TypeVar("T")

log = logging.getLogger("l0core.record")

TextOf = Callable[[Any], "str | None"]
"""The text delta an item carries (for a ``text_stream``), or ``None``."""

DRAIN_FIRST = frozenset({
    "until_done", "get_final_completion", "get_final_message", "get_final_text",
    "get_final_response",
})
"""SDK helpers that read the stream to its end: the wrapper reads it for them."""

_OWN = frozenset({
    "recording", "_group", "_text_of", "_source", "_target", "_manager", "_entered",
    "_items", "_done", "_text_stream", "_awaitable", "_recorded",
})


class _Base:
    def __init__(self, source: Any, events: StreamEvents, text_of: TextOf | None) -> None:
        self.recording = events
        self._text_of = text_of
        self._source = source
        self._target: Any = None
        self._manager: Any = None
        self._entered = False
        self._done = False

    def __repr__(self) -> str:
        shown = self._target if self._target is not None else self._source
        return f"<recorded {shown!r} -> {self.recording.stream_id}>"

    def _failed(self) -> bool:
        return self.recording.status == "error"


class RecordedStream(_Base, Generic[T]):
    """A synchronous SDK stream (or stream manager), recorded as it is read."""

    def __init__(
        self,
        source: Any,
        events: StreamEvents,
        group: ThreadedSessionGroup,
        *,
        text_of: TextOf | None = None,
    ) -> None:
        super().__init__(source, events, text_of)
        self._group = group
        self._items: Iterator[T] | None = None
        self._text_stream: Iterator[str] | None = None
        if hasattr(source, "__iter__") or hasattr(source, "__next__"):
            self._target = source
        elif hasattr(source, "__enter__"):
            self._manager = source
        else:
            self._done = True
            raise TypeError(f"not an SDK stream or stream manager: {type(source).__name__}")

    # ── opening and ending ──

    def _open(self) -> Any:
        if self._target is None:
            self.recording.begin()
            try:
                self._target = self._manager.__enter__()
            except BaseException as exc:
                self._done = True
                self.recording.raised(exc)
                self._finish()
                raise
            self._entered = True
        return self._target

    def _release(self, exc: BaseException | None = None) -> None:
        if self._entered:
            self._entered = False
            self._manager.__exit__(type(exc) if exc else None, exc,
                                   exc.__traceback__ if exc else None)

    def _finish(self) -> None:
        try:
            self._group.close()
        except RecordingError:
            if not self._failed():
                raise
            log.warning("recording of %s is incomplete", self.recording.stream_id)

    def _stop(self, cause: BaseException | None) -> None:
        """The caller stops reading: record it, close the stream or leave its manager."""
        self._done = True
        try:
            self.recording.abandoned(cause)
            if self._entered:
                self._release(cause)
            elif self._target is not None:
                closer = getattr(self._target, "close", None)
                if callable(closer):
                    closer()
        finally:
            self._finish()

    def close(self) -> None:
        """Stop reading: close the SDK stream; before its end, record an "abort" ERROR."""
        if not self._done:
            self._stop(None)

    def __del__(self) -> None:
        # Dropped unfinished, neither closed nor left through ``with``: end the
        # recording ("abort") without blocking whatever thread collects us.
        if getattr(self, "_done", True):
            return
        self._done = True
        try:
            self.recording.abandoned()
            self._group.close(wait=False)
        except Exception:
            pass

    def __enter__(self) -> Self:
        self._open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._done:
            self._release(exc)
        else:
            self._stop(exc)

    # ── iteration ──

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        items = self._items
        if items is None:
            target = self._open()
            try:
                items = self._items = iter(target)
            except TypeError as exc:
                self._done = True
                self.recording.raised(exc)
                self._finish()
                raise TypeError(f"{type(target).__name__} is not a stream "
                                "(was stream=True passed?)") from exc
        try:
            item = next(items)
        except StopIteration:
            self._done = True
            self.recording.ended()
            try:
                self._release()
            finally:
                self._finish()
            raise
        except BaseException as exc:
            self._done = True
            self.recording.raised(exc)
            try:
                self._release()
            finally:
                self._finish()
            raise
        self.recording.observe(item)
        return item

    def __iter__(self) -> Iterator[T]:
        while True:
            try:
                item = self.__next__()
            except StopIteration:
                return
            try:
                yield item
            except GeneratorExit:  # the caller broke out of its loop
                self.close()
                raise

    @property
    def text_stream(self) -> Iterator[str]:
        """The text deltas, read through the wrapper (Anthropic's ``MessageStream``)."""
        if self._text_of is None:
            raise AttributeError("text_stream")
        if self._text_stream is None:
            self._text_stream = self._texts(self._text_of)
        return self._text_stream

    def _texts(self, text_of: TextOf) -> Iterator[str]:
        for item in self:
            text = text_of(item)
            if text is not None:
                yield text

    def __getattr__(self, name: str) -> Any:
        if name in _OWN or name.startswith("__"):
            raise AttributeError(name)
        target = self._open()
        value = getattr(target, name)
        if name not in DRAIN_FIRST or not callable(value):
            return value

        def drained(*args: Any, **kwargs: Any) -> Any:
            for _ in self:
                pass
            result = value(*args, **kwargs)
            return self if result is target else result

        return drained


class AsyncRecordedStream(_Base, Generic[T]):
    """An asynchronous SDK stream, stream manager or un-awaited call, recorded as read."""

    def __init__(
        self,
        source: Any,
        events: StreamEvents,
        group: SessionGroup,
        *,
        text_of: TextOf | None = None,
    ) -> None:
        super().__init__(source, events, text_of)
        self._group = group
        self._items: AsyncIterator[T] | None = None
        self._text_stream: AsyncIterator[str] | None = None
        self._awaitable: Any = None
        self._recorded = asyncio.Event()
        if hasattr(source, "__aiter__") or hasattr(source, "__anext__"):
            self._target = source
        elif inspect.isawaitable(source):
            self._awaitable = source
        elif hasattr(source, "__aenter__"):
            self._manager = source
        else:
            self._done = True
            raise TypeError(f"not an async SDK stream, manager or call: {type(source).__name__}")

    # ── opening and ending ──

    async def _open(self) -> Any:
        if self._target is None:
            self.recording.begin()
            try:
                if self._awaitable is not None:
                    awaitable, self._awaitable = self._awaitable, None
                    self._target = await awaitable
                else:
                    self._target = await self._manager.__aenter__()
                    self._entered = True
            except BaseException as exc:
                self._done = True
                self.recording.raised(exc)
                await self._finish()
                raise
        return self._target

    def _opened(self) -> Any:
        if self._target is None:
            raise AttributeError(
                "the stream is not open yet: use 'async with' or read from it first")
        return self._target

    async def _release(self, exc: BaseException | None = None) -> None:
        if self._entered:
            self._entered = False
            await self._manager.__aexit__(type(exc) if exc else None, exc,
                                          exc.__traceback__ if exc else None)

    async def _finish(self) -> None:
        try:
            await asyncio.shield(self._group.close())
        except RecordingError:
            if not self._failed():
                raise
            log.warning("recording of %s is incomplete", self.recording.stream_id)
        finally:
            self._recorded.set()

    async def wait_recorded(self) -> None:
        """Wait until the recording has ended and is stored.

        After ``break`` out of ``async for`` without ``async with``, the loop
        closes the abandoned iterator a moment later; this waits for that.
        """
        await self._recorded.wait()

    async def _close_target(self) -> None:
        if self._target is not None and not self._entered:
            closer = getattr(self._target, "close", None)
            if callable(closer):
                result = closer()
                if inspect.isawaitable(result):
                    await result
        elif self._awaitable is not None:  # never awaited: do not leave a warning behind
            closer = getattr(self._awaitable, "close", None)
            self._awaitable = None
            if callable(closer):
                closer()

    async def _stop(self, cause: BaseException | None) -> None:
        """The caller stops reading: record it, close the stream or leave its manager."""
        self._done = True
        try:
            self.recording.abandoned(cause)
            await self._close_target()
            await self._release(cause)
        finally:
            await self._finish()

    async def close(self) -> None:
        """Stop reading: close the SDK stream; before its end, record an "abort" ERROR."""
        if not self._done:
            await self._stop(None)

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._done:
            await self._release(exc)
        else:
            await self._stop(exc)

    # ── iteration ──

    async def __anext__(self) -> T:
        if self._done:
            raise StopAsyncIteration
        items = self._items
        if items is None:
            target = await self._open()
            try:
                items = self._items = aiter(target)
            except TypeError as exc:
                self._done = True
                self.recording.raised(exc)
                await self._finish()
                raise TypeError(f"{type(target).__name__} is not a stream "
                                "(was stream=True passed?)") from exc
        try:
            item = await anext(items)
        except StopAsyncIteration:
            self._done = True
            self.recording.ended()
            try:
                await self._release()
            finally:
                await self._finish()
            raise
        except BaseException as exc:
            self._done = True
            self.recording.raised(exc)
            try:
                await self._release()
            finally:
                await self._finish()
            raise
        self.recording.observe(item)
        return item

    async def __aiter__(self) -> AsyncIterator[T]:
        while True:
            try:
                item = await self.__anext__()
            except StopAsyncIteration:
                return
            try:
                yield item
            except GeneratorExit:  # the caller broke out of its loop
                await self.close()
                raise

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The text deltas, read through the wrapper (Anthropic's ``AsyncMessageStream``)."""
        if self._text_of is None:
            raise AttributeError("text_stream")
        if self._text_stream is None:
            self._text_stream = self._texts(self._text_of)
        return self._text_stream

    async def _texts(self, text_of: TextOf) -> AsyncIterator[str]:
        async for item in self:
            text = text_of(item)
            if text is not None:
                yield text

    def __getattr__(self, name: str) -> Any:
        if name in _OWN or name.startswith("__"):
            raise AttributeError(name)
        if name in DRAIN_FIRST:
            return self._drain_then(name)
        return getattr(self._opened(), name)

    def _drain_then(self, name: str) -> Callable[..., Any]:
        async def drained(*args: Any, **kwargs: Any) -> Any:
            target = await self._open()
            async for _ in self:
                pass
            result = getattr(target, name)(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return self if result is target else result

        return drained


def is_async_source(source: Any) -> bool:
    """An async stream, an un-awaited call or an async-only stream manager."""
    return (hasattr(source, "__aiter__") or hasattr(source, "__anext__")
            or inspect.isawaitable(source)
            or (hasattr(source, "__aenter__") and not hasattr(source, "__enter__")))


def record_sdk_stream(
    source: Any,
    store: BaseEventStore,
    *,
    observe: Observe,
    provider: str,
    api: str,
    options: SerializedOptions,
    stream_id: str | None,
    clock: Clock | None,
    checkpoint_every: int | None,
    strict: bool,
    loop: asyncio.AbstractEventLoop | None,
    classify: Callable[[BaseException], str],
    text_of: TextOf | None = None,
) -> RecordedStream[Any] | AsyncRecordedStream[Any]:
    """The wrapper for ``source``, sync or async as ``source`` is (see the module doc)."""
    stream_id = validate_stream_id(stream_id) if stream_id else generate_stream_id()
    stamp: Clock = clock or store.clock
    group = SessionGroup(store, checkpoint_every=checkpoint_every, clock=stamp, strict=strict)
    if is_async_source(source):
        events = StreamEvents(group, stream_id, options=options, observe=observe,
                              provider=provider, api=api, clock=stamp, classify=classify)
        return AsyncRecordedStream(source, events, group, text_of=text_of)
    threaded = ThreadedSessionGroup(group, loop=loop)
    events = StreamEvents(threaded, stream_id, options=options, observe=observe,
                          provider=provider, api=api, clock=stamp, classify=classify)
    return RecordedStream(source, events, threaded, text_of=text_of)
