"""RedisEventStore under faults, against a real Redis.

- 4 processes x 1,000 appends to one stream: seqs 0..3999, each writer's order kept,
  and the stream's summary equal to the fold of its events.
- The store's connections killed with ``CLIENT KILL`` during a run of appends:
  every acknowledged append is stored exactly once, seqs contiguous, every summary
  equal to the fold (the catalog's forty streams too: every kind of event).
- A reply lost after the script ran (a TCP proxy hangs up): the retry finds the
  batch and returns its seq; nothing is written twice, the summary counts it once.
- A closed port and a wrong password (an ACL user made for the test): one clear
  line naming the (masked) URL, no chained traceback.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from l0core import TokenEvent
from l0core.errors import StoreConnectionError
from l0core.stores.base import StorageAdapterConfig
from l0core.stores.registry import create_event_store
from tests.catalog_suite import assert_summary_matches_events, catalog_streams
from tests.services import (
    FaultProxy,
    check_writers,
    delete_redis_prefix,
    redis_url,
    unique_name,
    with_query,
)

pytestmark = pytest.mark.services


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    url = redis_url()
    prefix = unique_name("rdf")
    yield url, prefix
    delete_redis_prefix(url, prefix)


async def open_redis(url: str, prefix: str, **options: Any) -> Any:
    from l0core.stores.redis import RedisEventStore

    cfg = StorageAdapterConfig(type="redis", connection=url, prefix=prefix, options=options)
    return await RedisEventStore(cfg).open()


def _process_writer(url: str, prefix: str, writer: int, count: int, go: Any) -> None:
    async def run() -> None:
        store = await open_redis(url, prefix)
        try:
            go.wait(30)
            for i in range(count):
                await store.append("shared", TokenEvent(ts=1, value=f"{writer}:{i}", index=i))
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.slow
async def test_four_processes_append_to_one_stream(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_process_writer, args=(url, prefix, w, 1000, go))
             for w in range(4)]
    for p in procs:
        p.start()
    go.set()
    await asyncio.to_thread(lambda: [p.join(120) for p in procs])
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = await open_redis(url, prefix)
    try:
        check_writers(await store.get_events("shared"), {}, 4, 1000)
        await assert_summary_matches_events(store, "shared")
    finally:
        await store.close()


async def test_killed_clients_lose_and_duplicate_nothing(redis_prefix: tuple[str, str]) -> None:
    import redis.asyncio

    url, prefix = redis_prefix
    name = unique_name("cli")
    store = await open_redis(with_query(url, client_name=name), prefix)
    admin = redis.asyncio.Redis.from_url(url)
    acked: dict[tuple[int, int], int] = {}
    writers, per = 4, 400
    try:
        async def writer(w: int) -> None:
            for i in range(per):
                acked[w, i] = await store.append(
                    "s", TokenEvent(ts=1, value=f"{w}:{i}", index=i))

        tasks = [asyncio.create_task(writer(w)) for w in range(writers)]
        killed = rounds = 0
        while rounds < 8 and not all(t.done() for t in tasks):
            await asyncio.sleep(0.03)
            for client in await admin.client_list():
                if client.get("name") == name:
                    killed += int(await admin.execute_command("CLIENT", "KILL", "ID",
                                                              client["id"]))
            rounds += 1
        await asyncio.gather(*tasks)
        assert killed >= 3, f"the test killed only {killed} connections in {rounds} rounds"
        check_writers(await store.get_events("s"), acked, writers, per)
        await assert_summary_matches_events(store, "s")
    finally:
        await admin.aclose()
        await store.close()


async def test_killed_clients_keep_every_summary_exact(redis_prefix: tuple[str, str]) -> None:
    """Every kind of event, appended one by one and in batches, while connections die."""
    import redis.asyncio

    from l0core.catalog import SummaryFilter

    url, prefix = redis_prefix
    name = unique_name("cat")
    store = await open_redis(with_query(url, client_name=name), prefix)
    admin = redis.asyncio.Redis.from_url(url)
    streams = catalog_streams()
    try:
        async def writer(sid: str) -> None:
            events = streams[sid]
            await store.append_many(sid, events[:2])
            for event in events[2:]:
                await store.append(sid, event)

        tasks = [asyncio.create_task(writer(sid)) for sid in streams]
        killed = 0
        while not all(t.done() for t in tasks):
            await asyncio.sleep(0.02)
            for client in await admin.client_list():
                if client.get("name") == name:
                    killed += int(await admin.execute_command("CLIENT", "KILL", "ID",
                                                              client["id"]))
        await asyncio.gather(*tasks)
        assert killed >= 3, f"the test killed only {killed} connections"
        for sid, events in streams.items():
            assert len(await store.get_events(sid)) == len(events)
            await assert_summary_matches_events(store, sid)
        assert await store.count_summaries() == len(streams)
        errors = SummaryFilter(status=frozenset({"error"}))
        assert await store.count_summaries(errors) == sum(
            1 for events in streams.values() if events[-1].type == "ERROR")
    finally:
        await admin.aclose()
        await store.close()


async def test_lost_reply_after_script_ran_is_not_written_twice(
    redis_prefix: tuple[str, str],
) -> None:
    url, prefix = redis_prefix
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    async with FaultProxy(host, port) as proxy:
        store = await open_redis(url.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}"),
                                 prefix)
        try:
            await store.append("s", TokenEvent(ts=1, value="before", index=0))
            proxy.arm(b"LOST-REPLY")
            assert await store.append("s", TokenEvent(ts=2, value="LOST-REPLY", index=1)) == 1
            assert proxy.fired == 1
            proxy.arm(b"LOST-REQUEST", after_server=False)
            seq = await store.append_many("s", [TokenEvent(ts=3, value="LOST-REQUEST", index=2),
                                                TokenEvent(ts=4, value="after", index=3)])
            assert proxy.fired == 2
            assert seq == 3
            got = await store.get_events("s")
            assert [e.event.value for e in got] == [  # type: ignore[union-attr]
                "before", "LOST-REPLY", "LOST-REQUEST", "after"]
            await assert_summary_matches_events(store, "s")
            summary = await store.get_summary("s")
            assert summary is not None and summary.event_count == 4
        finally:
            await store.close()


async def test_server_gone_mid_run_gives_one_clear_error(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    proxy = FaultProxy(host, port)
    await proxy.__aenter__()
    store = await open_redis(url.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}"), prefix,
                             retries=3, retry_timeout=3)
    try:
        await store.append("s", TokenEvent(ts=1, value="a", index=0))
        await proxy.__aexit__(None, None, None)
        with pytest.raises(StoreConnectionError) as err:
            await store.append("s", TokenEvent(ts=2, value="b", index=1))
        assert "\n" not in str(err.value)
        assert f"127.0.0.1:{proxy.port}" in str(err.value)
        assert err.value.__suppress_context__ and err.value.__cause__ is None
    finally:
        await store.close()


async def test_closed_port_is_one_clear_line() -> None:
    redis_url()  # only meaningful where the suite runs at all
    with pytest.raises(StoreConnectionError) as err:
        await create_event_store("redis://user:s3cret@127.0.0.1:1/0")
    message = str(err.value)
    assert message.startswith("cannot connect to Redis at redis://user:***@127.0.0.1:1/0: ")
    assert "s3cret" not in message and "\n" not in message
    assert err.value.__suppress_context__ and err.value.__cause__ is None


async def test_wrong_password_is_one_clear_line(redis_prefix: tuple[str, str]) -> None:
    """A real refusal: an ACL user with a password, then the wrong one."""
    import redis.asyncio

    url, prefix = redis_prefix
    parts = urlsplit(url)
    user, password = unique_name("acl"), secrets.token_hex(8)
    admin = redis.asyncio.Redis.from_url(url)
    await admin.execute_command("ACL SETUSER", user, "on", f">{password}", "~*", "+@all")
    try:
        netloc = f"{parts.hostname}:{parts.port or 6379}"
        good = f"redis://{user}:{password}@{netloc}{parts.path}?prefix={prefix}"
        store = await create_event_store(good)
        assert await store.append("s", TokenEvent(ts=1, value="x", index=0)) == 0
        await store.close()
        with pytest.raises(StoreConnectionError) as err:
            await create_event_store(f"redis://{user}:wrong-{password}@{netloc}{parts.path}")
        message = str(err.value)
        assert message.startswith(f"Redis at redis://{user}:***@{netloc}")
        assert "refused the credentials" in message
        assert password not in message and "\n" not in message
        assert err.value.__suppress_context__ and err.value.__cause__ is None
    finally:
        await admin.execute_command("ACL DELUSER", user)
        await admin.aclose()
