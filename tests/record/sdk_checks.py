"""What every SDK recording test checks: the recording replays to what the caller saw.

The caller's text is collected from the SDK's own objects, the way an
application reads them; the recording is read back through ``l0core.replay``
(the envelopes) and the fold (``replay_to_state``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from l0core.events import CompleteEvent, ErrorEvent, RecordedEvent, StartEvent, TokenEvent
from l0core.record.provider_sse import ApiError
from l0core.replay import EventReplayer
from l0core.stores.base import BaseEventStore
from l0core.testing.fake_provider import Reply

TEXTS = ("Hel", "lo", ", wör", "ld 🙂", "!")
OVERLOADED = ApiError("Overloaded", "overloaded_error", status=529)

SCENARIOS = ("normal", "cut", "error", "break")
"""A whole stream; the connection cut after 2 texts; an API error event after 2;
the caller stopping after 2."""


def reply_for(scenario: str) -> Reply:
    if scenario == "cut":
        return Reply(texts=TEXTS, cut_after=2)
    if scenario == "error":
        return Reply(texts=TEXTS, error_after=2, error=OVERLOADED)
    return Reply(texts=TEXTS)


EXPECTED: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "normal": (TEXTS, None, None),
    "cut": (TEXTS[:2], "network", None),
    "error": (TEXTS[:2], "model", OVERLOADED.type),
    "break": (TEXTS[:2], "abort", "closed_early"),
}
"""Per scenario: the texts the caller sees, the failure type and error code recorded."""


@dataclass
class Seen:
    """What the caller got from the SDK."""

    stream_id: str
    texts: list[str] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)
    error: BaseException | None = None


TextOf = Callable[[Any], "str | None"]


def read_sync(rec: Any, text_of: TextOf, *, stop_after: int | None = None,
              use_with: bool = True, attr: str | None = None) -> Seen:
    """Read a sync recorded stream as an application would (``with`` + ``for``).

    ``attr`` reads that attribute of the stream instead (``text_stream``).
    """
    seen = Seen(rec.recording.stream_id)

    def loop(stream: Any) -> None:
        items: Iterator[Any] = getattr(stream, attr) if attr else stream
        for item in items:
            seen.items.append(item)
            text = text_of(item)
            if text:
                seen.texts.append(text)
            if stop_after is not None and len(seen.texts) == stop_after:
                break

    try:
        if use_with:
            with rec as stream:
                loop(stream)
        else:
            loop(rec)
    except Exception as exc:
        seen.error = exc
    return seen


async def read_async(rec: Any, text_of: TextOf, *, stop_after: int | None = None,
                     use_with: bool = True, attr: str | None = None) -> Seen:
    """Read an async recorded stream (``async with`` + ``async for``)."""
    seen = Seen(rec.recording.stream_id)

    async def loop(stream: Any) -> None:
        items: AsyncIterator[Any] = getattr(stream, attr) if attr else stream
        async for item in items:
            seen.items.append(item)
            text = text_of(item)
            if text:
                seen.texts.append(text)
            if stop_after is not None and len(seen.texts) == stop_after:
                break

    try:
        if use_with:
            async with rec as stream:
                await loop(stream)
        else:
            await loop(rec)
            await rec.wait_recorded()
    except Exception as exc:
        seen.error = exc
    return seen


async def recorded(store: BaseEventStore, stream_id: str) -> list[RecordedEvent]:
    """The stream as ``l0core.replay`` gives it back."""
    return [env.event async for env in EventReplayer(store).replay(stream_id)]


async def check_replay(
    store: BaseEventStore,
    seen: Seen,
    *,
    failure_type: str | None,
    code: str | None = None,
) -> list[RecordedEvent]:
    """The recording holds exactly the caller's texts and ends as expected."""
    events = await recorded(store, seen.stream_id)
    assert isinstance(events[0], StartEvent)
    assert [e.value for e in events if isinstance(e, TokenEvent)] == seen.texts
    state = await EventReplayer(store).replay_to_state(seen.stream_id)
    assert state.content == "".join(seen.texts)
    assert state.token_count == len(seen.texts)
    terminals = [e for e in events if isinstance(e, CompleteEvent | ErrorEvent)]
    assert len(terminals) == 1 and terminals[0] is events[-1]
    last = events[-1]
    if failure_type is None:
        assert isinstance(last, CompleteEvent), last
        assert state.completed and state.error is None
        assert last.content == "".join(seen.texts)
    else:
        assert isinstance(last, ErrorEvent), last
        assert last.failure_type == failure_type
        assert not state.completed and state.error is not None
        if code is not None:
            assert last.error.code == code
    return events


async def check_scenario(store: BaseEventStore, seen: Seen, scenario: str, *,
                         error_raises: bool = True) -> list[RecordedEvent]:
    """``check_replay`` with the scenario's expectations, and what the caller saw."""
    texts, failure_type, code = EXPECTED[scenario]
    assert tuple(seen.texts) == texts
    raised = scenario == "cut" or (scenario == "error" and error_raises)
    assert (seen.error is not None) == raised, seen.error
    return await check_replay(store, seen, failure_type=failure_type, code=code)

