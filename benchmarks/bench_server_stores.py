"""Append and read throughput of the PostgreSQL, Redis and NATS JetStream stores, beside the
file store.

    .venv-bench/bin/python benchmarks/bench_server_stores.py [--runs 3] [--batches 20]

Rows per store: single appends (one ``append`` per event, one stream), single
appends from 8 tasks on 8 streams at once, batched (``append_many`` of 1,000),
and reading the batched stream back. Each figure is the median of ``--runs``
runs, each on a fresh stream. The second PostgreSQL row shows what the commit
costs: ``notify=false`` (no ``pg_notify``, followers poll) and
``synchronous_commit=off`` (the server acknowledges before its WAL is flushed).
Targets: PostgreSQL >= 20k events/s batched, Redis >= 30k events/s
batched, JetStream >= 30k events/s batched on one node and R3 (a 3-node cluster
this script starts on loopback) within 3x of one node. Servers default to the dev
machine's (override with L0_TEST_POSTGRES_URL / L0_TEST_REDIS_URL /
L0_TEST_NATS_URL); a store whose server or module is missing is reported as skipped.
Redis Cluster (3 masters + 3 replicas this script starts on loopback) should be within
2x of single-node Redis, batched; its first row waits for a replica per append
(``WAIT``, the cluster default), the second does not.
"""

from __future__ import annotations

import argparse
import asyncio
import math
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


# ── NATS JetStream: the shared server (one node) and a 3-node cluster started here (R3) ──

NATS_URL = os.environ.get("L0_TEST_NATS_URL", "nats://127.0.0.1:4222")
NATS_SERVER = os.environ.get("L0_NATS_SERVER", "/usr/sbin/nats-server")
TARGETS["jetstream"] = 30_000.0


async def _drop_nats_stream(url: str, stream: str) -> None:
    import nats

    nc = await nats.connect(url)
    try:
        jsm = nc.jsm()
        for info in await jsm.streams_info():
            name = info.config.name or ""
            if name == stream or name.startswith(f"KV_{stream}_"):
                await jsm.delete_stream(name)
    finally:
        await nc.close()


@asynccontextmanager
async def jetstream_store(url: str = NATS_URL, **options: Any) -> AsyncIterator[BaseEventStore]:
    """A JetStream stream of its own on ``url``, deleted (with its buckets) afterwards."""
    from l0core.stores.nats import NatsEventStore

    stream = f"L0BENCH_{secrets.token_hex(4)}"
    cfg = StorageAdapterConfig(type="nats", connection=url,
                               options={"stream": stream, **options})
    store = await NatsEventStore(cfg).open()
    try:
        yield store
    finally:
        await store.close()
        await _drop_nats_stream(url.split("/?")[0].split(",")[0], stream)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_cluster(root: str) -> tuple[list[Any], str]:
    """Three nats-server processes on loopback with their own data directories; the seeds."""
    import subprocess
    import urllib.request

    ports = [(_free_port(), _free_port(), _free_port()) for _ in range(3)]
    procs = []
    for i, (port, cport, mport) in enumerate(ports):
        routes = ",".join(f"nats://127.0.0.1:{p[1]}" for j, p in enumerate(ports) if j != i)
        procs.append(subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-m", str(mport), "-js",
             "-sd", f"{root}/n{i}", "-n", f"bench{i}", "--cluster_name", "l0bench",
             "--cluster", f"nats://127.0.0.1:{cport}", "--routes", routes],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for _ in range(300):
        try:
            if all(b'"ok"' in urllib.request.urlopen(f"http://127.0.0.1:{p[2]}/healthz",
                                                     timeout=1).read() for p in ports):
                break
        except OSError:
            pass
        time.sleep(0.1)
    return procs, ",".join(f"127.0.0.1:{p[0]}" for p in ports)


@asynccontextmanager
async def jetstream_r3_store() -> AsyncIterator[BaseEventStore]:
    """An R3 stream on a 3-node cluster started for the run, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="l0bench-nats-") as root:
        procs, seeds = await asyncio.to_thread(_start_cluster, root)
        try:
            async with jetstream_store(f"nats://{seeds}/", replicas="3") as store:
                yield store
        finally:
            for proc in procs:
                proc.kill()
                await asyncio.to_thread(proc.wait)


def jetstream_openers() -> list[tuple[str, Opener]]:
    return [("jetstream", jetstream_store), ("jetstream R3 (3 local nodes)", jetstream_r3_store)]


def jetstream_notes(rows: list[list[Any]]) -> None:
    """The R3 row's note: how much slower than one node, batched (target: within 3x)."""
    by_name = {row[0]: row for row in rows}
    one, r3 = by_name.get("jetstream"), by_name.get("jetstream R3 (3 local nodes)")
    if one is None or r3 is None or math.isnan(one[3]) or math.isnan(r3[3]):
        return
    ratio = one[3] / r3[3] if r3[3] else float("inf")
    verdict = "met" if ratio <= 3 else "NOT met"
    r3[5] = f"one node / R3 = {ratio:.2f}, batched (target <= 3: {verdict})"


# ── Redis Cluster: 3 masters + 3 replicas started here on loopback ──

REDIS_CLUSTER_ROWS = ("redis cluster (3+3 local, WAIT 1)", "redis cluster, wait_replicas=0")


@asynccontextmanager
async def redis_cluster_store(**options: Any) -> AsyncIterator[BaseEventStore]:
    """A Redis Cluster of its own (tests/redis_cluster.py), removed afterwards."""
    from l0core.stores.redis import RedisEventStore
    from tests.redis_cluster import LocalRedisCluster

    with tempfile.TemporaryDirectory(prefix="l0bench-redis-cluster-") as root:
        cluster = await asyncio.to_thread(LocalRedisCluster(Path(root)).start)
        try:
            cfg = StorageAdapterConfig(type="redis", connection=cluster.url,
                                       prefix=f"l0bench_{secrets.token_hex(4)}",
                                       options=options)
            store = await RedisEventStore(cfg).open()
            try:
                yield store
            finally:
                await store.close()
        finally:
            await asyncio.to_thread(cluster.close)


def redis_cluster_openers() -> list[tuple[str, Opener]]:
    def no_wait() -> Any:
        return redis_cluster_store(wait_replicas="0")

    return [(REDIS_CLUSTER_ROWS[0], redis_cluster_store), (REDIS_CLUSTER_ROWS[1], no_wait)]


def redis_cluster_notes(rows: list[list[Any]]) -> None:
    """The cluster rows' notes: single-node Redis / cluster, batched (target: within 2x)."""
    by_name = {row[0]: row for row in rows}
    single = by_name.get("redis")
    for name in REDIS_CLUSTER_ROWS:
        row = by_name.get(name)
        if single is None or row is None or math.isnan(single[3]) or math.isnan(row[3]):
            continue
        ratio = single[3] / row[3] if row[3] else float("inf")
        row[5] = (f"one node / cluster = {ratio:.2f}, batched "
                  f"(target <= 2: {'met' if ratio <= 2 else 'NOT met'})")


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
                         ("redis", redis_store), *redis_cluster_openers(),
                         *jetstream_openers()):
        rows.append(await measure(name, opener, args.runs, args.single, args.batches))
    jetstream_notes(rows)
    redis_cluster_notes(rows)
    print(f"append throughput, events/s (median of {args.runs} runs; single: {args.single} "
          f"events, batched: {args.batches} x append_many(1000))")
    print(table(["store", "single", "single, 8 tasks/8 streams", "batched (1,000)",
                 "read back", "note"], rows))


if __name__ == "__main__":
    asyncio.run(main())
