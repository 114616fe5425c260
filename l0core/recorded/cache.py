"""``get_or_replay``: the spec's caching pattern, a recording per key.

The spec's "Caching / Deduplication" use case: when the store already has the
key, replay its recording instead of calling the model; otherwise call it and
record the call under the key, so the next call is a replay. Both paths return
the same thing, the state folded from the stored events, so a caller cannot
tell a hit from a miss except by :attr:`CachedResult.replayed`.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from l0core.events import ErrorEvent, SerializedOptions
from l0core.fold import ReplayedState
from l0core.record.iterator import extract_text, record_iterator
from l0core.recorded.sync import run_sync
from l0core.replay import Sleep, create_event_replayer, replay
from l0core.stores.base import BaseEventStore, Clock

__all__ = ["CachedResult", "Produced", "cache_key", "get_or_replay", "get_or_replay_sync"]

Produced = str | AsyncIterable[Any] | Iterable[Any]
"""What ``produce`` gives: the whole text, or the chunks of a stream (text, or SDK chunks
that ``extract`` reads), possibly behind an awaitable (``AsyncOpenAI...create``)."""


def cache_key(*parts: str, prefix: str = "l0c") -> str:
    """A stream id for the parts of a request (prompt, model, ...): ``prefix`` + SHA-256.

    Stream ids are limited to ``[A-Za-z0-9_-]``, so a prompt cannot be the key itself.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}_{digest[:40]}"


@dataclass(frozen=True, slots=True)
class CachedResult:
    """The outcome: the state of the stream under ``stream_id`` and whether it was replayed."""

    stream_id: str
    state: ReplayedState
    replayed: bool

    @property
    def content(self) -> str:
        return self.state.content


async def _chunks(produce: Callable[[], Any]) -> AsyncIterator[Any]:
    """``produce()``'s chunks as one async iterator; a raise in ``produce`` is a chunk-time
    raise too, so the recording gets its ERROR."""
    made = produce()
    if inspect.isawaitable(made):
        made = await made
    if isinstance(made, str):
        yield made
    elif isinstance(made, AsyncIterable):
        async for chunk in made:
            yield chunk
    elif isinstance(made, list | tuple):
        for chunk in made:
            yield chunk
    elif isinstance(made, Iterable):  # a blocking stream (a sync SDK): off the loop's thread
        it = iter(made)
        done = object()
        while (chunk := await asyncio.to_thread(next, it, done)) is not done:
            yield chunk
    else:
        raise TypeError(f"produce() returned {type(made).__name__}: expected a str or an "
                        "(async) iterable of chunks")


async def get_or_replay(
    store: BaseEventStore,
    key: str,
    produce: Callable[[], Produced | Awaitable[Produced]],
    *,
    prompt: str | None = None,
    model: str | None = None,
    options: SerializedOptions | Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    extract: Callable[[Any], str | None] = extract_text,
    on_token: Callable[[str], None] | None = None,
    retry_failed: bool = True,
    speed: float = 0,
    sleep: Sleep | None = None,
    clock: Clock | None = None,
) -> CachedResult:
    """Replay ``key`` from ``store`` if it is there, else run ``produce`` and record it.

    ``produce`` is called only on a miss; its chunks are recorded under ``key``
    (START with ``prompt``/``model``/``options``/``metadata``, a TOKEN per chunk
    with text, COMPLETE) and an exception it raises is recorded as ERROR and
    propagates. A stored recording that ended in ERROR is a miss when
    ``retry_failed`` (it is deleted and produced again), so one failure is not
    cached for ever. ``on_token`` sees each token on both paths; ``speed`` and
    ``sleep`` pace a replay as :func:`l0core.replay.replay` does.
    """
    if await store.exists(key):
        last = await store.get_last_event(key)
        if retry_failed and last is not None and isinstance(last.event, ErrorEvent):
            await store.delete(key)
        else:
            result = await replay(key, store, speed=speed, sleep=sleep)
            if on_token is not None:
                result.set_callbacks(on_token=on_token)
            return CachedResult(key, await result.collect(), replayed=True)
    recording = record_iterator(_chunks(produce), store, key, options=options, prompt=prompt,
                                model=model, metadata=metadata, extract=extract, clock=clock,
                                strict=True)
    async with recording:
        async for chunk in recording:
            if on_token is not None and (text := extract(chunk)):
                on_token(text)
    state = await create_event_replayer(store).replay_to_state(key)
    return CachedResult(key, state, replayed=False)


def get_or_replay_sync(
    store: BaseEventStore,
    key: str,
    produce: Callable[[], Produced],
    *,
    prompt: str | None = None,
    model: str | None = None,
    options: SerializedOptions | Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    extract: Callable[[Any], str | None] = extract_text,
    on_token: Callable[[str], None] | None = None,
    retry_failed: bool = True,
    clock: Clock | None = None,
) -> CachedResult:
    """:func:`get_or_replay` for synchronous code: ``produce`` returns a str or an iterable
    (a sync SDK stream). Use a store not bound to an event loop (memory, file, SQLite)."""
    return run_sync(lambda: get_or_replay(
        store, key, produce, prompt=prompt, model=model, options=options, metadata=metadata,
        extract=extract, on_token=on_token, retry_failed=retry_failed, clock=clock))
