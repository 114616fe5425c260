"""Replay: recorded envelopes back out, in order, with optional timing and callbacks.

Pure stream rehydration: no network, no recomputation. Every path folds with
:func:`l0core.fold.apply_event`; ``replay_to_state`` starts from the nearest
snapshot at or before the target seq when the store has one it can trust.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from l0core.errors import StreamNotFoundError
from l0core.events import (
    EventEnvelope,
    GuardrailEvent,
    GuardrailViolation,
    RetryEvent,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)
from l0core.fold import ReplayedState, apply_event, state_from_snapshot
from l0core.stores.base import BaseEventStore, supports_snapshots

Sleep = Callable[[float], Awaitable[Any]]


def _check_range(from_seq: int, to_seq: int | None) -> None:
    if from_seq < 0:
        raise ValueError(f"from_seq must be >= 0, got {from_seq}")
    if to_seq is not None and to_seq < from_seq:
        raise ValueError(f"to_seq ({to_seq}) is before from_seq ({from_seq})")


REPLAY_BATCH = 20_000
"""Events read per call when folding up to a seq."""


class EventReplayer:
    """Replays streams of one store. ``sleep`` is injectable so tests need not wait."""

    def __init__(self, event_store: BaseEventStore, *, sleep: Sleep | None = None) -> None:
        self.event_store = event_store
        self._sleep: Sleep = sleep or asyncio.sleep

    async def replay(
        self,
        stream_id: str,
        *,
        speed: float = 0,
        from_seq: int = 0,
        to_seq: int | None = None,
        max_gap_ms: float | None = None,
    ) -> AsyncIterator[EventEnvelope]:
        """Yield envelopes ``from_seq..to_seq`` (inclusive).

        ``speed`` 0 is instant, 1 the recorded timing, 10 ten times faster;
        ``max_gap_ms`` caps any single wait (in recorded milliseconds).
        """
        _check_range(from_seq, to_seq)
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        last_ts: float | None = None
        async for batch in self.event_store.iter_batches(stream_id, from_seq=from_seq):
            for env in batch:
                if to_seq is not None and env.seq > to_seq:
                    return
                if speed > 0 and last_ts is not None:
                    gap = env.event.ts - last_ts
                    if max_gap_ms is not None:
                        gap = min(gap, max_gap_ms)
                    if gap > 0:
                        await self._sleep(gap / speed / 1000.0)
                last_ts = env.event.ts
                yield env

    async def replay_to_state(self, stream_id: str, *, to_seq: int | None = None) -> ReplayedState:
        """The state after events ``0..to_seq`` (the whole stream by default)."""
        store = self.event_store
        last = await store.get_last_seq(stream_id)
        if last < 0:
            raise StreamNotFoundError(stream_id, "it has no events")
        target = last if to_seq is None else min(to_seq, last)
        if target < 0:
            return ReplayedState()
        state = ReplayedState()
        start = 0
        if supports_snapshots(store):
            snap = await store.get_snapshot_before(stream_id, target)  # type: ignore[attr-defined]
            if snap is not None and snap.complete_state:
                state = state_from_snapshot(snap)
                start = snap.seq + 1
        # Read only seqs start..target, a bounded batch at a time: a snapshot near the
        # target means only the events after it are read.
        while start <= target:
            end = min(target, start + REPLAY_BATCH - 1)
            batch = await store.read_events(stream_id, from_seq=start, to_seq=end)
            if not batch:
                break
            for env in batch:
                apply_event(state, env.event)
            start = batch[-1].seq + 1
        return state

    async def replay_tokens(
        self, stream_id: str, *, speed: float = 0, max_gap_ms: float | None = None
    ) -> AsyncIterator[str]:
        """Only the token values, optionally with the recorded timing."""
        last_ts: float | None = None
        async for env in self.replay(stream_id):
            if isinstance(env.event, TokenEvent):
                if speed > 0 and last_ts is not None:
                    gap = env.event.ts - last_ts
                    if max_gap_ms is not None:
                        gap = min(gap, max_gap_ms)
                    if gap > 0:
                        await self._sleep(gap / speed / 1000.0)
                last_ts = env.event.ts
                yield env.event.value


def create_event_replayer(
    event_store: BaseEventStore, *, sleep: Sleep | None = None
) -> EventReplayer:
    return EventReplayer(event_store, sleep=sleep)


OnToken = Callable[[str], None]
OnViolation = Callable[[GuardrailViolation], None]
OnRetry = Callable[[int, str], None]
OnEvent = Callable[[EventEnvelope], None]


class ReplayResult:
    """What :func:`replay` returns: async-iterable envelopes plus the state so far."""

    is_replay = True

    def __init__(
        self,
        replayer: EventReplayer,
        stream_id: str,
        original_options: SerializedOptions,
        *,
        speed: float,
        fire_callbacks: bool,
        from_seq: int,
        to_seq: int | None,
        max_gap_ms: float | None,
    ) -> None:
        self._replayer = replayer
        self.stream_id = stream_id
        self.original_options = original_options
        self.speed = speed
        self.fire_callbacks = fire_callbacks
        self.from_seq = from_seq
        self.to_seq = to_seq
        self.max_gap_ms = max_gap_ms
        self.state = ReplayedState()
        """State as of the last event yielded (folded from ``from_seq``)."""
        self._on_token: OnToken | None = None
        self._on_violation: OnViolation | None = None
        self._on_retry: OnRetry | None = None
        self._on_event: OnEvent | None = None

    def set_callbacks(
        self,
        *,
        on_token: OnToken | None = None,
        on_violation: OnViolation | None = None,
        on_retry: OnRetry | None = None,
        on_event: OnEvent | None = None,
    ) -> None:
        """Callbacks fire during iteration (when ``fire_callbacks`` is on)."""
        if on_token is not None:
            self._on_token = on_token
        if on_violation is not None:
            self._on_violation = on_violation
        if on_retry is not None:
            self._on_retry = on_retry
        if on_event is not None:
            self._on_event = on_event

    @property
    def stream(self) -> AsyncIterator[EventEnvelope]:
        return self.__aiter__()

    async def __aiter__(self) -> AsyncIterator[EventEnvelope]:
        self.state = ReplayedState()
        state = self.state
        async for env in self._replayer.replay(
            self.stream_id, speed=self.speed, from_seq=self.from_seq, to_seq=self.to_seq,
            max_gap_ms=self.max_gap_ms,
        ):
            event = env.event
            apply_event(state, event)
            if self.fire_callbacks:
                if isinstance(event, TokenEvent) and self._on_token is not None:
                    self._on_token(event.value)
                elif isinstance(event, GuardrailEvent) and self._on_violation is not None:
                    for violation in event.result.violations:
                        self._on_violation(violation)
                elif isinstance(event, RetryEvent) and self._on_retry is not None:
                    self._on_retry(event.attempt, event.reason)
                if self._on_event is not None:
                    self._on_event(env)
            yield env

    async def collect(self) -> ReplayedState:
        """Consume the whole replay and return the final state."""
        async for _ in self:
            pass
        return self.state


async def replay(
    stream_id: str,
    event_store: BaseEventStore,
    *,
    speed: float = 0,
    fire_callbacks: bool = True,
    from_seq: int = 0,
    to_seq: int | None = None,
    max_gap_ms: float | None = None,
    sleep: Sleep | None = None,
) -> ReplayResult:
    """Start replaying ``stream_id``; raises :class:`StreamNotFoundError` when it is missing."""
    _check_range(from_seq, to_seq)
    first = await event_store.read_events(stream_id, from_seq=0, to_seq=0)
    if not first:
        if await event_store.exists(stream_id):
            raise StreamNotFoundError(stream_id, "it has no events")
        raise StreamNotFoundError(stream_id)
    head = first[0].event
    options = head.options if isinstance(head, StartEvent) else SerializedOptions()
    return ReplayResult(
        EventReplayer(event_store, sleep=sleep), stream_id, options, speed=speed,
        fire_callbacks=fire_callbacks, from_seq=from_seq, to_seq=to_seq, max_gap_ms=max_gap_ms,
    )
