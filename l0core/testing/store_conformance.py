"""The store conformance suite: the tests every event store must pass.

A store is correct when it keeps the contract of ``BaseEventStore`` that the
debugger and the replay API rely on (docs/format.md, "append contract"): every
kind round-trips with unknown keys intact, seqs are 0..n-1 per stream across
tasks and threads, ``expected_seq`` conflicts, bad events and stream ids are
rejected before anything is written, TTL, snapshots and ``subscribe``. Our own
stores run exactly this suite; a third-party adapter (registered through the
``l0core.storage_adapters`` entry-point group) proves itself with it too.

How to use it: subclass :class:`StoreConformance` in a pytest test module (the
class name must start with ``Test``) and implement :meth:`~StoreConformance.open_store`::

    from l0core.testing import StoreConformance

    class TestMyStore(StoreConformance):
        async def open_store(self, *, ttl=0, clock=None):
            return MyStore("my://test-db", ttl=ttl, clock=clock)

Each test opens a fresh, empty store through it and closes it at the end, so
``open_store`` must hand back a store that holds no streams (a fresh directory,
schema or key prefix; an autouse fixture of the subclass can make one). Override
``open_peer`` when a second handle on the same data (used from another thread's
event loop) needs its own connection, ``advance`` when the store's TTL follows
the server's clock rather than the ``clock`` it is given, and set
``supports_snapshots = False`` for a store without snapshots.

The tests are ``async def``: run them with pytest-asyncio in auto mode, or put
``pytestmark = pytest.mark.asyncio`` on the subclass. This module never imports
pytest (the library does not depend on it): failures are plain ``assert``, an
expected error is checked by a small local ``_raises``, a skip is
:class:`unittest.SkipTest` (pytest reports it as a skip), and the parametrized
tests are spread over their cases by the class's ``pytest_generate_tests`` hook,
which pytest calls on test classes (a subclass that defines its own should call
``super().pytest_generate_tests(metafunc)``).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from unittest import SkipTest

from l0core.codec import encode_envelope
from l0core.errors import ConcurrencyConflictError, EventValidationError
from l0core.events import (
    CompleteEvent,
    ErrorEvent,
    EventEnvelope,
    GuardrailEvent,
    RetryEvent,
    SerializedError,
    Snapshot,
    StartEvent,
    TokenEvent,
)
from l0core.stores.base import BaseEventStore, BaseEventStoreWithSnapshots, Clock
from l0core.testing.samples import FakeClock, every_kind, tokens

__all__ = ["StoreConformance"]

_E = TypeVar("_E", bound=BaseException)
_F = TypeVar("_F", bound=Callable[..., Any])


class _Raised(Generic[_E]):
    """What :func:`_raises` caught: the exception is ``value`` once the block is left."""

    value: _E


@contextmanager
def _raises(kind: type[_E], *, match: str | None = None) -> Iterator[_Raised[_E]]:
    """Fail unless the block raises ``kind`` with a message ``re.search``-ing ``match``."""
    raised: _Raised[_E] = _Raised()
    try:
        yield raised
    except kind as exc:
        if match is not None and re.search(match, str(exc)) is None:
            raise AssertionError(
                f"{type(exc).__name__}({str(exc)!r}) does not match {match!r}"
            ) from exc
        raised.value = exc
    else:
        raise AssertionError(f"did not raise {kind.__name__}")


_CASES = "_store_conformance_cases"


def _cases(argnames: str | Sequence[str], values: Iterable[Any]) -> Callable[[_F], _F]:
    """Run a test once per value, as ``pytest.mark.parametrize`` does (without pytest)."""
    def mark(test: _F) -> _F:
        setattr(test, _CASES, (argnames, list(values)))
        return test

    return mark


class _Metafunc(Protocol):
    """The part of ``pytest.Metafunc`` that :meth:`StoreConformance.pytest_generate_tests` uses."""

    function: Callable[..., Any]

    def parametrize(self, argnames: str | Sequence[str], argvalues: Iterable[Any]) -> None: ...


def _wire(envelopes: list[EventEnvelope]) -> list[dict[str, Any]]:
    return [encode_envelope(e) for e in envelopes]


class StoreConformance:
    """The store contract as tests; a subclass says how to open its store."""

    supports_snapshots: ClassVar[bool] = True
    """False for a store without snapshots: the snapshot test is skipped."""
    ttl_ms: ClassVar[int] = 1_000
    """The TTL the TTL test gives the store (short, for a store that really waits)."""

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        """A new, empty store with this ``ttl`` (ms, 0: none) reading time from ``clock``."""
        raise NotImplementedError

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        """Another handle on the same data, usable from another thread's event loop."""
        return store

    async def close_peer(self, store: BaseEventStore, peer: BaseEventStore) -> None:
        """Close what :meth:`open_peer` returned (unless it is ``store`` itself)."""
        if peer is not store:
            await peer.close()

    async def advance(self, clock: FakeClock, ms: float) -> None:
        """Let ``ms`` milliseconds pass for TTL purposes."""
        clock.now += ms

    @asynccontextmanager
    async def opened_store(
        self, *, ttl: int = 0, clock: Clock | None = None
    ) -> AsyncIterator[BaseEventStore]:
        """:meth:`open_store`, closed when the block ends."""
        store = await self.open_store(ttl=ttl, clock=clock)
        try:
            yield store
        finally:
            await store.close()

    def pytest_generate_tests(self, metafunc: _Metafunc) -> None:
        """pytest's collection hook: spread each :func:`_cases` test over its cases."""
        found = getattr(metafunc.function, _CASES, None)
        if found is not None:
            argnames, values = found
            metafunc.parametrize(argnames, values)

    # ── round trips ──

    async def test_round_trip_every_kind(self) -> None:
        async with self.opened_store() as store:
            events = every_kind()
            for i, event in enumerate(events):
                assert await store.append("s1", event) == i
            got = await store.get_events("s1")
            assert [e.seq for e in got] == list(range(len(events)))
            assert all(e.stream_id == "s1" for e in got)
            assert _wire(got) == _wire([EventEnvelope("s1", i, e) for i, e in enumerate(events)])

    async def test_unknown_keys_survive(self) -> None:
        async with self.opened_store() as store:
            await store.append_many("s1", every_kind())
            got = await store.get_events("s1")
            start, guard, err = got[0].event, got[4].event, got[10].event
            assert isinstance(start, StartEvent)
            assert start.options.extra == {"futureOption": {"x": 1}}
            assert start.options.metadata == {"user": "u1", "nested": {"k": [1, 2.5, None, True]}}
            assert isinstance(guard, GuardrailEvent)
            assert guard.result.violations[0]["vendorField"] == {"a": "b"}
            assert guard.result.extra == {"checkedBy": "fast"}
            assert isinstance(err, ErrorEvent)
            assert err.error.metadata == {"elapsedMs": 5000, "extraDetail": ["a"]}
            assert err.policy == {"retryEnabled": True, "maxRetries": 3}

    async def test_append_accepts_wire_dicts_in_both_spellings(self) -> None:
        async with self.opened_store() as store:
            await store.append("s1", {"type": "RETRY", "ts": 5, "reason": "rate_limit",
                                      "attempt": 1, "countsTowardLimit": True})
            await store.append("s1", {"type": "RETRY", "ts": 6, "reason": "rate_limit",
                                      "attempt": 2, "counts_toward_limit": False})
            got = [e.event for e in await store.get_events("s1")]
            assert isinstance(got[0], RetryEvent) and got[0].counts_toward_limit is True
            assert isinstance(got[1], RetryEvent) and got[1].counts_toward_limit is False

    async def test_hostile_text_round_trips(self) -> None:
        async with self.opened_store() as store:
            nasty = "[bold]x[/] \x1b[31mred\x1b]0;title\x07 \x00\x7f 🧪 שלום \u202e evil \ud7ff"
            nasty += "y" * 70_000
            await store.append("s1", TokenEvent(ts=1, value=nasty, index=0))
            (got,) = await store.get_events("s1")
            assert isinstance(got.event, TokenEvent) and got.event.value == nasty

    # ── ordering, isolation, ranges ──

    async def test_seqs_are_contiguous_and_returned(self) -> None:
        async with self.opened_store() as store:
            assert await store.append("s1", tokens(1)[0]) == 0
            assert await store.append_many("s1", tokens(5, start=1)) == 5
            assert await store.append("s1", TokenEvent(ts=9, value="z", index=6)) == 6
            assert [e.seq for e in await store.get_events("s1")] == list(range(7))
            assert await store.get_last_seq("s1") == 6
            assert await store.get_event_count("s1") == 7

    async def test_streams_are_isolated(self) -> None:
        async with self.opened_store() as store:
            await store.append_many("a", tokens(3, prefix="a"))
            await store.append_many("b", tokens(2, prefix="b"))
            a, b = await store.get_events("a"), await store.get_events("b")
            assert [e.event.value for e in a] == ["a0", "a1", "a2"]  # type: ignore[union-attr]
            assert [e.event.value for e in b] == ["b0", "b1"]  # type: ignore[union-attr]
            assert [e.seq for e in b] == [0, 1]
            assert sorted(await store.list_streams()) == ["a", "b"]

    async def test_ranges(self) -> None:
        async with self.opened_store() as store:
            await store.append_many("s1", tokens(10))
            assert [e.seq for e in await store.read_events("s1", from_seq=3, to_seq=5)] == [3, 4, 5]
            assert [e.seq for e in await store.read_events("s1", from_seq=8)] == [8, 9]
            assert [e.seq for e in await store.read_events("s1", to_seq=1)] == [0, 1]
            assert await store.read_events("s1", from_seq=20) == []
            assert [e.seq for e in await store.get_events_after("s1", 6)] == [7, 8, 9]
            assert await store.get_events_after("s1", 9) == []
            assert [e.seq for e in await store.get_events_after("s1", -1)] == list(range(10))
            last = await store.get_last_event("s1")
            assert last is not None and last.seq == 9
            batches = [b async for b in store.iter_batches("s1", from_seq=2, batch_size=3)]
            assert [e.seq for b in batches for e in b] == list(range(2, 10))

    async def test_missing_stream_reads_empty(self) -> None:
        async with self.opened_store() as store:
            assert await store.get_events("nope") == []
            assert await store.get_last_event("nope") is None
            assert await store.get_last_seq("nope") == -1
            assert not await store.exists("nope")
            assert [b async for b in store.iter_batches("nope")] == []

    async def test_exists_delete_list(self) -> None:
        async with self.opened_store() as store:
            assert await store.list_streams() == []
            await store.append_many("keep", tokens(2))
            await store.append_many("drop", tokens(2))
            assert await store.exists("drop")
            await store.delete("drop")
            assert not await store.exists("drop")
            assert await store.get_events("drop") == []
            assert await store.list_streams() == ["keep"]
            await store.delete("never-existed")
            # A deleted stream starts again at seq 0.
            assert await store.append("drop", tokens(1)[0]) == 0

    # ── snapshots ──

    def _snap(self, seq: int, content: str = "c") -> Snapshot:
        return Snapshot(stream_id="s1", seq=seq, ts=1000.0 + seq, content=content,
                        token_count=seq + 1, checkpoint="", violations=[{"rule": "r", "n": seq}],
                        retry_attempts=seq % 3, start_ts=1.0, completed=False)

    async def test_snapshots_keep_every_seq(self) -> None:
        if not self.supports_snapshots:
            raise SkipTest("store keeps no snapshots")
        async with self.opened_store() as store:
            assert isinstance(store, BaseEventStoreWithSnapshots)
            await store.append_many("s1", tokens(12))
            assert await store.get_snapshot("s1") is None
            for seq in (5, 2, 9):
                await store.save_snapshot(self._snap(seq, content=f"at{seq}"))
            latest = await store.get_snapshot("s1")
            assert latest is not None and latest.seq == 9 and latest.content == "at9"
            before = await store.get_snapshot_before("s1", 7)
            assert before is not None and before.seq == 5 and before.content == "at5"
            exact = await store.get_snapshot_before("s1", 2)
            assert exact is not None and exact.seq == 2
            assert await store.get_snapshot_before("s1", 1) is None
            assert [s.seq for s in await store.list_snapshots("s1")] == [2, 5, 9]
            assert exact == self._snap(2, content="at2")
            # Same seq replaces.
            await store.save_snapshot(self._snap(5, content="again"))
            again = await store.get_snapshot_before("s1", 5)
            assert again is not None and again.content == "again"
            await store.delete("s1")
            assert await store.get_snapshot("s1") is None

    # ── TTL ──

    async def test_ttl_expires_quiet_streams(self) -> None:
        clock = FakeClock()
        async with self.opened_store(ttl=self.ttl_ms, clock=clock) as store:
            await store.append_many("old", tokens(3))
            await self.advance(clock, self.ttl_ms * 0.6)
            await store.append("fresh", tokens(1)[0])
            assert await store.exists("old")
            await self.advance(clock, self.ttl_ms * 0.6)
            assert not await store.exists("old")
            assert await store.get_events("old") == []
            assert await store.list_streams() == ["fresh"]
            assert len(await store.get_events("fresh")) == 1

    # ── concurrency control ──

    async def test_expected_seq_conflicts(self) -> None:
        async with self.opened_store() as store:
            assert await store.append("s1", tokens(1)[0], expected_seq=-1) == 0
            with _raises(ConcurrencyConflictError) as err:
                await store.append("s1", tokens(1)[0], expected_seq=-1)
            assert err.value.actual_last_seq == 0 and err.value.expected_seq == -1
            assert await store.append(
                "s1", TokenEvent(ts=1, value="b", index=1), expected_seq=0
            ) == 1
            with _raises(ConcurrencyConflictError) as err2:
                await store.append_many("s1", tokens(3), expected_seq=0)
            assert err2.value.actual_last_seq == 1
            assert await store.get_last_seq("s1") == 1
            assert await store.append_many("s1", tokens(3), expected_seq=1) == 4

    async def test_append_many_is_all_or_nothing(self) -> None:
        async with self.opened_store() as store:
            await store.append_many("s1", tokens(2))
            bad: list[Any] = [*tokens(3), {"type": "TOKEN", "ts": 1, "value": 5, "index": 0}]
            with _raises(EventValidationError, match=r"events\[3\]\.value"):
                await store.append_many("s1", bad)
            assert [e.seq for e in await store.get_events("s1")] == [0, 1]
            assert await store.append_many("s1", []) == 1

    # ── validation ──

    @_cases(
        ("event", "match"),
        [
            ({"type": "TOKEN_X", "ts": 1}, "unknown event type"),
            ({"ts": 1, "value": "x", "index": 0}, r"type: missing"),
            ({"type": "TOKEN", "ts": 1, "index": 0}, r"value: missing"),
            ({"type": "TOKEN", "ts": "now", "value": "x", "index": 0}, r"ts: expected a finite"),
            ({"type": "TOKEN", "ts": float("nan"), "value": "x", "index": 0}, r"ts"),
            ({"type": "TOKEN", "ts": 1, "value": "x", "index": True}, r"index: expected an int"),
            ({"type": "RETRY", "ts": 1, "reason": "r", "attempt": 1}, r"countsTowardLimit"),
            ({"type": "START", "ts": 1, "options": {"metadata": {"f": object()}}},
             r"options\.metadata\.f: object is not JSON"),
            ({"type": "GUARDRAIL", "ts": 1, "at": 0,
              "result": {"violations": [{"rule": {1, 2}}], "shouldRetry": False,
                         "shouldHalt": False}}, r"violations\[0\]\.rule"),
            ({"type": "ERROR", "ts": 1, "error": {"name": "E", "message": "m"},
              "failureType": "x", "recoveryStrategy": "y", "policy": 3}, r"policy"),
        ],
    )
    async def test_bad_events_are_rejected(self, event: dict[str, Any], match: str) -> None:
        async with self.opened_store() as store:
            with _raises(EventValidationError, match=match):
                await store.append("s1", event)
            assert await store.list_streams() == []
            assert not await store.exists("s1")

    async def test_typed_event_with_bad_field_is_rejected(self) -> None:
        async with self.opened_store() as store:
            bad = TokenEvent(ts=1, value=None, index=0)  # type: ignore[arg-type]
            with _raises(EventValidationError, match=r"event\.value"):
                await store.append("s1", bad)
            assert await store.list_streams() == []

    @_cases("stream_id", ["", "../etc/passwd", "a b", "x" * 201, "ü", "a/b", "a.json"])
    async def test_bad_stream_ids_are_rejected(self, stream_id: str) -> None:
        async with self.opened_store() as store:
            with _raises(EventValidationError, match="stream id"):
                await store.append(stream_id, tokens(1)[0])
            assert await store.list_streams() == []

    async def test_longest_valid_stream_id(self) -> None:
        async with self.opened_store() as store:
            sid = "A-_9" * 50
            assert await store.append(sid, tokens(1)[0]) == 0
            assert await store.list_streams() == [sid]

    # ── concurrent writers ──

    async def test_concurrent_tasks(self) -> None:
        async with self.opened_store() as store:
            async def writer(w: int) -> None:
                for i in range(40):
                    await store.append("s1", TokenEvent(ts=1, value=f"{w}:{i}", index=i))

            await asyncio.gather(*(writer(w) for w in range(8)))
            got = await store.get_events("s1")
            assert [e.seq for e in got] == list(range(320))
            _assert_each_writer_ordered(got, 8, 40)

    async def test_concurrent_threads(self) -> None:
        async with self.opened_store() as store:
            errors: list[BaseException] = []

            def run(w: int) -> None:
                async def go() -> None:
                    peer = await self.open_peer(store)
                    try:
                        for i in range(50):
                            await peer.append("s1", TokenEvent(ts=1, value=f"{w}:{i}", index=i))
                    finally:
                        await self.close_peer(store, peer)
                try:
                    asyncio.run(go())
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
            for t in threads:
                t.start()

            def join_all() -> None:
                for t in threads:
                    t.join()

            await asyncio.to_thread(join_all)
            assert errors == []
            got = await store.get_events("s1")
            assert [e.seq for e in got] == list(range(200))
            _assert_each_writer_ordered(got, 4, 50)

    # ── subscribe ──

    async def test_subscribe_catches_up_then_follows(self) -> None:
        async with self.opened_store() as store:
            await store.append_many("s1", tokens(5))
            seen: list[int] = []

            async def follow() -> None:
                async for env in store.subscribe("s1", poll_interval=0.01):
                    seen.append(env.seq)

            task = asyncio.create_task(follow())
            await asyncio.sleep(0.05)
            for ev in tokens(5, start=5):
                await store.append("s1", ev)
                await asyncio.sleep(0.005)
            await store.append("s1", CompleteEvent(ts=99, content="x", token_count=10))
            await asyncio.wait_for(task, timeout=10)
            assert seen == list(range(11))

    async def test_subscribe_after_seq_and_error_ends(self) -> None:
        async with self.opened_store() as store:
            await store.append_many("s1", tokens(4))
            await store.append("s1", ErrorEvent(ts=5, error=SerializedError(name="E", message="m"),
                                                failure_type="network", recovery_strategy="halt",
                                                policy="default"))
            seen = [env.seq async for env in store.subscribe("s1", after_seq=2, poll_interval=0.01)]
            assert seen == [3, 4]



def _assert_each_writer_ordered(envelopes: list[Any], writers: int, per: int) -> None:
    order: dict[str, list[int]] = {str(w): [] for w in range(writers)}
    for env in envelopes:
        w, i = env.event.value.split(":")
        order[w].append(int(i))
    assert all(seq == list(range(per)) for seq in order.values())
