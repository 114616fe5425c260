"""The Redis store against a Redis Cluster of its own (3 masters, 3 replicas, loopback).

- The conformance suite and the catalog suite, unchanged, on ``redis+cluster://``.
- One recording's keys (events, snapshots, summary, content, its shard's index and
  catalog sets) hash to one slot; recordings spread over the masters.
- Two seed nodes are enough: the client finds the rest.
- A master killed with SIGKILL mid-run: its replica takes over, the appends go on
  through retries, every acknowledged event is there exactly once (appends WAIT for
  a replica before they are acknowledged), summaries equal the fold; the killed node
  comes back as a replica and WAIT is satisfied again.
- 4 writer processes x 1,000 appends to one recording: seqs 0..3999, each writer's
  order kept, summary equal to the fold.

Each cluster lives in its own temporary directory and is killed and removed by its
fixture whatever happens.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from l0core import TokenEvent
from l0core.catalog import SummaryFilter, SummaryQuery
from l0core.stores.base import BaseEventStore, Clock, StorageAdapterConfig
from l0core.stores.registry import create_event_store
from l0core.testing import FakeClock, StoreConformance, tokens
from tests.catalog_suite import CatalogSuite, assert_summary_matches_events, catalog_streams
from tests.redis_cluster import LocalRedisCluster, binaries_problem
from tests.services import check_writers, services_required, unique_name

pytestmark = pytest.mark.services


def _cluster_or_skip(root: Path) -> LocalRedisCluster:
    problem = binaries_problem()
    if problem is not None:
        if services_required():
            pytest.fail(f"{problem} (L0_REQUIRE_SERVICES=1: these tests must not skip)",
                        pytrace=False)
        pytest.skip(problem)
    return LocalRedisCluster(root).start()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """One cluster for the suites; no test of theirs kills a node."""
    root = tmp_path_factory.mktemp("redis-cluster")
    started = _cluster_or_skip(root)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[LocalRedisCluster]:
    """A cluster for one fault test, which kills a node of it."""
    started = _cluster_or_skip(tmp_path / "cluster")
    try:
        yield started
    finally:
        started.close()


async def open_cluster(url: str, prefix: str, **options: Any) -> Any:
    from l0core.stores.redis import RedisEventStore

    ttl = options.pop("ttl", 0)
    read_only = options.pop("read_only", False)
    cfg = StorageAdapterConfig(type="redis", connection=url, prefix=prefix, ttl=ttl,
                               options=options, read_only=read_only)
    return await RedisEventStore(cfg).open()


class TestClusterStore(StoreConformance):
    ttl_ms: ClassVar[int] = 800

    @pytest.fixture(autouse=True)
    def _cluster(self, cluster: LocalRedisCluster) -> None:
        self.url, self.prefix = cluster.url, unique_name("rc")

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        store: BaseEventStore = await open_cluster(self.url, self.prefix, ttl=ttl)
        return store

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        peer: BaseEventStore = await open_cluster(self.url, self.prefix, ttl=store.ttl)
        return peer

    async def advance(self, clock: FakeClock, ms: float) -> None:
        clock.now += ms
        await asyncio.sleep(ms / 1000)


class TestClusterCatalog(CatalogSuite):
    @pytest.fixture(autouse=True)
    def _cluster(self, cluster: LocalRedisCluster) -> None:
        self.url, self.prefix = cluster.url, unique_name("rcc")

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        store: BaseEventStore = await open_cluster(self.url, self.prefix, ttl=ttl)
        return store


async def test_a_recordings_keys_share_one_slot(cluster: LocalRedisCluster) -> None:
    from l0core import Snapshot

    store = await open_cluster(cluster.url, unique_name("slot"))
    try:
        masters: set[int] = set()
        for i in range(40):
            sid = f"rec-{i}"
            await store.append_many(sid, [*tokens(2), {"type": "COMPLETE", "ts": 9,
                                                       "content": "ab", "tokenCount": 2}])
            await store.save_snapshot(Snapshot(stream_id=sid, seq=1, ts=1.0, content="a",
                                               token_count=1, checkpoint=""))
            keys = store.keys
            shard = keys.shard_of(sid)
            names = [keys.stream(sid), keys.snapshot(sid), keys.summary(sid),
                     keys.content(sid), keys.index(shard), keys.catalog(shard),
                     keys.cat(shard, "o:completed:start_ts")]
            slots = {store.client.keyslot(name) for name in names}
            assert len(slots) == 1, names
            for name in names:
                assert await store.client.exists(name) == 1, name
            masters.add(cluster.primary_port_of(keys.stream(sid)))
        assert len(masters) == 3, "16 shards should land on every master"
        assert await store.count_summaries(SummaryFilter(status=frozenset({"completed"}))) == 40
    finally:
        await store.close()


async def test_two_seeds_find_the_whole_cluster(cluster: LocalRedisCluster) -> None:
    prefix = unique_name("seed")
    store = await create_event_store(f"{cluster.seed_url(2)}?prefix={prefix}&wait_replicas=0")
    try:
        assert type(store).__name__ == "RedisEventStore"
        assert getattr(store, "wait_replicas") == 0  # noqa: B009 - the option reached it
        for i in range(30):
            await store.append(f"s{i}", tokens(1)[0])
        assert await store.list_streams() == sorted(f"s{i}" for i in range(30))
        assert len(getattr(store, "client").get_primaries()) == 3  # noqa: B009
    finally:
        await store.close()
    reader = await create_event_store(f"{cluster.url}?prefix={prefix}", read_only=True)
    try:
        assert reader.keeps_summaries
        assert getattr(reader, "wait_replicas") == 1  # noqa: B009 - on by default
        assert await reader.count_summaries() == 30
    finally:
        await reader.close()


async def test_the_spec_layout_is_not_looked_for_on_a_cluster(cluster: LocalRedisCluster) -> None:
    from l0core.errors import StoreConfigError

    with pytest.raises(StoreConfigError, match="single Redis node"):
        await create_event_store(f"{cluster.url}?prefix={unique_name('sp')}&layout=spec",
                                 read_only=True)


async def _write(store: Any, streams: list[str], per: int,
                 acked: dict[tuple[int, int], int]) -> None:
    async def writer(w: int) -> None:
        sid = streams[w]
        for i in range(per):
            acked[w, i] = await store.append(sid, TokenEvent(ts=1 + i, value=f"{w}:{i}",
                                                             index=i))

    await asyncio.gather(*(writer(w) for w in range(len(streams))))


@pytest.mark.slow
async def test_a_master_killed_mid_run_loses_no_acknowledged_event(
    own_cluster: LocalRedisCluster,
) -> None:
    cluster = own_cluster
    prefix = unique_name("fo")
    store = await open_cluster(cluster.url, prefix, retry_timeout=30)
    try:
        keys = store.keys
        victim_sid = "victim"
        victim = cluster.primary_port_of(keys.stream(victim_sid))
        streams = [victim_sid]
        n = 0
        while len(streams) < 4:  # three more, on other masters if possible
            sid = f"other-{n}"
            n += 1
            if cluster.primary_port_of(keys.stream(sid)) != victim or n > 50:
                streams.append(sid)
        per = 400
        acked: dict[tuple[int, int], int] = {}
        run = asyncio.create_task(_write(store, streams, per, acked))
        while len(acked) < 200:  # kill mid-run, once appends flow
            await asyncio.sleep(0.01)
        assert not run.done()
        cluster.kill(victim)
        successor = await asyncio.to_thread(cluster.wait_primary_changed,
                                            keys.stream(victim_sid), victim)
        await run
        assert successor != victim
        for w, sid in enumerate(streams):
            got = await store.get_events(sid)
            assert [e.seq for e in got] == list(range(per)), sid
            assert [e.event.value for e in got] == [  # type: ignore[union-attr]
                f"{w}:{i}" for i in range(per)]
            for i in range(per):
                assert acked[w, i] == i
            await assert_summary_matches_events(store, sid)
        assert await store.count_summaries() == 4
        # The killed node comes back as a replica of its successor; WAIT is met again.
        await asyncio.to_thread(cluster.restart, victim)
        await asyncio.to_thread(cluster.wait_healthy)
        assert cluster.role(victim) == "slave"
        assert await store.append(victim_sid, TokenEvent(ts=9, value="after", index=per)) == per
        await assert_summary_matches_events(store, victim_sid)
    finally:
        await store.close()


def _process_writer(url: str, prefix: str, writer: int, count: int, go: Any) -> None:
    async def run() -> None:
        store = await open_cluster(url, prefix)
        try:
            go.wait(30)
            for i in range(count):
                await store.append("shared", TokenEvent(ts=1 + i, value=f"{writer}:{i}",
                                                        index=i))
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.slow
async def test_four_processes_append_to_one_recording(cluster: LocalRedisCluster) -> None:
    prefix = unique_name("rcw")  # new: the four processes' opens are its first
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_process_writer, args=(cluster.url, prefix, w, 1000, go))
             for w in range(4)]
    for p in procs:
        p.start()
    go.set()
    await asyncio.to_thread(lambda: [p.join(300) for p in procs])
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = await open_cluster(cluster.url, prefix)
    try:
        check_writers(await store.get_events("shared"), {}, 4, 1000)
        await assert_summary_matches_events(store, "shared")
    finally:
        await store.close()


class _AnotherOpenBetween:
    """The real cluster client, except that right after the first TYPE another
    process's first open makes the prefix's meta hash (a real write on the server)."""

    def __init__(self, client: Any, meta: str) -> None:
        self.client, self.meta, self.raced = client, meta, False

    async def type(self, key: str) -> Any:
        found = await self.client.type(key)
        if not self.raced:
            self.raced = True
            await self.client.hset(self.meta, mapping={"shards": 4, "built": 1})
        return found

    def scan_iter(self, **options: Any) -> Any:
        return self.client.scan_iter(**options)


async def test_a_marker_made_between_type_and_scan_is_ours(cluster: LocalRedisCluster) -> None:
    from l0core.stores.redis_keys import RedisKeys
    from l0core.stores.redis_layout import inspect_cluster_prefix

    store = await open_cluster(cluster.url, unique_name("rcx"))  # only for its client
    prefix = unique_name("rcr")
    meta = RedisKeys(prefix, 1).meta()
    try:
        found = await inspect_cluster_prefix(_AnotherOpenBetween(store.client, meta),  # type: ignore[arg-type]
                                             prefix, meta)
        assert (found.layout, found.key) == ("l0core", meta)
    finally:
        await store.client.delete(meta)
        await store.close()


async def test_concurrent_first_opens_of_a_new_prefix_all_succeed(
    cluster: LocalRedisCluster,
) -> None:
    """Eight clients open each of five new prefixes at once.

    Each open looks for the prefix's meta hash, then SCANs for any other key. An
    open that found no hash can then find the one another open just made; it must
    take the prefix as ours, not refuse it as a foreign layout.
    """
    for _ in range(5):
        prefix = unique_name("rco")
        stores = await asyncio.gather(*(open_cluster(cluster.url, prefix, shards=s)
                                        for s in (4, 5, 6, 7, 8, 9, 10, 11)))
        try:
            # One shard count wins and every open reads it, whichever asked first.
            assert len({store.keys.shards for store in stores}) == 1
            seqs = await asyncio.gather(*(s.append(f"w{i}", TokenEvent(ts=1, value="x", index=0))
                                          for i, s in enumerate(stores)))
            assert seqs == [0] * len(stores)
        finally:
            await asyncio.gather(*(s.close() for s in stores))
        reader = await open_cluster(cluster.url, prefix, read_only=True)
        try:
            assert reader.keeps_summaries  # the marker was made whole, "built" included
            assert sorted(await reader.list_streams()) == [f"w{i}" for i in range(8)]
        finally:
            await reader.close()


async def test_catalog_streams_on_every_shard_match_the_reference(
    cluster: LocalRedisCluster,
) -> None:
    """The catalog suite's forty streams, each filter counted and paged across shards."""
    from l0core.catalog import apply_query
    from l0core.catalog.scan import fold_content

    store = await open_cluster(cluster.url, unique_name("rcq"))
    try:
        streams = catalog_streams()
        for sid, events in streams.items():
            await store.append_many(sid, events)
        summaries = [await store.get_summary(sid) for sid in streams]
        contents = {sid: await fold_content(store, sid) for sid in streams}
        assert len({store.keys.shard_of(sid) for sid in streams}) > 8
        query = SummaryQuery(filter=SummaryFilter(status=frozenset({"error"})), limit=3)
        want = apply_query([s for s in summaries if s is not None],
                           SummaryQuery(filter=query.filter, limit=1000), contents.get)
        paged = []
        while True:
            page = await store.query_summaries(query)
            paged.extend(s.stream_id for s in page.items)
            if page.next_after is None:
                break
            query = SummaryQuery(filter=query.filter, limit=3, after=page.next_after)
        assert paged == [s.stream_id for s in want.items]
    finally:
        await store.close()


async def test_catalog_followers_are_woken_by_sharded_publish(
    cluster: LocalRedisCluster,
) -> None:
    prefix = unique_name("rcn")
    writer = await open_cluster(cluster.url, prefix)
    follower = await open_cluster(cluster.url, prefix, read_only=True)
    try:
        before = await follower.catalog_version()
        waiting = asyncio.create_task(follower.wait_catalog_change(60.0))
        await asyncio.sleep(0.3)  # subscribed on every master
        assert not waiting.done()
        await writer.append("s", tokens(1)[0])
        await asyncio.wait_for(waiting, timeout=10)
        assert follower.read_only and follower.keeps_summaries
        assert await follower.catalog_version() != before
    finally:
        await follower.close()
        await writer.close()
