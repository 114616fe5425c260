"""The recording sessions of one SDK stream: its text, and one per tool call.

A provider stream can carry several outputs at once (the text and each tool
call's arguments, see docs/format.md "Recording the SDKs"), so a recorded SDK
stream writes a small group of streams. :class:`SessionGroup` owns their
:class:`~l0core.record.session.RecordingSession` objects and must be driven from
the event loop's thread. :class:`ThreadedSessionGroup` is the same group for
synchronous code: each call is one in-memory append, and a task on the loop
applies the queue in batches, so a sync SDK stream never waits for the store
until it ends.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from concurrent.futures import Future
from typing import Any

from l0core.events import SerializedError, SerializedOptions
from l0core.record.iterator import BACKPRESSURE_LIMIT
from l0core.record.loop_thread import recording_loop
from l0core.record.session import RecordingError, RecordingSession
from l0core.stores.base import BaseEventStore, Clock

log = logging.getLogger("l0core.record")

SYNC_APPLY_INTERVAL = 0.02
"""Seconds between two batches a sync recording hands to the loop."""


class SessionGroup:
    """Sessions keyed by stream id, opened by :meth:`start`; loop thread only."""

    def __init__(
        self,
        store: BaseEventStore,
        *,
        checkpoint_every: int | None,
        clock: Clock,
        strict: bool,
    ) -> None:
        self.store = store
        self.checkpoint_every = checkpoint_every
        self.clock = clock
        self.strict = strict
        self.sessions: dict[str, RecordingSession] = {}

    @property
    def pending(self) -> int:
        return sum(s.pending for s in self.sessions.values())

    def start(self, stream_id: str, options: SerializedOptions, ts: float) -> None:
        session = RecordingSession(self.store, stream_id, checkpoint_every=self.checkpoint_every,
                                   clock=self.clock, strict=self.strict)
        self.sessions[stream_id] = session
        session.start(options, ts=ts)

    def token(self, stream_id: str, value: str, ts: float) -> None:
        self.sessions[stream_id].token(value, ts=ts)

    def complete(self, stream_id: str, ts: float) -> None:
        self.sessions[stream_id].complete(ts=ts)

    def error(self, stream_id: str, error: SerializedError, failure_type: str, ts: float) -> None:
        self.sessions[stream_id].error(error, failure_type, ts=ts)

    async def flush(self) -> None:
        await asyncio.gather(*(s.flush() for s in self.sessions.values()))

    async def close(self) -> None:
        """Store everything; with ``strict``, raise :class:`RecordingError` if a store failed."""
        sessions = list(self.sessions.values())
        results = await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        for result in results:
            if isinstance(result, RecordingError):
                raise result
            if isinstance(result, BaseException):
                raise result


Op = tuple[str, tuple[Any, ...]]


class ThreadedSessionGroup:
    """A :class:`SessionGroup` fed from any thread, applied on ``loop`` in batches.

    ``loop`` is the event loop the store may be used from; without one, l0core's
    own recording thread (:func:`~l0core.record.loop_thread.recording_loop`).
    """

    def __init__(
        self,
        group: SessionGroup,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        interval: float = SYNC_APPLY_INTERVAL,
    ) -> None:
        self.group = group
        self.loop = loop
        self.interval = interval
        self._ops: collections.deque[Op] = collections.deque()
        self._pump: Future[None] | None = None
        self._wake: asyncio.Event | None = None
        self._closing = False

    # ── called from the stream's thread: one append each ──

    def start(self, stream_id: str, options: SerializedOptions, ts: float) -> None:
        self._push(("start", (stream_id, options, ts)))

    def token(self, stream_id: str, value: str, ts: float) -> None:
        self._ops.append(("token", (stream_id, value, ts)))
        if len(self._ops) > BACKPRESSURE_LIMIT:
            self._wait(self._flush())

    def complete(self, stream_id: str, ts: float) -> None:
        self._push(("complete", (stream_id, ts)))

    def error(self, stream_id: str, error: SerializedError, failure_type: str, ts: float) -> None:
        self._push(("error", (stream_id, error, failure_type, ts)))

    def close(self, *, wait: bool = True) -> None:
        """Block until everything queued is stored (``strict``: raise if it was not).

        ``wait=False`` only tells the loop to finish (a finaliser must not block).
        """
        self._closing = True
        if self._pump is None:
            return
        loop = self._pump_loop()
        loop.call_soon_threadsafe(self._set_wake)
        if not wait:
            return
        if _running_loop() is loop:  # cannot block the loop we would wait for
            log.warning("sync recording closed on its store's loop thread; not waiting for it")
            return
        self._pump.result()

    # ── the loop side ──

    def _push(self, op: Op) -> None:
        self._ops.append(op)
        if self._pump is None:
            self._pump = asyncio.run_coroutine_threadsafe(self._run(), self._pump_loop())

    def _pump_loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            self.loop = recording_loop()
        return self.loop

    def _set_wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _apply(self) -> None:
        ops = self._ops
        group = self.group
        while ops:
            name, args = ops.popleft()
            try:
                getattr(group, name)(*args)
            except Exception:  # a recording bug must not stop the other streams
                log.exception("recording %s: could not apply %s", args[0], name)

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self._apply()
            if self._closing:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
        self._apply()
        await self.group.close()

    async def _flush(self) -> None:
        self._apply()
        await self.group.flush()

    def _wait(self, coro: Any) -> None:
        loop = self._pump_loop()
        if _running_loop() is loop:
            coro.close()
            return
        if self._pump is None:
            self._pump = asyncio.run_coroutine_threadsafe(self._run(), loop)
        asyncio.run_coroutine_threadsafe(coro, loop).result()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
