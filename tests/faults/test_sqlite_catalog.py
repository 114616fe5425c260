"""The SQLite store's catalog under faults: kill -9 during appends, racing processes.

Real processes (``tests/faults/sql_catalog_writer.py``) write realistic runs to many
streams; afterwards every summary must equal what the stream's events fold to, the
counts and the text index must agree with the events, and a writable reopen must
change nothing about that.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from l0core.catalog import SummaryFilter, SummaryQuery
from l0core.catalog.scan import fold_content
from l0core.stores.catalog_text import searchable
from l0core.stores.sqlite import SQLiteEventStore
from tests.faults.procs import ROOT, kill_during_appends
from tests.stores.catalog_checks import check_catalog_matches_events


def spawn_writer(db: Path, tag: str, seed: int, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.sql_catalog_writer", "--store", "sqlite",
         "--path", str(db), "--tag", tag, "--seed", str(seed), *extra],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def kill_after_first_ack(proc: subprocess.Popen[str], rng: random.Random) -> bool:
    """SIGKILL ``proc`` 10-200 ms after its first acknowledged append; True when the
    kill landed before it finished."""
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first == "ack\n", proc.stderr.read() if proc.stderr else first
    threading.Thread(target=lambda: [None for _ in proc.stdout or []], daemon=True).start()
    time.sleep(rng.uniform(0.01, 0.2))
    proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=30) == -signal.SIGKILL


async def check_store(db: Path) -> list[str]:
    """Summaries, counts, error filter and text index all agree with the events."""
    store = SQLiteEventStore(f"sqlite:///{db}")
    try:
        ids = await check_catalog_matches_events(store)
        errors = await store.query_summaries(SummaryQuery(
            filter=SummaryFilter(status=frozenset({"error"})), limit=10_000))
        failed = []
        for sid in ids:
            summary = await store.get_summary(sid)
            assert summary is not None
            if summary.status == "error":
                failed.append(sid)
            got = await store._read(partial(store._catalog.content, stream_id=sid))
            want = None if summary.status == "running" else searchable(
                await fold_content(store, sid))
            assert got == want, sid
        assert sorted(s.stream_id for s in errors.items) == failed
        return ids
    finally:
        await store.close()


@pytest.mark.slow
async def test_kill_during_appends_then_summaries_equal_the_fold(tmp_path: Path) -> None:
    rng = random.Random(1234)
    killed = 0
    for trial in range(10):
        db = tmp_path / f"k{trial}.db"
        if trial % 2:
            killed += kill_after_first_ack(spawn_writer(db, "k", trial, "--streams", "400"),
                                           rng)
        else:  # the token-only harness of the other SQLite fault tests
            kill_during_appends("sqlite", str(db), rng, batch=rng.choice([1, 5, 200]))
        ids = await check_store(db)
        assert ids, "the writer wrote nothing before the kill"
        assert await check_store(db) == ids  # a writable reopen changes nothing
    assert killed >= 4, "the writers finished before they were killed"


@pytest.mark.slow
async def test_four_writer_processes_keep_exact_summaries(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    SQLiteEventStore(str(db))  # the tables, before the race
    procs = [spawn_writer(db, f"w{w}", w, "--streams", "40", "--wait-go") for w in range(4)]
    await asyncio.sleep(0.3)
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    ids = await check_store(db)
    assert len(ids) == 4 * 40 + 1  # every writer's streams and the shared one
