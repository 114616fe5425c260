"""l0core.record: wrapping async iterators, the context manager, batching, failure types."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from types import SimpleNamespace
from typing import Any

import pytest

from l0core import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    ErrorEvent,
    InMemoryEventStore,
    StartEvent,
    TokenEvent,
    create_event_replayer,
    replay,
)
from l0core.record import (
    RecordingError,
    classify_failure,
    extract_text,
    record_iterator,
    record_stream,
)


class CountingStore(InMemoryEventStore):
    """Counts append_many calls; can be told to fail."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.fail = fail

    async def append_many(self, stream_id: str, events: Iterable[Any], **kw: Any) -> int:
        events = list(events)
        self.batches.append(len(events))
        if self.fail:
            raise OSError("disk full")
        return await super().append_many(stream_id, events, **kw)


def ticking_clock(start: float = 1_700_000_000_000.0, step: float = 7.0) -> Any:
    counter = itertools.count()
    return lambda: start + step * next(counter)


async def chunks(values: list[Any], *, fail_at: int | None = None,
                 error: BaseException | None = None) -> AsyncIterator[Any]:
    for i, value in enumerate(values):
        if fail_at is not None and i == fail_at:
            assert error is not None
            raise error
        await asyncio.sleep(0)
        yield value


TEXT = ["Idempotent", " requests", " can", " be", " retried", " safely", "."]


async def test_text_chunks_pass_through_and_are_recorded() -> None:
    store = InMemoryEventStore()
    seen = []
    rec = record_iterator(chunks(TEXT), store, "plain", prompt="When is a retry safe?",
                          model="gpt-4o-mini", metadata={"team": "api"}, checkpoint_every=3,
                          clock=ticking_clock())
    async for chunk in rec:
        seen.append(chunk)
    assert seen == TEXT

    events = [env.event for env in await store.get_events("plain")]
    assert isinstance(events[0], StartEvent)
    assert events[0].options.prompt == "When is a retry safe?"
    assert events[0].options.model == "gpt-4o-mini"
    assert events[0].options.metadata == {"team": "api"}
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert [t.value for t in tokens] == TEXT
    assert [t.index for t in tokens] == list(range(len(TEXT)))
    checkpoints = [e for e in events if isinstance(e, CheckpointEvent)]
    assert [(c.at, c.content) for c in checkpoints] == [
        (2, "".join(TEXT[:3])), (5, "".join(TEXT[:6]))]
    # each checkpoint follows the token that completes it
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("CheckpointEvent") == kinds.index("TokenEvent") + 3
    assert isinstance(events[-1], CompleteEvent)
    assert events[-1].content == "".join(TEXT)
    assert events[-1].token_count == len(TEXT)
    ts = [e.ts for e in events]
    assert ts == sorted(ts)

    state = await create_event_replayer(store).replay_to_state("plain")
    assert state.completed and state.content == "".join(TEXT)
    assert state.checkpoint == "".join(TEXT[:6])


def _openai_chunk(content: str | None, *, as_dict: bool, role: str | None = None) -> Any:
    delta: dict[str, Any] = {"content": content}
    if role:
        delta["role"] = role
    choice = {"index": 0, "delta": delta, "finish_reason": None if content else "stop"}
    if as_dict:
        return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [choice]}
    return SimpleNamespace(id="chatcmpl-1", choices=[
        SimpleNamespace(index=0, delta=SimpleNamespace(**delta), finish_reason=None)])


@pytest.mark.parametrize("as_dict", [True, False])
async def test_openai_style_chunks(as_dict: bool) -> None:
    words = ["SELECT", " name", " FROM", " users", ";"]
    source = (
        [_openai_chunk(None, as_dict=as_dict, role="assistant")]
        + [_openai_chunk(w, as_dict=as_dict) for w in words]
        + [_openai_chunk(None, as_dict=as_dict)]
        + [{"choices": [], "usage": {"completion_tokens": 5}} if as_dict
           else SimpleNamespace(choices=[], usage=SimpleNamespace(completion_tokens=5))]
    )
    store = InMemoryEventStore()
    received = [c async for c in record_iterator(chunks(source), store, "oai")]
    assert len(received) == len(source)
    assert all(a is b for a, b in zip(received, source, strict=True))  # the very same objects
    state = await create_event_replayer(store).replay_to_state("oai")
    assert state.content == "".join(words)
    assert state.token_count == len(words)
    assert state.completed


def test_extract_text_shapes() -> None:
    assert extract_text("hi") == "hi"
    assert extract_text({"choices": [{"delta": {"content": "a"}}]}) == "a"
    assert extract_text({"choices": [{"text": "legacy"}]}) == "legacy"
    assert extract_text({"choices": [{"delta": {}}]}) is None
    assert extract_text({"choices": []}) is None
    assert extract_text(42) is None


async def test_iterator_that_raises_midway_records_error_and_reraises() -> None:
    store = InMemoryEventStore()
    boom = ConnectionResetError("Connection reset by peer")
    received = []
    with pytest.raises(ConnectionResetError) as caught:
        async for chunk in record_iterator(chunks(TEXT, fail_at=4, error=boom), store, "boom"):
            received.append(chunk)
    assert caught.value is boom  # the caller sees the very same exception
    assert received == TEXT[:4]

    events = [env.event for env in await store.get_events("boom")]
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert last.error.name == "ConnectionResetError"
    assert last.error.message == "Connection reset by peer"
    assert last.error.stack and "ConnectionResetError" in last.error.stack
    assert last.failure_type == "network"
    assert last.recovery_strategy == "halt"
    assert last.policy == "default"
    assert not any(isinstance(e, CompleteEvent) for e in events)

    result = await replay("boom", store)
    state = await result.collect()
    assert state.error is not None and state.error.name == "ConnectionResetError"
    assert not state.completed
    assert state.content == "".join(TEXT[:4])
    assert state.token_count == 4


async def test_error_before_any_chunk() -> None:
    store = InMemoryEventStore()
    with pytest.raises(TimeoutError):
        async for _ in record_iterator(chunks(TEXT, fail_at=0, error=TimeoutError("no first "
                                                                               "token")), store,
                                       "zero"):
            pass
    events = [env.event for env in await store.get_events("zero")]
    assert [e.type for e in events] == ["START", "ERROR"]
    assert isinstance(events[1], ErrorEvent) and events[1].failure_type == "timeout"


async def test_breaking_out_early_records_abort_and_closes_source() -> None:
    store = InMemoryEventStore()
    closed = asyncio.Event()

    async def source() -> AsyncIterator[str]:
        try:
            for word in TEXT:
                yield word
        finally:
            closed.set()

    async with record_iterator(source(), store, "early") as rec:
        async for chunk in rec:
            if chunk == " be":
                break
    assert closed.is_set()
    events = [env.event for env in await store.get_events("early")]
    assert isinstance(events[-1], ErrorEvent) and events[-1].failure_type == "abort"
    assert [e.value for e in events if isinstance(e, TokenEvent)] == TEXT[:4]


async def test_cancelling_the_consumer_records_abort() -> None:
    store = InMemoryEventStore()
    started = asyncio.Event()

    async def stalls() -> AsyncIterator[str]:
        yield "partial"
        started.set()
        await asyncio.sleep(3600)
        yield "never"

    async def consume() -> None:
        async for _ in record_iterator(stalls(), store, "cancelled"):
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    events = [env.event for env in await store.get_events("cancelled")]
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].failure_type == "abort"
    assert events[-1].error.name == "CancelledError"


async def test_appends_are_batched() -> None:
    store = CountingStore()
    n = 2_000

    async def fast() -> AsyncIterator[str]:
        for i in range(n):
            yield f"t{i} "

    async for _ in record_iterator(fast(), store, "burst", checkpoint_every=0):
        pass
    events = await store.get_events("burst")
    assert len(events) == n + 2  # START, tokens, COMPLETE
    assert [e.seq for e in events] == list(range(n + 2))
    assert len(store.batches) < 10, store.batches  # not one round trip per token


async def test_store_failure_never_disturbs_the_stream() -> None:
    store = CountingStore(fail=True)
    received = [c async for c in record_iterator(chunks(TEXT), store, "lost")]
    assert received == TEXT
    strict_store = CountingStore(fail=True)
    with pytest.raises(RecordingError, match="disk full"):
        async for _ in record_iterator(chunks(TEXT), strict_store, "lost", strict=True):
            pass


async def test_context_manager_records_start_complete() -> None:
    store = InMemoryEventStore()
    async with record_stream(store, "ctx", model="gpt-4o", checkpoint_every=2,
                             clock=ticking_clock()) as rec:
        for word in ["Cache", " the", " plan", "."]:
            rec.token(word)
        assert rec.pending > 0 or rec.events_written > 0
    events = [env.event for env in await store.get_events("ctx")]
    assert isinstance(events[0], StartEvent) and events[0].options.model == "gpt-4o"
    assert isinstance(events[-1], CompleteEvent)
    assert events[-1].content == "Cache the plan."
    assert sum(isinstance(e, CheckpointEvent) for e in events) == 2


async def test_context_manager_records_error_and_propagates() -> None:
    store = InMemoryEventStore()

    class ProviderError(Exception):
        pass

    with pytest.raises(ProviderError, match="overloaded"):
        async with record_stream(store, "ctx-err") as rec:
            rec.token("Partial")
            raise ProviderError("upstream overloaded")
    state = await create_event_replayer(store).replay_to_state("ctx-err")
    assert state.error is not None and state.error.name == "ProviderError"
    assert state.content == "Partial" and not state.completed


async def test_context_manager_retry_continuation_fallback_fold() -> None:
    store = InMemoryEventStore()
    async with record_stream(store, "ctx-flow", checkpoint_every=2) as rec:
        for w in ["a", "b", "c"]:
            rec.token(w)
        rec.retry("network_error", counts_toward_limit=False, restart=False)
        rec.continuation()  # from the checkpoint "ab" at index 1
        rec.token("C")
        rec.retry("guardrail_violation")
        rec.token("x")
        rec.fallback()
        for w in ["F", "G"]:
            rec.token(w)
    events = [env.event for env in await store.get_events("ctx-flow")]
    cont = next(e for e in events if isinstance(e, ContinuationEvent))
    assert (cont.checkpoint, cont.at) == ("ab", 1)
    assert [e.index for e in events if isinstance(e, TokenEvent)] == [0, 1, 2, 2, 0, 0, 1]
    state = await create_event_replayer(store).replay_to_state("ctx-flow")
    assert state.content == "FG" and state.token_count == 2
    assert state.network_retry_count == 1 and state.retry_attempts == 1
    assert state.fallback_index == 1 and state.completed


async def test_recording_after_the_end_is_refused() -> None:
    store = InMemoryEventStore()
    async with record_stream(store, "ended") as rec:
        rec.complete("done", 0)
    with pytest.raises(RuntimeError):
        rec.token("late")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionResetError("reset"), "network"),
        (ConnectionRefusedError(111, "refused"), "network"),
        (TimeoutError(), "timeout"),
        (asyncio.CancelledError(), "abort"),
        (RuntimeError("upstream said: connection reset by peer"), "network"),
        (ValueError("bad JSON in tool call"), "unknown"),
        (type("ReadTimeout", (Exception,), {})("read"), "timeout"),
        (type("APIConnectionError", (Exception,), {})("x"), "network"),
    ],
)
def test_classify_failure(error: BaseException, expected: str) -> None:
    assert classify_failure(error) == expected


def test_classify_failure_follows_the_cause() -> None:
    try:
        try:
            raise ConnectionAbortedError("aborted")
        except ConnectionAbortedError as inner:
            raise RuntimeError("stream failed") from inner
    except RuntimeError as outer:
        assert classify_failure(outer) == "network"


def test_importing_the_helpers_does_not_import_the_l0_extra() -> None:
    code = ("import sys, l0core.record; "
            "print(sorted(m for m in ('l0', 'textual', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"
