"""The PostgreSQL store's catalog under faults, against a real PostgreSQL.

- a reply lost after the server committed (a TCP proxy hangs up), for each kind of
  append (TOKENs, an end that carries its content, an ERROR whose content is folded
  in the same transaction, a late TOKEN after the end): the retry finds the batch,
  nothing is counted twice, the summary is the fold;
- backends killed with ``pg_terminate_backend`` while tasks append realistic runs;
- a writer process killed with SIGKILL mid-run, then a writable reopen;
- 4 writer processes on one schema.

Afterwards every summary equals the fold of its events, the counts and the text
index agree with the events.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from l0core import CompleteEvent, ErrorEvent, StartEvent, TokenEvent
from l0core.catalog.scan import fold_content
from l0core.events import SerializedError, SerializedOptions
from l0core.stores.base import StorageAdapterConfig
from l0core.stores.catalog_text import searchable
from tests.faults.procs import ROOT
from tests.faults.sql_catalog_writer import run_events
from tests.services import (
    FaultProxy,
    drop_postgres_schema,
    postgres_dsn,
    unique_name,
    with_query,
)
from tests.stores.catalog_checks import check_catalog_matches_events

pytestmark = pytest.mark.services


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    dsn = postgres_dsn()
    schema = unique_name("pgk")
    yield dsn, schema
    drop_postgres_schema(dsn, schema)


async def open_pg(url: str, schema: str, **options: Any) -> Any:
    from l0core.stores.postgres import PostgresEventStore

    cfg = StorageAdapterConfig(type="postgres", connection=url,
                               options={"schema": schema, **options})
    return await PostgresEventStore(cfg).open()


async def indexed_content(dsn: str, schema: str) -> dict[str, str | None]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute(f'SELECT stream_id, content FROM "{schema}".l0_texts')
        return {str(r[0]): r[1] for r in await cur.fetchall()}


async def check_schema(dsn: str, schema: str, *, stale_ok: bool = False) -> list[str]:
    """Summaries, counts and the text index agree with the events."""
    store = await open_pg(dsn, schema, read_only=True)
    try:
        ids = await check_catalog_matches_events(store)
        texts = await indexed_content(dsn, schema)
        for sid in ids:
            summary = await store.get_summary(sid)
            assert summary is not None
            if summary.status == "running":
                assert sid not in texts, sid
            elif not (stale_ok and texts.get(sid, "") is None):
                assert texts.get(sid) == searchable(await fold_content(store, sid)), sid
        return ids
    finally:
        await store.close()


# ── lost replies ──


def _lost_steps(marker: str) -> list[tuple[str, list[Any]]]:
    """(stream kind, batch) appended in turn, each batch carrying ``marker``-n."""
    def err(n: int) -> ErrorEvent:
        return ErrorEvent(ts=7, error=SerializedError(name="E", message=f"{marker}-{n}"),
                          failure_type="network", recovery_strategy="halt", policy="default")

    return [
        ("tok", [TokenEvent(ts=3, value=f"{marker}-1 ", index=1),
                 TokenEvent(ts=4, value="x", index=2)]),
        ("done", [CompleteEvent(ts=5, content=f"{marker}-2 all", token_count=1)]),
        ("err", [TokenEvent(ts=6, value=f"{marker}-3 ", index=1), err(0)]),
        ("late", [err(4)]),  # an ERROR alone: its content is folded in its transaction
        ("late", [TokenEvent(ts=9, value=f"{marker}-5 after", index=1)]),  # after the end
    ]


async def test_lost_replies_count_nothing_twice(pg_schema: tuple[str, str]) -> None:
    """Each kind of append, its reply lost after the commit (``reply-*`` streams) or
    its request lost before the server (``request-*``): written and counted once."""
    dsn, schema = pg_schema
    parts = urlsplit(dsn)
    async with FaultProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        via_proxy = dsn.replace(f"{parts.hostname}:{parts.port or 5432}",
                                f"127.0.0.1:{proxy.port}")
        store = await open_pg(via_proxy, schema, pool_max_size=2)
        try:
            for how in ("reply", "request"):
                for kind in ("tok", "done", "err", "late"):
                    sid = f"{how}-{kind}"
                    await store.append(sid, StartEvent(ts=1, options=SerializedOptions(
                        model="m")))
                    await store.append(sid, TokenEvent(ts=2, value="before ", index=0))
                marker = f"LOST{how.upper()}"
                for n, (kind, events) in enumerate(_lost_steps(marker), 1):
                    proxy.arm(f"{marker}-{n}".encode() if n != 4 else f"{marker}-4".encode(),
                              after_server=how == "reply")
                    fired = proxy.fired
                    await store.append_many(f"{how}-{kind}", events)
                    assert proxy.fired == fired + 1, (how, n)
        finally:
            await store.close()
    ids = await check_schema(dsn, schema)
    assert len(ids) == 8


# ── killed backends ──


async def test_terminated_backends_keep_summaries_exact(pg_schema: tuple[str, str]) -> None:
    import psycopg

    dsn, schema = pg_schema
    app = unique_name("app")
    store = await open_pg(with_query(dsn, application_name=app), schema, pool_max_size=3)
    admin = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    rng = random.Random(99)
    runs = {f"t{k}": run_events(rng, rng.randrange(5, 80)) for k in range(40)}
    try:
        async def writer(ids: list[str]) -> None:
            for sid in ids:
                events = runs[sid]
                i = 0
                while i < len(events):
                    size = rng.choice([1, 1, 3, 10])
                    await store.append_many(sid, events[i:i + size])
                    i += size

        ids = sorted(runs)
        tasks = [asyncio.create_task(writer(ids[w::4])) for w in range(4)]
        killed = rounds = 0
        while rounds < 10 and not all(t.done() for t in tasks):
            await asyncio.sleep(0.1)
            cur = await admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s", (app,))
            row = await cur.fetchone()
            killed += int(row[0]) if row else 0
            rounds += 1
        await asyncio.gather(*tasks)
        assert killed >= 3, f"the test killed only {killed} backends in {rounds} rounds"
    finally:
        await admin.close()
        await store.close()
    assert await check_schema(dsn, schema) == ids


# ── processes ──


def spawn_writer(dsn: str, schema: str, tag: str, seed: int,
                 *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.sql_catalog_writer", "--store", "postgres",
         "--path", dsn, "--schema", schema, "--tag", tag, "--seed", str(seed), *extra],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
async def test_killed_writer_process_then_reopen(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    await (await open_pg(dsn, schema)).close()  # the tables, before the writers
    rng = random.Random(5)
    killed = 0
    for trial in range(4):
        proc = spawn_writer(dsn, schema, f"k{trial}", trial, "--streams", "200")
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first == "ack\n", proc.stderr.read() if proc.stderr else first
        threading.Thread(target=lambda p=proc: [None for _ in p.stdout or []],
                         daemon=True).start()
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        killed += await asyncio.to_thread(proc.wait, 30) == -signal.SIGKILL
        await check_schema(dsn, schema, stale_ok=True)  # an unfolded content may wait
        store = await open_pg(dsn, schema)  # a writable open folds what waited
        await store.close()
        await check_schema(dsn, schema)
    assert killed >= 3


@pytest.mark.slow
async def test_four_writer_processes_keep_exact_summaries(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    setup = await open_pg(dsn, schema)  # the tables, before the race
    await setup.close()
    fast = with_query(dsn, options="-c%20synchronous_commit%3Doff")
    procs = [spawn_writer(fast, schema, f"w{w}", w, "--streams", "40", "--wait-go")
             for w in range(4)]
    await asyncio.sleep(0.5)
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = await asyncio.to_thread(p.communicate, None, 180)
        assert p.returncode == 0, err
    ids = await check_schema(dsn, schema)
    assert len(ids) == 4 * 40 + 1  # every writer's streams and the shared one
