"""RedisEventStore against a real Redis: the conformance and catalog suites and extras.

Every test gets its own key prefix; its keys are deleted afterwards. TTL is the
server's (PEXPIRE), so the suite's clock is replaced by real sleeps on a short TTL.
The catalog's own tests: expiry removes summaries and their sorted-set members, a
stream written again after it expired, racing writers, stores written before the
catalog (scanned read-only, built writable), wake-ups, and, without a server, that
the append path's partial updates leave exactly the records of the summary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l0core import CompleteEvent
from l0core.errors import StoreConfigError
from l0core.stores.base import BaseEventStore, Clock, StorageAdapterConfig
from l0core.stores.registry import create_event_store
from l0core.testing import FakeClock, StoreConformance, tokens
from tests.catalog_suite import CatalogSuite
from tests.core.strategies import event_lists
from tests.services import delete_redis_prefix, redis_url, unique_name

pytestmark = pytest.mark.services


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """(url, prefix): a fresh key prefix, its keys deleted after the test."""
    url = redis_url()
    prefix = unique_name("rd")
    yield url, prefix
    delete_redis_prefix(url, prefix)


async def open_redis(url: str, prefix: str, **kw: Any) -> Any:
    from l0core.stores.redis import RedisEventStore

    cfg = StorageAdapterConfig(type="redis", connection=url, prefix=prefix, **kw)
    return await RedisEventStore(cfg).open()


class TestRedisStore(StoreConformance):
    ttl_ms: ClassVar[int] = 800

    @pytest.fixture(autouse=True)
    def _prefix(self, redis_prefix: tuple[str, str]) -> None:
        self.url, self.prefix = redis_prefix

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        store: BaseEventStore = await open_redis(self.url, self.prefix, ttl=ttl)
        return store

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        peer: BaseEventStore = await open_redis(self.url, self.prefix, ttl=store.ttl)
        return peer

    async def advance(self, clock: FakeClock, ms: float) -> None:
        clock.now += ms
        await asyncio.sleep(ms / 1000)


class TestRedisCatalog(CatalogSuite):
    @pytest.fixture(autouse=True)
    def _prefix(self, redis_prefix: tuple[str, str]) -> None:
        self.url, self.prefix = redis_prefix

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        store: BaseEventStore = await open_redis(self.url, self.prefix, ttl=ttl)
        return store


async def test_create_event_store_from_url(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    store = await create_event_store(f"{url}?prefix={prefix}&max_connections=4")
    try:
        assert type(store).__name__ == "RedisEventStore"
        assert store.prefix == prefix
        assert await store.append_many("s", tokens(3)) == 2
        assert await store.list_streams() == ["s"]
        assert store.describe() == f"{url}?prefix={prefix}&max_connections=4"
    finally:
        await store.close()


async def test_plain_url_opens(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    store = await create_event_store({"type": "redis", "connection": url, "prefix": prefix})
    try:
        assert await store.append("s", tokens(1)[0]) == 0
    finally:
        await store.close()


async def test_entry_ids_are_derived_from_seq(redis_prefix: tuple[str, str]) -> None:
    """Redis itself refuses a second entry for a seq that exists."""
    import redis.asyncio
    import redis.exceptions

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    raw = redis.asyncio.Redis.from_url(url)
    try:
        await store.append_many("s", tokens(3))
        key = store.get_stream_key("s")
        ids = [eid for eid, _ in await raw.xrange(key)]
        assert ids == [b"0-1", b"0-2", b"0-3"]
        with pytest.raises(redis.exceptions.ResponseError, match="equal or smaller"):
            await raw.xadd(key, {"e": "{}"}, id="0-2")
        assert await raw.zscore(f"{prefix}:streams", "s") == float("inf")
    finally:
        await raw.aclose()
        await store.close()


async def test_ttl_sets_pexpire_on_every_key(redis_prefix: tuple[str, str]) -> None:
    import redis.asyncio

    from l0core import Snapshot

    url, prefix = redis_prefix
    store = await open_redis(url, prefix, ttl=60_000)
    raw = redis.asyncio.Redis.from_url(url)
    try:
        await store.append("s", tokens(1)[0])
        await store.save_snapshot(Snapshot(stream_id="s", seq=0, ts=1.0, content="c",
                                           token_count=1, checkpoint=""))
        for key in (store.get_stream_key("s"), store.get_snapshot_key("s")):
            assert 55_000 < await raw.pttl(key) <= 60_000
        # A store without TTL appending to the stream makes it permanent again.
        forever = await open_redis(url, prefix)
        await forever.append("s", tokens(1, start=1)[0])
        await forever.close()
        assert await raw.pttl(store.get_stream_key("s")) == -1
    finally:
        await raw.aclose()
        await store.close()


async def test_read_only_refuses_writes(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    rw = await open_redis(url, prefix)
    await rw.append_many("s", tokens(2))
    await rw.close()
    ro = await open_redis(url, prefix, read_only=True)
    try:
        assert await ro.list_streams() == ["s"]
        assert [e.seq for e in await ro.get_events("s")] == [0, 1]
        with pytest.raises(StoreConfigError, match="read-only"):
            await ro.append("s", tokens(1)[0])
    finally:
        await ro.close()


async def test_iter_batches_pages_a_long_stream(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    try:
        for start in range(0, 5000, 1000):
            await store.append_many("long", tokens(1000, start=start))
        seqs: list[int] = []
        sizes: list[int] = []
        async for batch in store.iter_batches("long", from_seq=10, batch_size=1000):
            sizes.append(len(batch))
            seqs.extend(e.seq for e in batch)
        assert seqs == list(range(10, 5000))
        assert max(sizes) == 1000
    finally:
        await store.close()


async def test_subscribe_is_woken_by_blocking_xread(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    writer = await open_redis(url, prefix)
    try:
        seen: list[int] = []

        async def follow() -> None:
            async for env in store.subscribe("live", poll_interval=30.0):
                seen.append(env.seq)

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.2)
        await writer.append("live", tokens(1)[0])
        await writer.append("live", CompleteEvent(ts=2, content="x", token_count=1))
        await asyncio.wait_for(task, timeout=5)
        assert seen == [0, 1]
    finally:
        await store.close()
        await writer.close()


async def test_retried_append_after_commit_is_not_duplicated(
    redis_prefix: tuple[str, str],
) -> None:
    """The idempotency key at work: replaying a committed batch returns its seq, and
    neither the events nor the summary count it twice."""
    from l0core.codec import dumps, encode_event
    from l0core.stores.redis import _empty_basis
    from tests.catalog_suite import assert_summary_matches_events

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    try:
        await store.append_many("s", tokens(2))
        basis = store._known["s"]
        wire = [encode_event(e) for e in tokens(3, prefix="b", start=2)]
        payload = [dumps(e) for e in wire]
        plan = store._plan("s", wire, basis)
        reply, _, _ = await store._send_append("s", plan, basis, 1, "batch-1", payload, False)
        assert [int(x) for x in reply] == [0, 4]
        await store.append_many("s", tokens(5, prefix="other", start=5))  # others append
        # The same batch again, marked as a retry (its first reply was lost): found.
        reply, _, _ = await store._send_append("s", plan, basis, 1, "batch-1", payload, True)
        assert [int(x) for x in reply] == [2, 4]
        # Not marked as a retry, from the old summary: refused as stale, nothing written.
        reply, _, _ = await store._send_append("s", plan, basis, None, "batch-2", payload,
                                               False)
        assert int(reply[0]) == 4 and int(reply[1]) == 9
        stale = store._plan("s", wire, _empty_basis("s"))
        reply, _, _ = await store._send_append("s", stale, _empty_basis("s"), None, "batch-3",
                                               payload, False)
        assert int(reply[0]) == 4
        assert [e.seq for e in await store.get_events("s")] == list(range(10))
        store._known.clear()
        await assert_summary_matches_events(store, "s")
    finally:
        await store.close()


async def test_drop_all_removes_the_prefix(redis_prefix: tuple[str, str]) -> None:
    import redis.asyncio

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    raw = redis.asyncio.Redis.from_url(url)
    try:
        await store.append_many("a", tokens(2))
        await store.append_many("b", tokens(2))
        before = [key async for key in raw.scan_iter(match=f"{prefix}:*")]
        assert await store.drop_all() == len(before) > 3  # streams, index, catalog
        assert [key async for key in raw.scan_iter(match=f"{prefix}:*")] == []
        assert await store.list_streams() == []
        assert await store.count_summaries() == 0
    finally:
        await raw.aclose()
        await store.close()


async def test_tui_opens_a_redis_url(redis_prefix: tuple[str, str]) -> None:
    from l0tui.app import L0TuiApp, open_store_readonly
    from l0tui.screens.browser import BrowserScreen
    from l0tui.screens.debugger import DebuggerScreen
    from tests.tui.conftest import settle
    from tests.tui.streams import STREAMS

    url, prefix = redis_prefix
    location = f"{url}?prefix={prefix}"
    writer = await create_event_store(location)
    name = sorted(STREAMS)[0]
    await writer.append_many(name, STREAMS[name]())
    await writer.close()
    store = await open_store_readonly(location)
    try:
        app = L0TuiApp(store, location=location)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, BrowserScreen)
            assert app.screen.shown_ids == [name]
            app.open_stream(name)
            await settle(pilot)
            assert isinstance(app.screen, DebuggerScreen) and app.screen.loaded
    finally:
        await store.close()


async def test_read_only_user_can_browse(redis_prefix: tuple[str, str]) -> None:
    """A Redis user limited to reading (no scripts, no writes) can open a read-only store."""
    import secrets
    from urllib.parse import urlsplit

    import redis.asyncio

    from l0core.catalog import SummaryQuery

    url, prefix = redis_prefix
    writer = await open_redis(url, prefix)
    await writer.append_many("s", tokens(3))
    await writer.close()
    parts = urlsplit(url)
    user, password = unique_name("ro"), secrets.token_hex(8)
    admin = redis.asyncio.Redis.from_url(url)
    await admin.execute_command("ACL SETUSER", user, "on", f">{password}", f"~{prefix}:*",
                                "+@read", "+time", "+ping", "+client")
    try:
        ro_url = f"redis://{user}:{password}@{parts.hostname}:{parts.port or 6379}{parts.path}"
        store = await open_redis(ro_url, prefix, read_only=True)
        try:
            assert await store.list_streams() == ["s"]
            assert [e.seq for e in await store.get_events("s")] == [0, 1, 2]
            assert [e.seq for e in await store.read_events("s", from_seq=1)] == [1, 2]
            batches = [b async for b in store.iter_batches("s", batch_size=2)]
            assert [[e.seq for e in b] for b in batches] == [[0, 1], [2]]
            last = await store.get_last_event("s")
            assert last is not None and last.seq == 2
            assert store._scripted_reads is False  # EVALSHA refused: plain XRANGE
            page = await store.query_summaries(SummaryQuery())
            assert [(s.stream_id, s.event_count) for s in page.items] == [("s", 3)]
            assert await store.count_summaries() == 1
            await store.wait_catalog_change(0.1)  # no SUBSCRIBE for this user: waits
        finally:
            await store.close()
    finally:
        await admin.execute_command("ACL DELUSER", user)
        await admin.aclose()


# ── the catalog's Redis side ──


async def _members_naming(raw: Any, prefix: str, stream_id: str) -> list[tuple[bytes, bytes]]:
    """(set, member) for every catalog set member that ends with ``stream_id``."""
    out = []
    async for key in raw.scan_iter(match=f"{prefix}:cat:*"):
        for member in await raw.zrange(key, 0, -1):
            if member.endswith(stream_id.encode()):
                out.append((key, member))
    return out


async def test_ttl_expiry_removes_summaries_and_their_entries(
    redis_prefix: tuple[str, str],
) -> None:
    import redis.asyncio

    from l0core.catalog import SummaryFilter, SummaryQuery

    url, prefix = redis_prefix
    store = await open_redis(url, prefix, ttl=600)
    raw = redis.asyncio.Redis.from_url(url)
    try:
        await store.append_many("old", [*tokens(2), CompleteEvent(ts=5, content="x",
                                                                  token_count=2)])
        assert len(await _members_naming(raw, prefix, "old")) == 11 + 1  # o:* and f:model:
        await asyncio.sleep(0.4)
        await store.append("fresh", tokens(1)[0])
        await asyncio.sleep(0.4)  # "old" has expired, "fresh" not yet
        # Read before any sweep: the expired summary is hidden, its entries still there.
        assert await store.get_summary("old") is None
        assert [s.stream_id for s in (await store.query_summaries(SummaryQuery())).items] == [
            "fresh"]
        assert await store.count_summaries() == 1
        done = SummaryFilter(status=frozenset({"completed"}))
        assert await store.count_summaries(done) == 0
        # The reads above swept what they met; nothing of "old" is left.
        assert await _members_naming(raw, prefix, "old") == []
        assert await raw.exists(store.keys.summary("old"), store.keys.content("old")) == 0
        assert await raw.zscore(store.get_index_key(), "old") is None
        assert await store.list_streams() == ["fresh"]
    finally:
        await raw.aclose()
        await store.close()


async def test_sweep_removes_what_no_read_met(redis_prefix: tuple[str, str]) -> None:
    import redis.asyncio

    url, prefix = redis_prefix
    store = await open_redis(url, prefix, ttl=300)
    raw = redis.asyncio.Redis.from_url(url)
    try:
        for i in range(5):
            await store.append(f"gone-{i}", tokens(1)[0])
        await asyncio.sleep(0.5)
        assert await store.sweep_expired() == 5
        assert await store.sweep_expired() == 0
        for i in range(5):
            assert await _members_naming(raw, prefix, f"gone-{i}") == []
        assert [k async for k in raw.scan_iter(match=f"{prefix}:summary:*")] == []
    finally:
        await raw.aclose()
        await store.close()


async def test_a_stream_recreated_after_expiry_has_one_summary(
    redis_prefix: tuple[str, str],
) -> None:
    """The expired stream's summary was not swept yet when the new one starts."""
    import redis.asyncio

    from l0core import SerializedOptions, StartEvent
    from tests.catalog_suite import assert_summary_matches_events

    url, prefix = redis_prefix
    store = await open_redis(url, prefix, ttl=300, options={"sweep_interval": 3600})
    raw = redis.asyncio.Redis.from_url(url)
    try:
        await store.append_many("s", [StartEvent(ts=1, options=SerializedOptions(model="a")),
                                      CompleteEvent(ts=2, content="first", token_count=0)])
        await asyncio.sleep(0.5)
        assert await raw.exists(store.keys.summary("s")) == 1  # left by the expired one
        await store.append("s", StartEvent(ts=10, options=SerializedOptions(model="b")))
        await assert_summary_matches_events(store, "s")
        members = await _members_naming(raw, prefix, "s")
        # a running stream has no members ordered by the fields a TOKEN moves
        assert len(members) == 8
        assert {key for key, _ in members} == {
            *(f"{prefix}:cat:o:running:{f}".encode() for f in (
                "start_ts", "end_ts", "retries", "violation_count", "fallback_index", "model",
                "stream_id")),
            f"{prefix}:cat:f:model:b".encode()}
        assert await raw.exists(store.keys.content("s")) == 0
    finally:
        await raw.aclose()
        await store.close()


async def test_writers_that_race_keep_one_exact_summary(redis_prefix: tuple[str, str]) -> None:
    """Each store remembers the summary of its last append; another store's append in
    between makes the script send back the current one, and the append is redone."""
    from l0core import ErrorEvent, SerializedError
    from tests.catalog_suite import assert_summary_matches_events

    url, prefix = redis_prefix
    a, b = await open_redis(url, prefix), await open_redis(url, prefix)
    try:
        await a.append_many("s", tokens(3))
        await b.append("s", tokens(1, start=3)[0])
        await a.append("s", tokens(1, start=4)[0])  # stale basis: resent from b's summary
        await b.append("s", ErrorEvent(ts=9, error=SerializedError(name="E", message="boom"),
                                       failure_type="network", recovery_strategy="halt",
                                       policy="default"))
        await a.append("s", tokens(1, start=5, prefix="late")[0])  # after the end
        for store in (a, b):
            await assert_summary_matches_events(store, "s")
        summary = await a.get_summary("s")
        assert summary is not None and summary.status == "error" and summary.event_count == 7
        from l0core.catalog import SummaryFilter, SummaryQuery

        hits = await a.query_summaries(SummaryQuery(filter=SummaryFilter(text="T1 late0")))
        assert [s.stream_id for s in hits.items] == ["s"]
    finally:
        await a.close()
        await b.close()


def _old_layout(client: Any, prefix: str, stream_id: str, events: list[Any],
                batch: int = 3) -> None:
    """What this store wrote before the catalog: entries, batch ids, the index."""
    from l0core.codec import dumps, encode_event

    key = f"{prefix}:stream:{stream_id}"
    for i, event in enumerate(events):
        fields: dict[str, Any] = {"e": dumps(encode_event(event))}
        if i % batch == batch - 1 or i == len(events) - 1:
            fields.update(b=f"{i:016x}", t="1700000000000")
        client.xadd(key, fields, id=f"0-{i + 1}")
    client.zadd(f"{prefix}:streams", {stream_id: float("inf")})


async def test_a_store_written_before_the_catalog(redis_prefix: tuple[str, str]) -> None:
    """Read-only: scanned; writable: built once (with progress), then kept."""
    import redis

    from l0core.catalog import SummaryFilter
    from tests.catalog_suite import assert_summary_matches_events, catalog_streams

    url, prefix = redis_prefix
    streams = dict(list(catalog_streams().items())[:12])
    sync = redis.Redis.from_url(url)
    try:
        for sid, events in streams.items():
            _old_layout(sync, prefix, sid, events)
    finally:
        sync.close()
    errors = SummaryFilter(status=frozenset({"error"}))
    ro = await open_redis(url, prefix, read_only=True)
    try:
        assert not ro.keeps_summaries
        expected = await ro.count_summaries(errors)
        assert expected > 0
    finally:
        await ro.close()
    rw = await open_redis(url, prefix)
    try:
        assert rw.keeps_summaries
        seen: list[tuple[int, int]] = []
        assert await rw.build_catalog(lambda done, total: seen.append((done, total))) == 12
        assert seen[-1] == (12, 12)
        assert await rw.count_summaries(errors) == expected
        for sid in streams:
            await assert_summary_matches_events(rw, sid)
        assert await rw.build_catalog() == 12  # again: nothing to do, nothing changes
    finally:
        await rw.close()
    ro = await open_redis(url, prefix, read_only=True)
    try:
        assert ro.keeps_summaries
        assert await ro.count_summaries(errors) == expected
    finally:
        await ro.close()


async def test_appending_to_a_stream_without_summary_folds_it_once(
    redis_prefix: tuple[str, str],
) -> None:
    """A writer that kept no summary (an older version) appended after the catalog
    was built: the next append folds the stream and puts it right."""
    import redis

    from tests.catalog_suite import assert_summary_matches_events

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)  # empty prefix: catalog built
    try:
        await store.append_many("s", tokens(4))
        sync = redis.Redis.from_url(url)
        try:
            _old_layout(sync, prefix, "legacy", tokens(5))
            sync.xadd(f"{prefix}:stream:s", {"e": b'{"type":"TOKEN","ts":1,"value":"x",'
                                             b'"index":4}', "b": "f" * 16, "t": "1"},
                      id="0-5")
        finally:
            sync.close()
        await store.append("legacy", tokens(1, start=5)[0])
        await store.append("s", tokens(1, start=5)[0])
        for sid in ("legacy", "s"):
            await assert_summary_matches_events(store, sid)
        assert await store.count_summaries() == 2
    finally:
        await store.close()


async def test_catalog_followers_are_woken_by_the_append_script(
    redis_prefix: tuple[str, str],
) -> None:
    url, prefix = redis_prefix
    follower = await open_redis(url, prefix, read_only=True)
    writer = await open_redis(url, prefix)
    try:
        before = await follower.catalog_version()
        waiting = asyncio.create_task(follower.wait_catalog_change(60.0))
        await asyncio.sleep(0.3)  # subscribed
        assert not waiting.done()
        await writer.append("s", tokens(1)[0])
        await asyncio.wait_for(waiting, timeout=10)
        assert await follower.catalog_version() != before
    finally:
        await follower.close()
        await writer.close()


# ── the catalog records, without a server ──

def _apply(sets: dict[str, set[str]], changes: list[tuple[str, str]]) -> None:
    for name, op in changes:
        members = sets.setdefault(name, set())
        if op[0] == "+":
            members.add(op[1:])
        elif op[0] == "-":
            members.remove(op[1:])
        else:
            size, _, rest = op[1:].partition(":")
            old = rest.encode()[:int(size)].decode()
            members.remove(old)
            members.add(rest[len(old):])


@given(streams=st.lists(event_lists(min_size=1, max_size=25), min_size=1, max_size=3),
       data=st.data())
@settings(max_examples=150, deadline=None)
def test_changes_batch_by_batch_rebuild_the_summary_and_its_sets(
    streams: list[list[Any]], data: st.DataObject,
) -> None:
    """The append path encodes only what changed; the hash fields and sets it leaves
    behind are exactly those of the summary (as if written from scratch)."""
    from l0core.catalog.summary import StreamSummary, advance_summary
    from l0core.codec import encode_event
    from l0core.stores.redis_catalog import (
        index_entries,
        summary_changes,
        summary_from_hash,
        token_changes,
    )

    sets: dict[str, set[str]] = {}
    finals = []
    for n, events in enumerate(streams):
        summary = StreamSummary(stream_id=f"s{n}")
        entries: dict[str, str] = {}
        stored: dict[bytes, bytes] = {}
        rewrite = True
        i = 0
        while i < len(events):
            size = data.draw(st.integers(1, 4))
            wire = [encode_event(e) for e in events[i:i + size]]
            i += size
            after = summary.copy()
            advance_summary(after, wire)
            changes = summary_changes(summary, after, entries, rewrite)
            if not rewrite and all(ev["type"] == "TOKEN" for ev in wire):
                fast = token_changes(summary, after, entries)  # the append path's shortcut
                assert (fast.entries, sorted(fast.sets)) == (changes.entries,
                                                             sorted(changes.sets))
                assert dict(zip(fast.fields[::2], fast.fields[1::2], strict=True)) == dict(
                    zip(changes.fields[::2], changes.fields[1::2], strict=True))
            if rewrite:
                stored = {}
            for k in range(0, len(changes.fields), 2):
                name, value = changes.fields[k], changes.fields[k + 1]
                stored[str(name).encode()] = value if isinstance(value, bytes) else \
                    value.encode()
            assert summary_from_hash(after.stream_id, stored)[0] == after
            assert changes.entries == index_entries(after)
            _apply(sets, changes.sets)
            summary, entries, rewrite = after, changes.entries, False
        finals.append(summary)
    want: dict[str, set[str]] = {}
    for summary in finals:
        for name, value in index_entries(summary).items():
            want.setdefault(name, set()).add(value)
    assert {k: v for k, v in sets.items() if v} == want


@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2,
                       max_size=20) | st.lists(st.integers(-(2**63), 2**63), min_size=2,
                                                 max_size=20) | st.lists(
    st.text(alphabet="a\x00\x01b\u00e9\U0001f600", max_size=4), min_size=2, max_size=20))
def test_member_bytes_sort_like_the_reference(values: list[Any]) -> None:
    """(value, stream id) tuples sort as their members' bytes do, ties by stream id."""
    from l0core.stores.redis_catalog import member, stream_id_of

    field = ("duration_ms" if isinstance(values[0], float) else
             "token_count" if isinstance(values[0], int) else "model")
    rows = [(v, f"id{i % 3}") for i, v in enumerate(values)]
    by_bytes = sorted(rows, key=lambda r: member(field, r[0], r[1]).encode())
    assert by_bytes == sorted(rows)  # -0.0 == 0.0 in both
    for value, sid in rows:
        assert stream_id_of(field, member(field, value, sid).encode()) == sid


_LIVE = ("last_ts", "duration_ms", "event_count", "token_count")


async def test_a_stream_joins_the_live_field_sets_when_it_ends(
    redis_prefix: tuple[str, str],
) -> None:
    """A TOKEN to a running stream moves no sorted set; the end puts it in all of them."""
    import redis.asyncio

    from l0core.catalog import SummaryQuery

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    raw = redis.asyncio.Redis.from_url(url)
    try:
        await store.append_many("s", tokens(3))
        await store.append_many("t", tokens(5))
        running = {key for key, _ in await _members_naming(raw, prefix, "s")}
        assert not {f"{prefix}:cat:o:running:{f}".encode() for f in _LIVE} & running
        page = await store.query_summaries(SummaryQuery(order="token_count", descending=True))
        assert [s.stream_id for s in page.items] == ["t", "s"]
        await store.append("s", CompleteEvent(ts=9, content="abc", token_count=3))
        ended = {key for key, _ in await _members_naming(raw, prefix, "s")}
        assert {f"{prefix}:cat:o:completed:{f}".encode() for f in _LIVE} <= ended
        assert len(ended) == 12 and not any(b":o:running:" in key for key in ended)
        await store.append_many("t", tokens(3))
        page = await store.query_summaries(SummaryQuery(order="token_count", descending=True))
        assert [s.stream_id for s in page.items] == ["t", "s"]
    finally:
        await raw.aclose()
        await store.close()


async def test_a_writable_open_drops_the_running_live_sets_of_an_older_store(
    redis_prefix: tuple[str, str],
) -> None:
    """Stores written before running streams left those sets still hold them."""
    import redis.asyncio

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    legacy = store.keys.cat(0, "o:running:token_count")
    meta = store.keys.meta()
    await store.append_many("s", tokens(2))
    await store.close()
    raw = redis.asyncio.Redis.from_url(url)
    try:
        await raw.zadd(legacy, {"00000000000000003s": 0})
        await raw.hdel(meta, "running_unsorted")
        reader = await open_redis(url, prefix, read_only=True)
        await reader.close()
        assert await raw.exists(legacy) == 1  # a read-only open writes nothing
        writer = await open_redis(url, prefix)
        await writer.close()
        assert await raw.exists(legacy) == 0
        assert await raw.hget(meta, "running_unsorted") == b"1"
    finally:
        await raw.aclose()


async def test_writers_beyond_the_pool_take_turns(redis_prefix: tuple[str, str]) -> None:
    """More writers than connections queue in order: none is left waiting (the pool
    alone let a writer that just finished take the connection again, so another could
    wait out its timeout: "No connection available")."""
    url, prefix = redis_prefix
    store = await open_redis(url, prefix, options={"max_connections": 1})
    done = [0] * 24

    async def writer(k: int) -> None:
        for event in tokens(150):
            await store.append(f"w{k}", event)
            done[k] += 1

    try:
        tasks = [asyncio.create_task(writer(k)) for k in range(len(done))]
        finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        spread = sorted(done)
        await asyncio.gather(*tasks)
        assert all(t.exception() is None for t in finished)
        assert spread[0] >= 140, spread  # when the first writer is done, so nearly is every one
        assert done == [150] * len(done)
    finally:
        await store.close()


def test_the_packed_fields_split_the_summary_where_a_token_stops() -> None:
    """An append rewrites the packed stable fields only when a field past the split
    changed; the split must fall exactly between what a TOKEN moves and the rest."""
    from l0core.stores import redis_catalog as rc

    live = set(rc._SCALARS[:rc._FIRST_STABLE])
    assert live == set(rc.LIVE_FIELDS)
    assert set(rc._SCALARS[rc._FIRST_STABLE:]) == set(rc.STABLE_FIELDS)


async def test_hashes_without_the_packed_fields_are_listed_from_their_fields(
        redis_prefix: tuple[str, str]) -> None:
    """Summary hashes an older writer kept (no packed fields) list as before: a page
    with one of them is read field by field, and equals the packed page."""
    from l0core.catalog import SummaryQuery
    from l0core.stores.redis_catalog import LIVE_PACKED_FIELD, PACKED_FIELD

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    try:
        for i in range(5):
            await store.append_many(f"s{i}", [*tokens(2 + i, ts=1000.0 + i)])
            if i % 2:
                await store.append(f"s{i}", CompleteEvent(ts=2000.0 + i, content="x",
                                                          token_count=2 + i))
        query = SummaryQuery(order="duration_ms", descending=True)
        packed_page = await store.query_summaries(query)
        await store._client.hdel(store.keys.summary("s3"), PACKED_FIELD, LIVE_PACKED_FIELD)
        old_page = await store.query_summaries(query)
        assert old_page.items == packed_page.items
        assert sorted(s.stream_id for s in old_page.items) == [f"s{i}" for i in range(5)]
        assert [s.status for s in old_page.items].count("completed") == 2
    finally:
        await store.close()


async def test_a_page_of_summaries_survives_the_gather_script(
        redis_prefix: tuple[str, str]) -> None:
    """A page of summaries is read by one GATHER call, which writes JSON on the server:
    quotes, backslashes, control characters and non-ASCII text come back exactly, and
    the page equals the hashes read one by one (the path clusters take, and the one a
    reply that is not JSON falls back to)."""
    from l0core.catalog import SummaryQuery
    from l0core.events import ErrorEvent, SerializedError, SerializedOptions, StartEvent
    from l0core.stores.redis_catalog import LIVE_PACKED_FIELD, live_packed, summary_from_hash

    url, prefix = redis_prefix
    awkward = ["plain", 'say "hi"', "back\\slash", "line\nbreak\ttab\x01\x1f\x7f",
               "ünï 😀 \u2028", "/a/b/", "{\"k\": [1]}"]
    store = await open_redis(url, prefix)
    try:
        for i, text in enumerate(awkward):
            await store.append_many(f"s{i}", [
                StartEvent(ts=1000.0 + i, options=SerializedOptions(model=text, prompt=text)),
                *tokens(2, ts=1001.5 + i),
                ErrorEvent(ts=1003.25 + i, error=SerializedError(name="E", message=text),
                           failure_type=text, recovery_strategy="halt", policy={})])
        await store.append_many("running", tokens(3))
        calls_before = await _evalsha_calls(store)
        page = await store.query_summaries(SummaryQuery(order="stream_id", descending=False))
        assert await _evalsha_calls(store) > calls_before
        raw = store._client
        by_hash = [summary_from_hash(s.stream_id, await raw.hgetall(store.keys.summary(
            s.stream_id)))[0] for s in page.items]
        assert page.items == by_hash
        got = {s.stream_id: s for s in page.items}
        for i, text in enumerate(awkward):
            s = got[f"s{i}"]
            assert (s.model, s.prompt_head, s.error_head, s.failure_type) == (text,) * 4
            assert s.options["prompt"] == text and s.status == "error"
            assert (s.start_ts, s.end_ts, s.event_count, s.last_seq) == (
                1000.0 + i, 1003.25 + i, 4, 3)
        assert got["running"].status == "running" and got["running"].token_count == 3
        # A value JSON cannot carry (written by hand here, in the field and in the packed
        # live fields as the writer would write it) sends the page to the hashes.
        s0 = got["s0"]
        await raw.hset(store.keys.summary("s0"), mapping={
            "durationMs": "inf",
            LIVE_PACKED_FIELD: live_packed(s0.last_ts, float("inf"), s0.event_count,
                                           s0.token_count)})
        again = await store.query_summaries(SummaryQuery(order="stream_id", descending=False))
        assert [s.stream_id for s in again.items] == [s.stream_id for s in page.items]
        for before, after in zip(page.items, again.items, strict=True):
            if after.stream_id == "s0":
                assert after.duration_ms == float("inf")
            else:
                assert after == before
    finally:
        await store.close()


async def _evalsha_calls(store: Any) -> int:
    stats = await store._client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
