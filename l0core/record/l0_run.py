"""Record an ``ai2070-l0`` ``l0.run(...)`` call as the spec's events (extra ``[l0]``).

``ai2070-l0`` is imported lazily, only by :func:`record_l0_run`; the recorder itself
works on whatever its callbacks hand it. Its callbacks are synchronous, so every
one of them only queues an event on a :class:`~l0core.record.session.RecordingSession`,
whose background task appends in batches.

Where each recorded event comes from (``l0.runtime`` in 0.21.1):

=============  ==============================================================
START          :func:`record_l0_run` itself, with the run's options (retry,
               timeout, check intervals, continuation, drift, fallback and
               guardrail counts) plus the prompt/model/metadata you pass
TOKEN          ``on_token(text)``; the index is the run state's token count - 1,
               so it restarts after a fresh retry and goes on after a resume
CHECKPOINT     observability ``CHECKPOINT_SAVED`` (``checkpoint``,
               ``tokenCount``); the one saved while retrying is kept only when
               continuation is on (l0 discards it otherwise)
GUARDRAIL      observability ``GUARDRAIL_PHASE_END`` with its violations;
               ``shouldRetry``/``shouldHalt`` follow l0's rule (severity
               "error", recoverable or not)
DRIFT          observability ``DRIFT_CHECK_RESULT`` (``metrics`` keys -> types,
               ``score`` -> confidence)
RETRY          observability ``RETRY_ATTEMPT`` (attempt, reason);
               ``countsTowardLimit`` is false for network and transient errors,
               which l0 does not count against ``Retry.attempts``
FALLBACK       observability ``FALLBACK_START`` (``toIndex``)
CONTINUATION   observability ``RESUME_START`` (``checkpoint``, ``tokenCount``)
COMPLETE       ``on_complete(state)``: the run's final content and token count
ERROR          observability ``ERROR`` whose ``recoveryStrategy`` is "halt"
               (errors that l0 retries or falls back from are told by RETRY and
               FALLBACK instead), with the exception from ``on_error``, l0's
               ``failureType`` and its policy object
=============  ==============================================================

Observability events carry their own ``ts``; callbacks are stamped when they
fire. Passing checks (no violation, no drift) are left out unless
``record_passing_checks`` is set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Self

from l0core.closing import AsyncCloseable
from l0core.codec import encode_options
from l0core.events import JSONDict, SerializedOptions
from l0core.record.classify import classify_failure
from l0core.record.session import RecordingError, RecordingSession, build_options
from l0core.stores.base import BaseEventStore, Clock

log = logging.getLogger("l0core.record")

def _jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of ``value`` (unknown objects become their ``str``)."""
    if isinstance(value, Enum):
        return _jsonable(value.value, depth + 1)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if depth > 20:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value), depth + 1)
    return str(value)


def _violation(v: Any) -> JSONDict:
    raw = v if isinstance(v, Mapping) else getattr(v, "__dict__", {"message": str(v)})
    return {k: _jsonable(val) for k, val in raw.items() if val is not None}


def options_from_run_kwargs(run_kwargs: Mapping[str, Any]) -> JSONDict:
    """The spec's START options that an ``l0.run(...)`` call's keywords determine."""
    out: JSONDict = {}
    retry = run_kwargs.get("retry")
    if retry is not None:
        strategy = getattr(retry, "strategy", None)
        out["retry"] = {k: v for k, v in {
            "attempts": getattr(retry, "attempts", None),
            "maxRetries": getattr(retry, "max_retries", None),
            "baseDelay": _ms(getattr(retry, "base_delay", None)),
            "maxDelay": _ms(getattr(retry, "max_delay", None)),
            "backoff": _jsonable(strategy) if strategy is not None else None,
        }.items() if v is not None}
    timeout = run_kwargs.get("timeout")
    if timeout is not None:
        out["timeout"] = {"initialToken": getattr(timeout, "initial_token", None),
                          "interToken": getattr(timeout, "inter_token", None)}
    intervals = run_kwargs.get("check_intervals")
    if intervals is not None:
        out["checkIntervals"] = {"guardrails": getattr(intervals, "guardrails", None),
                                 "drift": getattr(intervals, "drift", None),
                                 "checkpoint": getattr(intervals, "checkpoint", None)}
    out["continueFromLastKnownGoodToken"] = _continuation_enabled(run_kwargs)
    out["detectDrift"] = run_kwargs.get("drift_detector") is not None
    out["fallbackCount"] = len(run_kwargs.get("fallbacks") or [])
    out["guardrailCount"] = len(run_kwargs.get("guardrails") or [])
    return out


def _ms(seconds: Any) -> int | None:
    """ai2070-l0 configures retry delays in seconds; the spec's options are milliseconds."""
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return round(seconds * 1000)
    return None


def _continuation_enabled(run_kwargs: Mapping[str, Any]) -> bool:
    value = run_kwargs.get("continue_from_last_good_token", False)
    if isinstance(value, bool):
        return value
    return bool(getattr(value, "enabled", True))


def _network_like(error: BaseException | None) -> bool:
    """True when l0 counts ``error`` as a network/transient retry (not toward ``attempts``)."""
    if error is None:
        return False
    try:
        from l0.errors import categorize_error
        from l0.types import ErrorCategory
    except ImportError:  # pragma: no cover - only without the extra
        return classify_failure(error) in ("network", "timeout")
    if not isinstance(error, Exception):
        return False
    return categorize_error(error) in (ErrorCategory.NETWORK, ErrorCategory.TRANSIENT)


class L0RunRecorder:
    """Turns one ``l0.run`` call's callbacks into recorded events.

    For the one-liner use :func:`record_l0_run`. To call ``l0.run`` yourself::

        rec = L0RunRecorder(store, "chat-7", run_kwargs=kwargs, model="gpt-4o")
        rec.start()
        result = await l0.run(**rec.run_kwargs(kwargs))
        rec.attach(result)                  # exact token indexes from the run's state
        async for event in result: ...
        await rec.close()                   # or await rec.close(exc) if it raised
    """

    def __init__(
        self,
        store: BaseEventStore,
        stream_id: str | None = None,
        *,
        run_kwargs: Mapping[str, Any] | None = None,
        options: SerializedOptions | Mapping[str, Any] | None = None,
        prompt: str | None = None,
        model: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
        record_passing_checks: bool = False,
        strict: bool = False,
        snapshot_every: int | None = None,
    ) -> None:
        kwargs = dict(run_kwargs or {})
        self.session = RecordingSession(store, stream_id, checkpoint_every=0, clock=clock,
                                        strict=strict, snapshot_every=snapshot_every)
        base = options_from_run_kwargs(kwargs)
        given = build_options(options, prompt=prompt, model=model, metadata=metadata)
        self.options = build_options({**base, **encode_options(given)})
        self.record_passing_checks = record_passing_checks
        self._continuation = _continuation_enabled(kwargs)
        self._state: Any = None
        self._last_error: BaseException | None = None
        self._in_retry = False
        self._deferred_checkpoint: tuple[int, str] | None = None

    @property
    def stream_id(self) -> str:
        return self.session.stream_id

    def start(self) -> None:
        """Record START (call it right before ``l0.run``)."""
        if not self.session.started:
            self.session.start(self.options)

    def attach(self, run_result: Any) -> None:
        """Read token indexes from the run's ``state`` (the object ``l0.run`` returned)."""
        self._state = getattr(run_result, "state", None)

    # ───────────────────────── callbacks ─────────────────────────

    def callbacks(self, run_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Keywords for ``l0.run``: the recorder's hooks, each chained with the user's own.

        ``on_event`` (observability) is a keyword of ``l0.run``; ``on_token`` exists only
        on ``LifecycleCallbacks``, so the token, error and completion hooks go into a
        copy of the user's ``callbacks=`` object (their keyword forms are folded in).
        """
        from l0.runtime import LifecycleCallbacks

        kwargs = run_kwargs or {}
        lifecycle = kwargs.get("callbacks")
        merged = (dataclasses.replace(lifecycle) if isinstance(lifecycle, LifecycleCallbacks)
                  else LifecycleCallbacks())
        mine: dict[str, Callable[..., None]] = {
            "on_token": self._on_token,
            "on_error": self._on_error,
            "on_complete": self._on_complete,
        }
        out: dict[str, Any] = {}
        for name, hook in mine.items():
            theirs = kwargs.get(name) or getattr(lifecycle, name, None)
            setattr(merged, name, _chain(hook, theirs))
            if name in kwargs:
                out[name] = None  # the keyword would shadow the merged callbacks object
        out["callbacks"] = merged
        out["on_event"] = _chain(self._on_observability, kwargs.get("on_event"))
        return out

    def run_kwargs(self, run_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``run_kwargs`` with the recorder's hooks chained in: pass it to ``l0.run``."""
        merged = {**(run_kwargs or {}), **self.callbacks(run_kwargs)}
        # a hook folded into ``callbacks=`` is dropped as a keyword (``on_token`` is
        # not even a keyword of ``l0.run``)
        return {k: v for k, v in merged.items() if not (v is None and k.startswith("on_"))}

    def _on_token(self, text: str) -> None:
        s = self.session
        if s.finished or not text:
            return
        state = self._state
        index = state.token_count - 1 if state is not None else s.token_count
        stamp = s.clock()
        s.token(text, index, ts=stamp)
        pending = self._deferred_checkpoint
        if pending is not None and pending[0] <= index:
            self._deferred_checkpoint = None
            s.record_checkpoint(pending[0], pending[1], ts=stamp)

    def _on_error(self, error: Exception, will_retry: bool, will_fallback: bool) -> None:
        self._last_error = error

    def _on_complete(self, state: Any) -> None:
        s = self.session
        if s.finished:
            return
        s.complete(str(state.content), int(state.token_count))

    def _on_observability(self, event: Any) -> None:
        s = self.session
        if s.finished:
            return
        kind = getattr(getattr(event, "type", None), "value", getattr(event, "type", None))
        meta: Mapping[str, Any] = getattr(event, "meta", None) or {}
        ts = getattr(event, "ts", None)
        ts = float(ts) if isinstance(ts, int | float) else None
        if kind == "GUARDRAIL_PHASE_END":
            violations = [_violation(v) for v in meta.get("violations") or []]
            if violations or self.record_passing_checks:
                errors = [v for v in violations if v.get("severity") == "error"]
                s.guardrail({
                    "violations": violations,
                    "should_retry": any(v.get("recoverable", True) for v in errors),
                    "should_halt": any(not v.get("recoverable", True) for v in errors),
                }, self._at(), ts=ts)
        elif kind == "DRIFT_CHECK_RESULT":
            detected = bool(meta.get("detected"))
            if detected or self.record_passing_checks:
                score = meta.get("score")
                s.drift({
                    "detected": detected,
                    "types": [str(t) for t in (meta.get("metrics") or {})],
                    "confidence": float(score) if isinstance(score, int | float) else 0.0,
                }, self._at(), ts=ts)
        elif kind == "RETRY_START":
            self._in_retry = True
        elif kind == "RETRY_ATTEMPT":
            attempt = meta.get("attempt")
            s.retry(str(meta.get("reason", "")),
                    attempt=attempt if isinstance(attempt, int) else None,
                    counts_toward_limit=not _network_like(self._last_error),
                    restart=False, ts=ts)
        elif kind == "CHECKPOINT_SAVED":
            checkpoint = meta.get("checkpoint")
            count = meta.get("tokenCount")
            if not isinstance(checkpoint, str) or not isinstance(count, int):
                return
            if self._in_retry and not (self._continuation and checkpoint):
                return  # l0 throws this one away and starts the next attempt afresh
            if not self._in_retry and count - 1 >= s.token_count:
                # l0 saves the periodic checkpoint before it reports the token that
                # completes it: record it right after that TOKEN, in stream order.
                self._deferred_checkpoint = (count - 1, checkpoint)
                return
            s.record_checkpoint(count - 1, checkpoint, ts=ts)
        elif kind == "RETRY_END":
            self._in_retry = False
            if not (self._continuation and s.checkpoint):
                s.content = ""
                s.token_count = 0
        elif kind == "RESUME_START":
            checkpoint = meta.get("checkpoint")
            count = meta.get("tokenCount")
            if isinstance(checkpoint, str) and isinstance(count, int):
                s.continuation(checkpoint, count - 1, ts=ts)
        elif kind == "FALLBACK_START":
            to = meta.get("toIndex")
            s.fallback(to if isinstance(to, int) else None, restart=False, ts=ts)
        elif kind == "ERROR" and meta.get("recoveryStrategy") == "halt":
            error: Any = self._last_error
            if error is None:
                error = {"name": "Error", "message": str(meta.get("error", ""))}
            policy = meta.get("policy")
            s.error(error, str(meta.get("failureType") or "unknown"), "halt",
                    _jsonable(policy) if isinstance(policy, Mapping) else "default", ts=ts)

    def _at(self) -> int:
        state = self._state
        if state is not None:
            return int(state.token_count) - 1
        return self.session.token_count - 1

    # ───────────────────────── finishing ─────────────────────────

    async def close(self, error: BaseException | None = None) -> None:
        """Finish the recording: ERROR for ``error`` (or "abort" when the run ended
        without COMPLETE) unless one was recorded, then flush."""
        s = self.session
        if not s.finished:
            if not s.started:
                s.start(self.options)
            if error is not None:
                s.error(error, classify_failure(error))
            else:
                s.error({"name": "Aborted", "message": "the run ended without completing"},
                        "abort")
        try:
            await asyncio.shield(s.close())
        except RecordingError:
            if error is None:
                raise
            log.warning("recording of %s is incomplete", s.stream_id)


def _chain(
    mine: Callable[..., None], theirs: Callable[..., Any] | None
) -> Callable[..., None]:
    def hook(*args: Any) -> None:
        try:
            mine(*args)
        except Exception:  # recording must never disturb the run
            log.exception("l0core: recording callback failed")
        if theirs is not None:
            theirs(*args)

    return hook


class RecordedL0Run(AsyncCloseable):
    """What :func:`record_l0_run` returns: iterate it like ``l0.run``'s result.

    Yields the same ``l0.Event`` objects and raises the same exceptions; the
    recording is finished and flushed when the iteration ends, raises, or the
    ``async with`` block exits. ``state``, ``errors``, ``abort()``, ``raw()`` and
    ``read()`` are the underlying run's.
    """

    def __init__(self, run: Any, recorder: L0RunRecorder) -> None:
        self.run = run
        self.recorder = recorder
        self._done = False

    @property
    def stream_id(self) -> str:
        return self.recorder.stream_id

    @property
    def state(self) -> Any:
        return self.run.state

    @property
    def errors(self) -> list[Exception]:
        return list(self.run.errors)

    def abort(self) -> None:
        self.run.abort()

    def raw(self) -> list[Any]:
        return list(self.run.raw())

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        try:
            return await self.run.__anext__()
        except StopAsyncIteration:
            self._done = True
            await self.recorder.close()
            raise
        except BaseException as exc:
            self._done = True
            await self.recorder.close(exc)
            raise

    async def read(self) -> str:
        """Consume the run and return its final content."""
        async for _ in self:
            pass
        return str(self.run.state.content)

    async def close(self) -> None:
        if not self._done:
            self._done = True
            self.run.abort()
            await self.recorder.close()


async def record_l0_run(
    store: BaseEventStore,
    stream_id: str | None = None,
    *,
    options: SerializedOptions | Mapping[str, Any] | None = None,
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    record_passing_checks: bool = False,
    strict: bool = False,
    snapshot_every: int | None = None,
    **run_kwargs: Any,
) -> RecordedL0Run:
    """``await l0.run(**run_kwargs)``, recorded to ``store`` as ``stream_id``.

    ::

        result = await record_l0_run(store, "answer-17", prompt=question, model="gpt-4o",
                                     stream=factory, guardrails=rules, retry=l0.Retry())
        async for event in result:
            ...

    Your own ``on_event``/``on_token``/``on_error``/``on_complete`` (as keywords or in
    ``callbacks=``) still fire. Needs the ``[l0]`` extra (``ai2070-l0``).
    """
    try:
        import l0
    except ImportError as exc:  # pragma: no cover - only without the extra
        raise ImportError(
            "record_l0_run needs ai2070-l0: pip install 'l0tui[l0]'"
        ) from exc
    recorder = L0RunRecorder(
        store, stream_id, run_kwargs=run_kwargs, options=options, prompt=prompt, model=model,
        metadata=metadata, clock=clock, record_passing_checks=record_passing_checks,
        strict=strict, snapshot_every=snapshot_every,
    )
    recorder.start()
    try:
        run = await l0.run(**recorder.run_kwargs(run_kwargs))
    except BaseException as exc:
        await recorder.close(exc)
        raise
    recorder.attach(run)
    return RecordedL0Run(run, recorder)
