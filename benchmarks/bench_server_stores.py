"""Append and read throughput of the PostgreSQL and Redis stores, beside the file store.

    .venv-bench/bin/python benchmarks/bench_server_stores.py [--runs 3] [--batches 20]

Rows per store: single appends (one ``append`` per event, one stream), single
appends from 8 tasks on 8 streams at once, batched (``append_many`` of 1,000),
and reading the batched stream back. Each figure is the median of ``--runs``
runs, each on a fresh stream. The second PostgreSQL row shows what the commit
costs: ``notify=false`` (no ``pg_notify``, followers poll) and
``synchronous_commit=off`` (the server acknowledges before its WAL is flushed).
Targets: PostgreSQL >= 20k events/s batched, Redis >= 30k events/s
batched. Servers default to the dev machine's (override with
L0_TEST_POSTGRES_URL / L0_TEST_REDIS_URL); a store whose server or module is
missing is reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import median_of, table
from l0core import TokenEvent
from l0core.stores.base import BaseEventStore, StorageAdapterConfig

PG_URL = os.environ.get("L0_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("L0_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TARGETS = {"postgres": 20_000.0, "redis": 30_000.0}

Opener = Callable[[], Any]


def events(n: int, start: int = 0) -> list[TokenEvent]:
    return [TokenEvent(ts=1_700_000_000_000 + 20 * i, value=f" token{i % 97}", index=start + i)
            for i in range(n)]


@asynccontextmanager
async def postgres_store(url: str = PG_URL, **options: Any) -> AsyncIterator[BaseEventStore]:
    import psycopg
    from psycopg import sql

    from l0core.stores.postgres import PostgresEventStore

    schema = f"l0bench_{secrets.token_hex(4)}"
    cfg = StorageAdapterConfig(type="postgres", connection=url,
                               options={"schema": schema, **options})
    store = await PostgresEventStore(cfg).open()
    try:
        yield store
    finally:
        await store.close()
        async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
            await conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@asynccontextmanager
async def redis_store() -> AsyncIterator[BaseEventStore]:
    from l0core.stores.redis import RedisEventStore

    prefix = f"l0bench_{secrets.token_hex(4)}"
    store = await RedisEventStore(StorageAdapterConfig(type="redis", connection=REDIS_URL,
                                                       prefix=prefix)).open()
    try:
        yield store
    finally:
        await store.drop_all()
        await store.close()


@asynccontextmanager
async def file_store() -> AsyncIterator[BaseEventStore]:
    from l0core.stores.registry import create_event_store

    with tempfile.TemporaryDirectory(prefix="l0bench-") as root:
        store = await create_event_store(root)
        try:
            yield store
        finally:
            await store.close()


async def single(store: BaseEventStore, n: int) -> float:
    sid = f"single_{secrets.token_hex(4)}"
    evs = events(n)
    t0 = time.perf_counter()
    for ev in evs:
        await store.append(sid, ev)
    return n / (time.perf_counter() - t0)


async def concurrent_single(store: BaseEventStore, n: int, tasks: int = 8) -> float:
    tag = secrets.token_hex(4)
    per = n // tasks

    async def run(k: int) -> None:
        for ev in events(per):
            await store.append(f"conc_{tag}_{k}", ev)

    t0 = time.perf_counter()
    await asyncio.gather(*(run(k) for k in range(tasks)))
    return per * tasks / (time.perf_counter() - t0)


async def batched(store: BaseEventStore, batches: int, size: int = 1000) -> tuple[float, str]:
    sid = f"batched_{secrets.token_hex(4)}"
    chunks = [events(size, start=b * size) for b in range(batches)]
    t0 = time.perf_counter()
    for chunk in chunks:
        await store.append_many(sid, chunk)
    return batches * size / (time.perf_counter() - t0), sid


async def read_back(store: BaseEventStore, sid: str) -> float:
    t0 = time.perf_counter()
    got = await store.get_events(sid)
    return len(got) / (time.perf_counter() - t0)


async def measure(name: str, opener: Opener, runs: int, n_single: int,
                  batches: int) -> list[Any]:
    try:
        async with opener() as store:
            await store.append_many("warmup", events(50))
            s, c, b, r = [], [], [], []
            for _ in range(runs):
                s.append(await single(store, n_single))
                c.append(await concurrent_single(store, n_single))
                rate, sid = await batched(store, batches)
                b.append(rate)
                r.append(await read_back(store, sid))
    except Exception as exc:  # a missing server or module: report, keep going
        reason = " ".join(str(exc).split())[:90]
        return [name, float("nan"), float("nan"), float("nan"), float("nan"),
                f"skipped: {type(exc).__name__}: {reason}"]
    batched_rate = median_of(b)
    target = TARGETS.get(name)
    verdict = "" if target is None else (
        f"target {target:,.0f}: {'met' if batched_rate >= target else 'NOT met'}")
    return [name, median_of(s), median_of(c), batched_rate, median_of(r), verdict]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single", type=int, default=2000, help="events per single run")
    parser.add_argument("--batches", type=int, default=20, help="append_many(1000) calls per run")
    args = parser.parse_args()
    rows = []
    sep = "&" if "?" in PG_URL else "?"
    relaxed = PG_URL + sep + "options=-c%20synchronous_commit%3Doff"

    def postgres_relaxed() -> Any:
        return postgres_store(relaxed, notify="false")

    for name, opener in (("file", file_store), ("postgres", postgres_store),
                         ("postgres, notify=false, async commit", postgres_relaxed),
                         ("redis", redis_store)):
        rows.append(await measure(name, opener, args.runs, args.single, args.batches))
    print(f"append throughput, events/s (median of {args.runs} runs; single: {args.single} "
          f"events, batched: {args.batches} x append_many(1000))")
    print(table(["store", "single", "single, 8 tasks/8 streams", "batched (1,000)",
                 "read back", "note"], rows))


if __name__ == "__main__":
    asyncio.run(main())
