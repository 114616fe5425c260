"""RedisEventStore against a real Redis: the conformance suite and its extras.

Every test gets its own key prefix; its keys are deleted afterwards. TTL is the
server's (PEXPIRE), so the suite's clock is replaced by real sleeps on a short TTL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from l0core import CompleteEvent
from l0core.errors import StoreConfigError
from l0core.stores.base import BaseEventStore, Clock, StorageAdapterConfig
from l0core.stores.registry import create_event_store
from l0core.testing import FakeClock, StoreConformance, tokens
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
    """The idempotency key at work: replaying a committed batch returns its seq."""
    from l0core.codec import dumps, encode_event

    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    try:
        await store.append_many("s", tokens(2))
        script = store._scripts["append"]
        keys = [store.get_stream_key("s"), store.get_snapshot_key("s"), store.get_index_key()]
        events = [dumps(encode_event(e)) for e in tokens(3, prefix="b")]

        async def call(retry: str) -> list[int]:
            return [int(x) for x in await script(keys=keys, args=["s", "1", 0, "batch-1", retry,
                                                                  60_000, *events])]

        assert await call("0") == [0, 4]
        await store.append_many("s", tokens(5, prefix="other"))  # others append meanwhile
        assert await call("1") == [2, 4]  # found: nothing written again
        assert [e.seq for e in await store.get_events("s")] == list(range(10))
    finally:
        await store.close()


async def test_drop_all_removes_the_prefix(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    store = await open_redis(url, prefix)
    try:
        await store.append_many("a", tokens(2))
        await store.append_many("b", tokens(2))
        assert await store.drop_all() == 3  # two streams and the index
        assert await store.list_streams() == []
    finally:
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
        finally:
            await store.close()
    finally:
        await admin.execute_command("ACL DELUSER", user)
        await admin.aclose()
