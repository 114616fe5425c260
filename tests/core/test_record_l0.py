"""Recording ai2070-l0 runs: offline token generators, no network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from l0core import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    ErrorEvent,
    FallbackEvent,
    GuardrailEvent,
    InMemoryEventStore,
    RetryEvent,
    StartEvent,
    TokenEvent,
    create_event_replayer,
)
from l0core.record import L0RunRecorder, record_l0_run

l0 = pytest.importorskip("l0")
from l0 import CheckIntervals, Event, EventType, Retry  # noqa: E402
from l0.continuation import ContinuationConfig  # noqa: E402
from l0.drift import DriftResult  # noqa: E402
from l0.guardrails import GuardrailRule, GuardrailViolation  # noqa: E402
from l0.runtime import LifecycleCallbacks  # noqa: E402


def fast_retry(attempts: int = 3, max_retries: int = 5) -> Retry:
    """Real retry logic with millisecond backoff, so the tests do not wait."""
    return Retry(attempts=attempts, max_retries=max_retries, base_delay=0.001, max_delay=0.002)

ANSWER_TEXT = ("Retry idempotent requests with exponential backoff and jitter , and cap the "
               "total wait so a dead upstream fails fast .")


def words(text: str) -> list[str]:
    """Whitespace-led tokens, the way a model streams them."""
    return [w if i == 0 else " " + w for i, w in enumerate(text.split())]


ANSWER = words(ANSWER_TEXT)


def scripted(attempts: list[Callable[[], AsyncIterator[Any]]]) -> Callable[[], Any]:
    """A stream factory whose n-th call plays the n-th script."""
    calls = iter(attempts)
    return lambda: next(calls)()


def tokens(parts: list[str], *, fail_after: int | None = None,
           error: Exception | None = None) -> Callable[[], AsyncIterator[Any]]:
    async def gen() -> AsyncIterator[Any]:
        for i, part in enumerate(parts):
            if fail_after is not None and i == fail_after:
                assert error is not None
                raise error
            yield Event(type=EventType.TOKEN, text=part)
    return gen


def no_internal_hosts(state: Any) -> list[GuardrailViolation]:
    """Completion rule: trips when the finished answer leaks an internal hostname."""
    if state.completed and ".internal" in state.content:
        return [GuardrailViolation(rule="no-internal-hosts", severity="error", recoverable=True,
                                   message="answer mentions an internal hostname")]
    return []


async def test_recorded_run_replays_to_the_live_result() -> None:
    leaked = words("Point clients at api.corp.internal and retry forever .")
    factory = scripted([
        tokens(ANSWER, fail_after=6, error=ConnectionError("Connection reset by peer")),
        tokens(leaked),
        tokens(ANSWER),
    ])
    live_violations: list[Any] = []
    observed: list[str] = []
    store = InMemoryEventStore()
    run = await record_l0_run(
        store, "l0-run", prompt="How should clients retry?", model="offline-model",
        metadata={"suite": "test"},
        stream=factory,
        guardrails=[GuardrailRule(name="no-internal-hosts", check=no_internal_hosts)],
        retry=fast_retry(),
        on_violation=live_violations.append,
        on_event=lambda ev: observed.append(ev.type.value),
    )
    seen_tokens = [ev.text async for ev in run if ev.is_token]
    live = run.state

    assert live.completed
    assert live.network_retry_count == 1 and live.model_retry_count == 1
    assert len(live_violations) == 1  # the user's own callbacks still fire
    assert "RETRY_ATTEMPT" in observed

    state = await create_event_replayer(store).replay_to_state("l0-run")
    assert state.completed
    assert state.content == live.content == "".join(ANSWER)
    assert state.token_count == live.token_count
    assert state.network_retry_count == live.network_retry_count
    assert state.retry_attempts == live.model_retry_count
    assert len(state.violations) == len(live_violations)
    assert state.violations[0]["rule"] == "no-internal-hosts"
    assert state.violations[0]["recoverable"] is True

    events = [env.event for env in await store.get_events("l0-run")]
    start = events[0]
    assert isinstance(start, StartEvent)
    assert start.options.prompt == "How should clients retry?"
    assert start.options.guardrail_count == 1
    assert start.options.retry is not None and start.options.retry["maxRetries"] == 5
    kinds = [e.type.value for e in events if not isinstance(e, TokenEvent)]
    assert kinds == ["START", "RETRY", "GUARDRAIL", "RETRY", "COMPLETE"]
    retries = [e for e in events if isinstance(e, RetryEvent)]
    assert [r.counts_toward_limit for r in retries] == [False, True]
    assert "Connection reset" in retries[0].reason
    guardrail = next(e for e in events if isinstance(e, GuardrailEvent))
    assert guardrail.result.should_retry and not guardrail.result.should_halt
    # every token the caller saw was recorded, in order, each attempt from index 0
    recorded = [e for e in events if isinstance(e, TokenEvent)]
    assert [t.value for t in recorded] == seen_tokens
    assert [t.index for t in recorded][:7] == [0, 1, 2, 3, 4, 5, 0]
    ts = [e.ts for e in events]
    assert ts == sorted(ts)


async def test_continuation_from_checkpoint() -> None:
    factory = scripted([
        tokens(ANSWER, fail_after=9, error=ConnectionError("Connection reset by peer")),
        tokens(ANSWER[9:]),  # a provider that resumes where it was cut off
    ])
    store = InMemoryEventStore()
    run = await record_l0_run(store, "l0-cont", stream=factory, retry=fast_retry(),
                              continue_from_last_good_token=ContinuationConfig(
                                  checkpoint_interval=4))
    text = await run.read()
    events = [env.event for env in await store.get_events("l0-cont")]
    cont = next(e for e in events if isinstance(e, ContinuationEvent))
    assert cont.checkpoint == "".join(ANSWER[:9]) and cont.at == 8
    checkpoints = [e for e in events if isinstance(e, CheckpointEvent)]
    # every 4th token, plus the one l0 saves when it decides to retry (token 8)
    periodic = [i for i in range(len(ANSWER)) if (i + 1) % 4 == 0]
    assert [c.at for c in checkpoints] == sorted([*periodic, 8])
    for c in checkpoints:  # a checkpoint never runs ahead of the recorded tokens
        i = events.index(c)
        assert any(isinstance(e, TokenEvent) and e.index == c.at for e in events[:i])
    state = await create_event_replayer(store).replay_to_state("l0-cont")
    assert state.content == text == run.state.content
    assert state.network_retry_count == 1 and state.completed


async def test_fallback_after_two_failures() -> None:
    refusal = ValueError("model returned malformed output")
    primary = scripted([tokens(["x"], fail_after=0, error=refusal),
                        tokens(["y"], fail_after=0, error=refusal)])
    backup = scripted([tokens(ANSWER)])
    store = InMemoryEventStore()
    run = await record_l0_run(store, "l0-fb", stream=primary, fallbacks=[backup],
                              retry=fast_retry(1, 1))
    await run.read()
    events = [env.event for env in await store.get_events("l0-fb")]
    assert [e.type.value for e in events if not isinstance(e, TokenEvent)] == [
        "START", "RETRY", "FALLBACK", "COMPLETE"]
    fallback = next(e for e in events if isinstance(e, FallbackEvent))
    assert fallback.to == run.state.fallback_index == 1
    state = await create_event_replayer(store).replay_to_state("l0-fb")
    assert state.fallback_index == 1 and state.retry_attempts == 1
    assert state.content == run.state.content


async def test_failed_run_records_error_and_raises_the_same_exception() -> None:
    boom = ConnectionError("Connection refused")
    factory = scripted([tokens(["Hel", "lo"], fail_after=1, error=boom)] * 3)
    store = InMemoryEventStore()
    run = await record_l0_run(store, "l0-err", stream=factory,
                              retry=fast_retry(1, 1))
    with pytest.raises(ConnectionError) as caught:
        async for _ in run:
            pass
    assert caught.value is boom
    events = [env.event for env in await store.get_events("l0-err")]
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert last.error.name == "ConnectionError" and last.error.message == "Connection refused"
    assert last.failure_type == "network" and last.recovery_strategy == "halt"
    assert isinstance(last.policy, dict) and last.policy["maxRetries"] == 1
    assert sum(isinstance(e, RetryEvent) for e in events) == 1
    state = await create_event_replayer(store).replay_to_state("l0-err")
    assert state.error is not None and not state.completed


class OneShotDrift:
    """A drift detector stub: reports meta commentary once, at the 4th check."""

    def __init__(self) -> None:
        self.calls = 0

    def check(self, content: str, delta: str | None = None) -> DriftResult:
        self.calls += 1
        hit = self.calls == 4
        return DriftResult(detected=hit, confidence=0.8 if hit else 0.0,
                           types=["meta_commentary"] if hit else [])


async def test_drift_and_lifecycle_callbacks_object() -> None:
    user_tokens: list[str] = []
    completed: list[Any] = []
    store = InMemoryEventStore()
    run = await record_l0_run(
        store, "l0-drift", stream=scripted([tokens(ANSWER)]),
        drift_detector=OneShotDrift(), check_intervals=CheckIntervals(drift=2),
        callbacks=LifecycleCallbacks(on_token=user_tokens.append,
                                     on_complete=completed.append),
        record_passing_checks=True,
    )
    await run.read()
    assert "".join(user_tokens) == run.state.content and completed
    drifts = [e for e in (env.event for env in await store.get_events("l0-drift"))
              if isinstance(e, DriftEvent)]
    assert len(drifts) == len(ANSWER) // 2  # passing checks recorded too
    detected = [d for d in drifts if d.result.detected]
    assert len(detected) == 1
    assert detected[0].result.types == ["meta_commentary"]
    assert detected[0].at == 7 and detected[0].result.confidence == 0.8
    state = await create_event_replayer(store).replay_to_state("l0-drift")
    assert state.drift_detected and state.completed


async def test_recorder_callbacks_with_a_direct_l0_run_call() -> None:
    store = InMemoryEventStore()
    kwargs: dict[str, Any] = {"stream": scripted([tokens(ANSWER)])}
    rec = L0RunRecorder(store, "l0-manual", run_kwargs=kwargs, model="offline-model")
    rec.start()
    result = await l0.run(**rec.run_kwargs(kwargs))
    rec.attach(result)
    async for _ in result:
        pass
    await rec.close()
    events = [env.event for env in await store.get_events("l0-manual")]
    assert isinstance(events[-1], CompleteEvent)
    assert events[-1].content == result.state.content
    assert sum(isinstance(e, TokenEvent) for e in events) == len(ANSWER)


async def test_user_hooks_given_as_keywords_are_chained() -> None:
    user_tokens: list[str] = []
    errors: list[Exception] = []
    store = InMemoryEventStore()
    boom = ConnectionError("Connection reset by peer")
    run = await record_l0_run(
        store, "l0-kw",
        stream=scripted([tokens(ANSWER, fail_after=3, error=boom), tokens(ANSWER)]),
        retry=fast_retry(), on_token=user_tokens.append,
        on_error=lambda e, will_retry, will_fallback: errors.append(e),
    )
    await run.read()
    assert errors == [boom]
    assert "".join(user_tokens) == "".join(ANSWER[:3]) + run.state.content
    recorded = [e.event for e in await store.get_events("l0-kw")]
    assert "".join(e.value for e in recorded if isinstance(e, TokenEvent)) == "".join(user_tokens)


async def test_abandoned_run_is_recorded_as_abort() -> None:
    store = InMemoryEventStore()
    async with await record_l0_run(store, "l0-abort",
                                   stream=scripted([tokens(ANSWER)])) as run:
        async for ev in run:
            if ev.is_token:
                break
    last = (await store.get_events("l0-abort"))[-1].event
    assert isinstance(last, ErrorEvent) and last.failure_type == "abort"
