"""``RecordingSession``: record a stream as it happens, with batched appends.

Every ``token()``/``retry()``/... call is synchronous and cheap: it stamps the event
with the clock, keeps the running state (content, token index, last checkpoint) and
puts the event on a queue. One background task drains the queue with
``append_many``, so a burst of tokens costs one store round trip, and the caller
(an LLM stream, or a synchronous callback of ``ai2070-l0``) never waits for the
store. ``flush()`` waits until everything queued is stored; ``close()`` flushes and
stops the writer.

``record_stream(...)`` is the context-manager form: START on enter, COMPLETE on a
clean exit, ERROR (with the exception serialized and classified) when the body
raises, and the exception still propagates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from l0core.closing import AsyncCloseable
from l0core.codec import encode_event
from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    DriftEventResult,
    ErrorEvent,
    FallbackEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RecoveryPolicy,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
    now_ms,
    validate_stream_id,
)
from l0core.fold import ReplayedState, apply_event, snapshot_from_state
from l0core.record.classify import classify_failure
from l0core.recorder import _drift, _error, _guardrail, _options, generate_stream_id
from l0core.stores.base import BaseEventStore, Clock, supports_snapshots

log = logging.getLogger("l0core.record")

DEFAULT_CHECKPOINT_EVERY = 20
"""A CHECKPOINT every this many tokens unless told otherwise (ai2070-l0's default)."""

DEFAULT_MAX_BATCH = 5_000
"""At most this many events per ``append_many`` call."""


class RecordingError(RuntimeError):
    """The store refused a batch; the recording is incomplete from that point on."""


def build_options(
    options: SerializedOptions | Mapping[str, Any] | None = None,
    *,
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> SerializedOptions:
    """START options from a mapping (either spelling) or object, plus shorthand keywords."""
    opts = _options(options)
    if prompt is None and model is None and metadata is None:
        return opts
    merged = SerializedOptions(
        prompt=opts.prompt, model=opts.model, retry=opts.retry, timeout=opts.timeout,
        check_intervals=opts.check_intervals,
        continue_from_last_known_good_token=opts.continue_from_last_known_good_token,
        detect_drift=opts.detect_drift, detect_zero_tokens=opts.detect_zero_tokens,
        fallback_count=opts.fallback_count, guardrail_count=opts.guardrail_count,
        metadata=dict(opts.metadata) if opts.metadata is not None else None,
        extra=dict(opts.extra),
    )
    if prompt is not None:
        merged.prompt = prompt
    if model is not None:
        merged.model = model
    if metadata is not None:
        merged.metadata = {**(merged.metadata or {}), **dict(metadata)}
    return merged


class RecordingSession(AsyncCloseable):
    """Records one stream to ``store`` through a batching background writer.

    The methods that record an event are synchronous (they only queue) and must be
    called from the event loop's thread. They track the stream's state the way
    the fold replays it: ``content``, ``token_count`` (the next token index),
    ``checkpoint``/``checkpoint_at``, ``fallback_index``.

    ``checkpoint_every`` N (> 0) records a CHECKPOINT after every N-th token.
    ``snapshot_every`` N (> 0) saves a snapshot of the replayed state after every
    N-th event once it is stored (the spec's "snapshots for long streams"), so
    ``replay_to_state`` on the store starts from the nearest one; stores without
    snapshots are left alone.
    ``strict`` makes :meth:`close` raise :class:`RecordingError` when the store
    failed; otherwise the failure is logged and kept in :attr:`store_error`.
    """

    def __init__(
        self,
        store: BaseEventStore,
        stream_id: str | None = None,
        *,
        checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
        clock: Clock | None = None,
        strict: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
        snapshot_every: int | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if snapshot_every is not None and snapshot_every < 0:
            raise ValueError(f"snapshot_every must be >= 0, got {snapshot_every}")
        self.store = store
        self.stream_id = validate_stream_id(stream_id) if stream_id else generate_stream_id()
        self.checkpoint_every = checkpoint_every or 0
        self.clock: Clock = clock or now_ms
        self.strict = strict
        self.max_batch = max_batch
        self.snapshot_every = (snapshot_every or 0) if supports_snapshots(store) else 0
        self.snapshots_saved = 0
        self._written_state = ReplayedState()
        """The fold of the events stored so far (kept only with ``snapshot_every``)."""
        # State as the fold will see it.
        self._parts: list[str] = []
        self.token_count = 0
        self.checkpoint = ""
        self.checkpoint_at = -1
        self.fallback_index = 0
        self.retry_count = 0
        self.started = False
        self.finished = False
        self.events_queued = 0
        self.events_written = 0
        self.store_error: BaseException | None = None
        # The writer.
        self._pending: list[RecordedEvent] = []
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False

    @property
    def content(self) -> str:
        """Everything the current attempt has produced (as the fold would show it)."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @content.setter
    def content(self, value: str) -> None:
        self._parts = [value] if value else []

    # ───────────────────────── queueing ─────────────────────────

    def emit(self, event: RecordedEvent) -> None:
        """Queue any event as it is (tokens are cheap; others are validated here)."""
        if self._closed:
            raise RuntimeError(f"recording of {self.stream_id!r} is closed")
        if self.finished:
            raise RuntimeError(
                f"recording of {self.stream_id!r} already ended with COMPLETE or ERROR"
            )
        if not isinstance(event, TokenEvent):
            encode_event(event)  # raise at the call site, not later in the writer
        self._pending.append(event)
        self.events_queued += 1
        if self._writer is None:
            self._start_writer()
        assert self._wake is not None and self._idle is not None
        self._idle.clear()
        self._wake.set()

    def _start_writer(self) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._writer = loop.create_task(self._write_loop(), name=f"l0-record-{self.stream_id}")

    async def _write_loop(self) -> None:
        assert self._wake is not None and self._idle is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: len(batch)]
                if self.store_error is not None:
                    continue  # already broken: drop, the error is reported on close
                try:
                    last = await self.store.append_many(
                        self.stream_id, batch, expected_seq=self.events_written - 1
                    )
                except Exception as exc:  # report, never break the recorded stream
                    self.store_error = exc
                    log.warning("recording %s stopped: the store refused a batch: %s",
                                self.stream_id, exc)
                else:
                    first = self.events_written
                    self.events_written = last + 1
                    if self.snapshot_every:
                        await self._snapshot(batch, first)
            self._idle.set()
            if self._closing:
                return

    async def _snapshot(self, batch: list[RecordedEvent], first_seq: int) -> None:
        """Fold the stored ``batch`` and save a snapshot at every N-th seq it crosses."""
        every = self.snapshot_every
        state = self._written_state
        for offset, event in enumerate(batch):
            apply_event(state, event)
            seq = first_seq + offset
            if (seq + 1) % every == 0:
                try:
                    await self.store.save_snapshot(  # type: ignore[attr-defined]
                        snapshot_from_state(self.stream_id, seq, state, event.ts))
                except Exception as exc:  # a snapshot is an optimisation: never fatal
                    log.warning("snapshot of %s at seq %d failed: %s", self.stream_id, seq,
                                exc)
                else:
                    self.snapshots_saved += 1

    @property
    def pending(self) -> int:
        """Events queued but not stored yet."""
        return self.events_queued - self.events_written

    async def flush(self) -> None:
        """Wait until every event queued so far is stored (or the store failed)."""
        if self._writer is None or self._idle is None or self._wake is None:
            return
        self._wake.set()
        await self._idle.wait()

    async def close(self) -> None:
        """Flush, stop the writer; raise :class:`RecordingError` if strict and it failed."""
        if not self._closed:
            self._closed = True
            if self._writer is not None and self._wake is not None:
                self._closing = True
                self._wake.set()
                await asyncio.shield(self._writer)
        if self.strict and self.store_error is not None:
            raise RecordingError(
                f"recording of {self.stream_id!r} is incomplete: {self.store_error}"
            ) from self.store_error

    # ───────────────────────── the spec's events ─────────────────────────

    def start(
        self,
        options: SerializedOptions | Mapping[str, Any] | None = None,
        *,
        ts: float | None = None,
    ) -> None:
        self.started = True
        self.emit(StartEvent(ts=self._ts(ts), options=_options(options)))

    def token(self, value: str, index: int | None = None, *, ts: float | None = None) -> None:
        """Record a token (index defaults to the next one) and any periodic CHECKPOINT."""
        if type(value) is not str:
            raise TypeError(f"token value must be a str, got {type(value).__name__}")
        i = self.token_count if index is None else index
        stamp = self._ts(ts)
        self.emit(TokenEvent(ts=stamp, value=value, index=i))
        self._parts.append(value)
        self.token_count = i + 1
        if self.checkpoint_every > 0 and self.token_count % self.checkpoint_every == 0:
            self.record_checkpoint(ts=stamp)

    def record_checkpoint(
        self, at: int | None = None, content: str | None = None, *, ts: float | None = None
    ) -> None:
        """A CHECKPOINT of ``content`` (default: everything so far) at token ``at``."""
        at = self.token_count - 1 if at is None else at
        content = self.content if content is None else content
        self.emit(CheckpointEvent(ts=self._ts(ts), at=at, content=content))
        self.checkpoint = content
        self.checkpoint_at = at

    def guardrail(
        self,
        result: GuardrailEventResult | Mapping[str, Any],
        at: int | None = None,
        *,
        ts: float | None = None,
    ) -> None:
        at = self.token_count - 1 if at is None else at
        self.emit(GuardrailEvent(ts=self._ts(ts), at=at, result=_guardrail(result)))

    def drift(
        self,
        result: DriftEventResult | Mapping[str, Any],
        at: int | None = None,
        *,
        ts: float | None = None,
    ) -> None:
        at = self.token_count - 1 if at is None else at
        self.emit(DriftEvent(ts=self._ts(ts), at=at, result=_drift(result)))

    def retry(
        self,
        reason: str,
        *,
        attempt: int | None = None,
        counts_toward_limit: bool = True,
        restart: bool = True,
        ts: float | None = None,
    ) -> None:
        """A RETRY; with ``restart`` the next attempt's tokens start again at index 0."""
        self.retry_count += 1
        n = self.retry_count if attempt is None else attempt
        self.emit(RetryEvent(ts=self._ts(ts), reason=reason, attempt=n,
                             counts_toward_limit=counts_toward_limit))
        if restart:
            self.content = ""
            self.token_count = 0

    def fallback(
        self, to: int | None = None, *, restart: bool = True, ts: float | None = None
    ) -> None:
        """A FALLBACK to stream ``to`` of the chain (default: the next one)."""
        self.fallback_index = self.fallback_index + 1 if to is None else to
        self.emit(FallbackEvent(ts=self._ts(ts), to=self.fallback_index))
        if restart:
            self.content = ""
            self.token_count = 0

    def continuation(
        self, checkpoint: str | None = None, at: int | None = None, *, ts: float | None = None
    ) -> None:
        """Resume from ``checkpoint`` (default: the last one); tokens go on after ``at``."""
        checkpoint = self.checkpoint if checkpoint is None else checkpoint
        at = self.checkpoint_at if at is None else at
        self.emit(ContinuationEvent(ts=self._ts(ts), checkpoint=checkpoint, at=at))
        self.content = checkpoint
        self.token_count = at + 1

    def complete(
        self,
        content: str | None = None,
        token_count: int | None = None,
        *,
        ts: float | None = None,
    ) -> None:
        self.emit(CompleteEvent(
            ts=self._ts(ts),
            content=self.content if content is None else content,
            token_count=self.token_count if token_count is None else token_count,
        ))
        self.finished = True

    def error(
        self,
        error: BaseException | SerializedError | Mapping[str, Any],
        failure_type: str | None = None,
        recovery_strategy: str = "halt",
        policy: RecoveryPolicy = "default",
        *,
        ts: float | None = None,
    ) -> None:
        """An ERROR; ``failure_type`` defaults to :func:`classify_failure` of ``error``."""
        if failure_type is None:
            failure_type = (classify_failure(error) if isinstance(error, BaseException)
                            else "unknown")
        self.emit(ErrorEvent(ts=self._ts(ts), error=_error(error), failure_type=failure_type,
                             recovery_strategy=recovery_strategy, policy=policy))
        self.finished = True

    def _ts(self, ts: float | None) -> float:
        return self.clock() if ts is None else ts


class StreamRecording(RecordingSession):
    """The :func:`record_stream` session: START on enter, COMPLETE or ERROR on exit."""

    def __init__(
        self,
        store: BaseEventStore,
        stream_id: str | None = None,
        *,
        options: SerializedOptions | Mapping[str, Any] | None = None,
        checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
        clock: Clock | None = None,
        strict: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
        snapshot_every: int | None = None,
    ) -> None:
        super().__init__(store, stream_id, checkpoint_every=checkpoint_every, clock=clock,
                         strict=strict, max_batch=max_batch, snapshot_every=snapshot_every)
        self.options = _options(options)

    async def __aenter__(self) -> Self:
        if not self.started:
            self.start(self.options)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self.finished and not self._closed:
                if exc is None:
                    self.complete()
                else:
                    self.error(exc)
        finally:
            if exc is None:
                await self.close()
            else:  # the body's exception wins over a recording failure
                try:
                    await self.close()
                except RecordingError:
                    log.warning("recording of %s is incomplete", self.stream_id)


def record_stream(
    store: BaseEventStore,
    stream_id: str | None = None,
    *,
    options: SerializedOptions | Mapping[str, Any] | None = None,
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
    clock: Clock | None = None,
    strict: bool = False,
    snapshot_every: int | None = None,
) -> StreamRecording:
    """``async with record_stream(store, "my-id", model="gpt-4o") as rec: rec.token("Hi")``.

    Records START on enter, COMPLETE (the content and token count tracked from
    ``rec.token``) on a clean exit, ERROR when the body raises (the exception
    propagates unchanged). ``rec.retry``, ``rec.fallback``, ``rec.continuation``,
    ``rec.guardrail``, ``rec.drift`` record the other events. ``snapshot_every=N``
    saves a snapshot after every N-th stored event.
    """
    return StreamRecording(
        store, stream_id,
        options=build_options(options, prompt=prompt, model=model, metadata=metadata),
        checkpoint_every=checkpoint_every, clock=clock, strict=strict,
        snapshot_every=snapshot_every,
    )
