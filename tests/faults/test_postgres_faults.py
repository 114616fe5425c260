"""PostgresEventStore under faults, against a real PostgreSQL.

- 4 processes x 1,000 appends to one stream: seqs 0..3999, each writer's order kept.
- Backends killed with ``pg_terminate_backend`` during a run of appends: every
  acknowledged append is stored exactly once, seqs contiguous.
- A reply lost after the server committed (a TCP proxy hangs up): the retry
  finds the batch and returns its seq; nothing is written twice.
- A closed port, an unknown role, an unknown database, a server that goes away:
  one clear line naming the (masked) URL, no chained traceback.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from l0core import TokenEvent
from l0core.errors import StoreConnectionError
from l0core.stores.base import StorageAdapterConfig
from l0core.stores.registry import create_event_store
from tests.services import (
    FaultProxy,
    check_writers,
    drop_postgres_schema,
    postgres_dsn,
    unique_name,
    with_query,
)

pytestmark = pytest.mark.services


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    dsn = postgres_dsn()
    schema = unique_name("pgf")
    yield dsn, schema
    drop_postgres_schema(dsn, schema)


async def open_pg(url: str, schema: str, **options: Any) -> Any:
    from l0core.stores.postgres import PostgresEventStore

    cfg = StorageAdapterConfig(type="postgres", connection=url,
                               options={"schema": schema, **options})
    return await PostgresEventStore(cfg).open()


# ── 4 processes x 1,000 appends ──


def _process_writer(dsn: str, schema: str, writer: int, count: int, go: Any) -> None:
    async def run() -> None:
        store = await open_pg(dsn, schema)
        try:
            go.wait(30)
            for i in range(count):
                await store.append("shared", TokenEvent(ts=1, value=f"{writer}:{i}", index=i))
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.slow
async def test_four_processes_append_to_one_stream(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    setup = await open_pg(dsn, schema)  # create the schema once, before the race
    try:
        ctx = multiprocessing.get_context("spawn")
        go = ctx.Event()
        # This test is about seq assignment under contention, not durability: the
        # writers skip the WAL flush wait so 4,000 commits do not queue on fsync.
        fast = with_query(dsn, options="-c%20synchronous_commit%3Doff")
        procs = [ctx.Process(target=_process_writer, args=(fast, schema, w, 1000, go))
                 for w in range(4)]
        for p in procs:
            p.start()
        go.set()
        await asyncio.to_thread(lambda: [p.join(120) for p in procs])
        assert [p.exitcode for p in procs] == [0, 0, 0, 0]
        check_writers(await setup.get_events("shared"), {}, 4, 1000)
    finally:
        await setup.close()


# ── killed backends ──


async def test_terminated_backends_lose_and_duplicate_nothing(
    pg_schema: tuple[str, str],
) -> None:
    import psycopg

    dsn, schema = pg_schema
    app = unique_name("app")
    store = await open_pg(with_query(dsn, application_name=app), schema, pool_max_size=3)
    admin = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
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
            await asyncio.sleep(0.1)
            cur = await admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s", (app,))
            row = await cur.fetchone()
            killed += int(row[0]) if row else 0
            rounds += 1
        await asyncio.gather(*tasks)
        assert killed >= 3, f"the test killed only {killed} backends in {rounds} rounds"
        check_writers(await store.get_events("s"), acked, writers, per)
    finally:
        await admin.close()
        await store.close()


# ── lost replies ──


async def test_lost_reply_after_commit_is_not_written_twice(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    parts = urlsplit(dsn)
    async with FaultProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        via_proxy = dsn.replace(f"{parts.hostname}:{parts.port or 5432}",
                                f"127.0.0.1:{proxy.port}")
        store = await open_pg(via_proxy, schema, pool_max_size=2)
        try:
            await store.append("s", TokenEvent(ts=1, value="before", index=0))
            # The server commits, then the connection drops before the reply.
            proxy.arm(b"LOST-REPLY")
            seq = await store.append("s", TokenEvent(ts=2, value="LOST-REPLY", index=1))
            assert proxy.fired == 1
            assert seq == 1
            # The request never reaches the server: the retry writes it once.
            proxy.arm(b"LOST-REQUEST", after_server=False)
            seq = await store.append_many("s", [TokenEvent(ts=3, value="LOST-REQUEST", index=2),
                                                TokenEvent(ts=4, value="after", index=3)])
            assert proxy.fired == 2
            assert seq == 3
            got = await store.get_events("s")
            assert [e.event.value for e in got] == [  # type: ignore[union-attr]
                "before", "LOST-REPLY", "LOST-REQUEST", "after"]
            assert [e.seq for e in got] == [0, 1, 2, 3]
        finally:
            await store.close()


async def test_server_gone_mid_run_gives_one_clear_error(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    parts = urlsplit(dsn)
    proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.__aenter__()
    via_proxy = dsn.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{proxy.port}")
    store = await open_pg(via_proxy, schema, retries=3, retry_timeout=3, pool_timeout=1)
    try:
        await store.append("s", TokenEvent(ts=1, value="a", index=0))
        await proxy.__aexit__(None, None, None)  # the "server" goes away for good
        with pytest.raises(StoreConnectionError) as err:
            await store.append("s", TokenEvent(ts=2, value="b", index=1))
        message = str(err.value)
        assert "\n" not in message
        assert f"127.0.0.1:{proxy.port}" in message
        assert err.value.__suppress_context__ and err.value.__cause__ is None
    finally:
        await store.close()


# ── refused connections ──


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("postgresql://postgres:s3cret@127.0.0.1:1/postgres", "Connection refused"),
        ("postgresql://postgres@127.0.0.1:1/postgres?password=s3cret", "Connection refused"),
        ("postgresql://l0_no_such_role@{host}/postgres", 'role "l0_no_such_role" does not exist'),
        ("postgresql://postgres:s3cret@{host}/l0_no_such_db",
         'database "l0_no_such_db" does not exist'),
    ],
)
async def test_refused_connection_is_one_clear_line(url: str, needle: str) -> None:
    dsn = postgres_dsn()
    parts = urlsplit(dsn)
    url = url.format(host=f"{parts.hostname}:{parts.port or 5432}")
    with pytest.raises(StoreConnectionError) as err:
        await create_event_store(url)
    message = str(err.value)
    assert message.startswith("cannot connect to PostgreSQL at postgresql://")
    assert needle in message
    assert "s3cret" not in message
    if ":s3cret@" in url:
        assert ":***@" in message
    assert "\n" not in message
    assert err.value.__suppress_context__ and err.value.__cause__ is None


async def test_follow_survives_a_killed_listener(pg_schema: tuple[str, str]) -> None:
    """LISTEN's connection dies: the follower polls, reconnects, and misses nothing."""
    import psycopg

    from l0core import CompleteEvent

    dsn, schema = pg_schema
    app = unique_name("app")
    follower = await open_pg(with_query(dsn, application_name=app), schema)
    writer = await open_pg(dsn, schema)
    admin = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    try:
        seen: list[int] = []

        async def follow() -> None:
            async for env in follower.subscribe("live", poll_interval=0.05):
                seen.append(env.seq)

        task = asyncio.create_task(follow())
        await writer.append("live", TokenEvent(ts=1, value="a", index=0))
        for _ in range(100):
            if seen == [0]:
                break
            await asyncio.sleep(0.02)
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name = %s", (app,))
        await writer.append("live", TokenEvent(ts=2, value="b", index=1))
        await writer.append("live", CompleteEvent(ts=3, content="ab", token_count=2))
        await asyncio.wait_for(task, timeout=10)
        assert seen == [0, 1, 2]
    finally:
        await admin.close()
        await follower.close()
        await writer.close()
