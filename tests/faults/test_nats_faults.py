"""NatsEventStore under faults, on nats-server processes the tests start themselves.

- A server killed (SIGKILL) and restarted twice during appends from several
  writers: every acknowledged event is stored once, at its seq (a publish resent
  after the restart carries the same Nats-Msg-Id and is deduplicated).
- A 3-node JetStream cluster, R3 stream: the stream leader killed mid-run, appends
  go on through the other nodes, nothing acknowledged is lost, and the node holds
  the same messages once it is back.
- A reply lost after the server stored the publish (a TCP proxy hangs up): the
  resend is recognised, nothing is written twice.
- 4 writer processes x 1,000 appends to one recording: seqs 0..3999, each writer's
  order kept; writer processes SIGKILLed mid-run: the summary still equals the fold.

Servers of our own listen on free loopback ports with data directories under the
test's tmp_path, and are killed when the test ends; the tests that use the shared
server (4222) work in a JetStream stream of their own.
"""

from __future__ import annotations

import asyncio
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from l0core import TokenEvent
from l0core.stores.base import StorageAdapterConfig
from tests.catalog_suite import assert_summary_matches_events
from tests.faults.nats_writer_proc import spawn
from tests.nats_servers import NatsServer, cluster_url, nats_cluster, nats_server, wait_healthy
from tests.services import (
    FaultProxy,
    check_writers,
    delete_nats_stream,
    nats_url,
    unique_stream,
)

pytestmark = pytest.mark.services


async def open_nats(url: str, stream: str, **options: Any) -> Any:
    from l0core.stores.nats import NatsEventStore

    cfg = StorageAdapterConfig(type="nats", connection=url,
                               options={"stream": stream, **options})
    return await NatsEventStore(cfg).open()


@pytest.fixture
def shared_stream() -> Iterator[tuple[str, str]]:
    url = nats_url()
    stream = unique_stream("F")
    yield url, stream
    delete_nats_stream(url, stream)


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Appenders:
    """Writer tasks, one store each, appending ``w:i`` tokens to one recording; every
    acknowledged append is remembered with the seq it got."""

    def __init__(self, stores: list[Any], sid: str, per: int) -> None:
        self.stores = stores
        self.sid = sid
        self.per = per
        self.acked: dict[tuple[int, int], int] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for w, store in enumerate(self.stores):
            self.tasks.append(asyncio.create_task(self._write(w, store)))

    async def _write(self, w: int, store: Any) -> None:
        for i in range(self.per):
            self.acked[w, i] = await store.append(
                self.sid, TokenEvent(ts=1.0 + i, value=f"{w}:{i}", index=i))

    async def finish(self) -> None:
        await asyncio.gather(*self.tasks)


def restart(server: NatsServer, down_for: float) -> None:
    """SIGKILL the server, leave it down a while, start it on its ports and data again."""
    server.kill()
    time.sleep(down_for)
    server.start()
    wait_healthy([server])


@pytest.mark.slow
async def test_server_killed_and_restarted_during_appends(tmp_path: Path) -> None:
    with nats_server(tmp_path) as server:
        url = f"{server.url}/?timeout=2&retry_timeout=90"
        stores = [await open_nats(url, "FAULT") for _ in range(3)]
        batcher = await open_nats(url, "FAULT")
        appenders = Appenders(stores, "s", 300)
        batches: dict[int, int] = {}

        async def batch_writer() -> None:
            for b in range(40):
                events = [TokenEvent(ts=1.0, value=f"b{b}:{k}", index=k) for k in range(50)]
                batches[b] = await batcher.append_many("b", events)

        try:
            appenders.start()
            batch_task = asyncio.create_task(batch_writer())
            for threshold in (150, 450):
                await wait_for(lambda t=threshold: len(appenders.acked) >= t,  # type: ignore[misc]
                               f"{threshold} acknowledged appends")
                await asyncio.to_thread(restart, server, 1.0)
            await appenders.finish()
            await batch_task
            check_writers(await stores[0].get_events("s"), appenders.acked, 3, 300)
            got = await batcher.get_events("b")
            assert [e.seq for e in got] == list(range(40 * 50))
            assert all(batches[b] == 50 * b + 49 for b in range(40))
            assert [getattr(e.event, "value", "") for e in got] == [
                f"b{b}:{k}" for b in range(40) for k in range(50)]
            fresh = await open_nats(url, "FAULT")
            try:
                await assert_summary_matches_events(fresh, "s")
                await assert_summary_matches_events(fresh, "b")
            finally:
                await fresh.close()
        finally:
            for store in [*stores, batcher]:
                await store.close()


def _stream_state(server: NatsServer, name: str) -> dict[str, Any] | None:
    """The stream's state as ``server`` holds it (its monitoring endpoint)."""
    try:
        report: dict[str, Any] = server.jsz()
    except OSError:
        return None
    for account in report.get("account_details") or []:
        for detail in account.get("stream_detail") or []:
            if detail.get("name") == name:
                state: dict[str, Any] = detail.get("state", {})
                return state
    return None


@pytest.mark.slow
async def test_r3_cluster_loses_nothing_when_the_leader_dies(tmp_path: Path) -> None:
    with nats_cluster(tmp_path) as nodes:
        url = cluster_url(nodes, replicas="3", timeout="2", retry_timeout="90")
        stores = [await open_nats(url, "R3") for _ in range(3)]
        try:
            info = await stores[0]._link.api("STREAM.INFO.R3", None, "stream info")
            assert info["config"]["num_replicas"] == 3
            leader_name = info["cluster"]["leader"]
            leader = next(n for n in nodes if n.name == leader_name)
            appenders = Appenders(stores, "s", 300)
            appenders.start()
            await wait_for(lambda: len(appenders.acked) >= 150, "150 acknowledged appends")
            await asyncio.to_thread(leader.kill)
            killed_at = len(appenders.acked)
            await wait_for(lambda: len(appenders.acked) >= killed_at + 200,
                           "appends after the leader died")
            await asyncio.to_thread(leader.start)
            await asyncio.to_thread(wait_healthy, [leader])
            await appenders.finish()
            events = await stores[0].get_events("s")
            check_writers(events, appenders.acked, 3, 300)
            info = await stores[0]._link.api("STREAM.INFO.R3", None, "stream info")
            assert info["cluster"]["leader"] != leader_name or len(
                info["cluster"].get("replicas", [])) == 2
            want = info["state"]
            await wait_for(lambda: (_stream_state(leader, "R3") or {}).get("last_seq")
                           == want["last_seq"], "the restarted node to catch up", 60)
            caught_up = _stream_state(leader, "R3")
            assert caught_up is not None
            assert (caught_up["messages"], caught_up["first_seq"]) == (
                want["messages"], want["first_seq"])
            await assert_summary_matches_events(stores[1], "s")
        finally:
            for store in stores:
                await store.close()


async def test_lost_reply_is_not_written_twice(shared_stream: tuple[str, str]) -> None:
    url, stream = shared_stream
    async with FaultProxy("127.0.0.1", int(url.rsplit(":", 1)[1])) as proxy:
        store = await open_nats(f"nats://127.0.0.1:{proxy.port}", stream, timeout=1,
                                retry_timeout=30)
        try:
            await store.append("s", TokenEvent(ts=1, value="before", index=0))
            proxy.arm(b"LOST-REPLY")
            assert await store.append("s", TokenEvent(ts=2, value="LOST-REPLY", index=1)) == 1
            assert proxy.fired == 1
            proxy.arm(b"LOST-REQUEST", after_server=False)
            seq = await store.append_many("s", [TokenEvent(ts=3, value="LOST-REQUEST", index=2),
                                                TokenEvent(ts=4, value="after", index=3)])
            assert proxy.fired == 2 and seq == 3
            got = await store.get_events("s")
            assert [getattr(e.event, "value", "") for e in got] == [
                "before", "LOST-REPLY", "LOST-REQUEST", "after"]
            await assert_summary_matches_events(store, "s")
        finally:
            await store.close()


def _acks(proc: Any) -> list[tuple[int, str]]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, -signal.SIGKILL), err[-3000:]
    pairs = []
    for line in out.splitlines(keepends=True):
        if line.endswith("\n"):
            seq, value = line.split()
            pairs.append((int(seq), value))
    return pairs


@pytest.mark.slow
async def test_four_writer_processes_on_one_recording(shared_stream: tuple[str, str]) -> None:
    url, stream = shared_stream
    setup = await open_nats(url, stream)  # creates the stream before the race
    await setup.close()
    procs = [spawn(url, stream, count=1000, tag=str(w), wait_go=True) for w in range(4)]
    await asyncio.sleep(1.0)  # let them import and open the store
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = await asyncio.gather(*(asyncio.to_thread(_acks, p) for p in procs))
    acked = {}
    for pairs in results:
        for seq, value in pairs:
            w, i = value.split(":")
            acked[int(w), int(i)] = seq
    assert len(acked) == 4000
    store = await open_nats(url, stream)
    try:
        check_writers(await store.get_events("shared"), acked, 4, 1000)
        await assert_summary_matches_events(store, "shared")
    finally:
        await store.close()


def _drain(proc: Any, lines: list[str], started: threading.Event) -> None:
    """Keep a writer's stdout empty (so it never blocks), noting every line."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        started.set()
    started.set()


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 25])
async def test_writer_killed_mid_run_leaves_a_true_summary(shared_stream: tuple[str, str],
                                                          batch: int) -> None:
    """SIGKILL lands between a publish and its summary put in some trials: readers
    must still see the summary the events fold to, and every acknowledged event."""
    url, stream = shared_stream
    setup = await open_nats(url, stream)
    await setup.close()
    rng = random.Random(batch)
    for trial in range(5):
        sid = f"k{trial}"
        proc = spawn(url, stream, count=100_000, tag="0", batch=batch, sid=sid)
        started = threading.Event()
        lines: list[str] = []
        reader = threading.Thread(target=_drain, args=(proc, lines, started), daemon=True)
        reader.start()
        assert await asyncio.to_thread(started.wait, 60), "the writer never acknowledged"
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 30)
        await asyncio.to_thread(reader.join, 30)
        acked = [(int(s), v) for s, v in (ln.split() for ln in lines if ln.endswith("\n"))]
        for read_only in (True, False):
            store = await open_nats(url, stream, read_only=read_only)
            try:
                events = await store.get_events(sid)
                assert [e.seq for e in events] == list(range(len(events)))
                values = [getattr(e.event, "value", "") for e in events]
                assert values == [f"0:{i}" for i in range(len(events))]
                assert all(values[seq] == value for seq, value in acked)
                await assert_summary_matches_events(store, sid)
            finally:
                await store.close()
