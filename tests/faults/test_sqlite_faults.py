"""Fault tests of the SQLite store: crashes, racing processes, a full disk, a bad row."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from l0core import CorruptionError, TokenEvent
from l0core.stores.sqlite import SQLiteEventStore
from tests.faults.procs import kill_during_appends, race_writers, spawn


@pytest.mark.slow
async def test_kill_during_appends_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(4321)
    for trial in range(20):
        db = tmp_path / f"t{trial}.db"
        batch = rng.choice([1, 1, 1, 5, 200])
        acks = kill_during_appends("sqlite", str(db), rng, batch=batch).pairs()
        assert acks, "the writer acknowledged nothing before the kill"
        store = SQLiteEventStore(f"sqlite:///{db}")
        events = await store.get_events("s1")  # reopening never raises
        n = len(events)
        assert [e.seq for e in events] == list(range(n))
        assert [e.event.value for e in events] == [  # type: ignore[union-attr]
            f"w:{i}" for i in range(n)]
        for seq, value in acks:
            assert seq < n and events[seq].event.value == value  # type: ignore[union-attr]
        report = await store.verify()
        assert [(c.status, c.events) for c in report.streams] == [("ok", n)], report.summary()
        assert await store.append("s1", TokenEvent(ts=1, value="after", index=n)) == n
        await store.close()


@pytest.mark.slow
async def test_four_processes_append_to_one_stream(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    results = race_writers("sqlite", str(db), 4, 1000)
    store = SQLiteEventStore(f"sqlite:///{db}")
    events = await store.get_events("s1")
    assert [e.seq for e in events] == list(range(4000))
    per: dict[str, list[int]] = {}
    for e in events:
        tag, i = e.event.value.split(":")  # type: ignore[union-attr]
        per.setdefault(tag, []).append(int(i))
    assert per == {f"w{w}": list(range(1000)) for w in range(4)}
    for acks in results:
        for seq, value in acks.pairs():
            assert events[seq].event.value == value  # type: ignore[union-attr]
    await store.close()


@pytest.mark.slow
async def test_real_write_limit_acknowledges_nothing(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the kernel refuse SQLite's write in a child process."""
    proc = spawn("diskfull", "--store", "sqlite", "--path", str(tmp_path / "full.db"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["failed"], result
    assert result["after_failure"] == list(range(100))
    assert result["next_seq"] == 100
    assert result["reopened"] == list(range(101)) and result["last_value"] == "again"


async def test_damaged_row_raises_corruption_naming_the_seq(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    store = SQLiteEventStore(f"sqlite:///{db}")
    await store.append_many("s1", [TokenEvent(ts=1, value=f"v{i}", index=i) for i in range(10)])
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE l0_events SET body = '{\"type\": \"TOK' WHERE seq = 6")
    with pytest.raises(CorruptionError, match="seq 6"):
        await store.get_events("s1")
    assert [e.seq for e in await store.read_events("s1", to_seq=5)] == list(range(6))
    (check,) = (await store.verify()).streams
    assert check.status == "corrupt" and "seq 6" in check.detail
    await store.close()
