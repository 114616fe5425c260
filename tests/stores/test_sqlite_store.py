"""The SQLite store against the conformance suite, plus its own behaviour."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from l0core import (
    ConcurrencyConflictError,
    Snapshot,
    StoreConfigError,
    TokenEvent,
    create_event_store,
)
from l0core.stores.base import BaseEventStore, Clock
from l0core.stores.sqlite import SQLiteEventStore
from l0core.testing import FakeClock, StoreConformance


class TestSQLiteStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _db(self, tmp_path: Path) -> None:
        self.db = tmp_path / "events.db"

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return SQLiteEventStore(f"sqlite:///{self.db}", ttl=ttl, clock=clock)

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        return SQLiteEventStore(f"sqlite:///{self.db}")


async def test_registry_opens_sqlite_urls_and_paths(tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path}/a.db", str(tmp_path / "b.sqlite")):
        store = await create_event_store(url)
        assert isinstance(store, SQLiteEventStore)
        await store.append("s1", TokenEvent(ts=1, value="x", index=0))
        await store.close()
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.sqlite").exists()


async def test_bodies_are_wire_json(tmp_path: Path) -> None:
    store = SQLiteEventStore(str(tmp_path / "w.db"))
    await store.append("s1", {"type": "RETRY", "ts": 5, "reason": "r", "attempt": 1,
                              "counts_toward_limit": True})
    await store.close()
    with sqlite3.connect(tmp_path / "w.db") as conn:
        (kind, flag), = conn.execute(
            "SELECT json_extract(body, '$.type'), json_extract(body, '$.countsTowardLimit') "
            "FROM l0_events")
    assert (kind, flag) == ("RETRY", 1)


async def test_read_only_never_creates_or_writes(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigError, match="does not exist"):
        SQLiteEventStore(str(tmp_path / "missing.db"), read_only=True)
    assert not (tmp_path / "missing.db").exists()
    writer = SQLiteEventStore(str(tmp_path / "r.db"))
    await writer.append("s1", TokenEvent(ts=1, value="x", index=0))
    await writer.close()
    reader = SQLiteEventStore(str(tmp_path / "r.db"), read_only=True)
    assert [e.seq for e in await reader.get_events("s1")] == [0]
    with pytest.raises(StoreConfigError, match="read-only"):
        await reader.append("s1", TokenEvent(ts=1, value="y", index=1))
    with pytest.raises(StoreConfigError, match="read-only"):
        await reader.delete("s1")
    assert (await reader.verify()).ok
    await reader.close()


async def test_ttl_sweeper_deletes_rows(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SQLiteEventStore(str(tmp_path / "t.db"), ttl=1000, clock=clock)
    await store.append("old", TokenEvent(ts=1, value="x", index=0))
    await store.save_snapshot(Snapshot(stream_id="old", seq=0, ts=1, content="x",
                                       token_count=1, checkpoint=""))
    clock.now += 2000
    await store.append("new", TokenEvent(ts=1, value="x", index=0))
    await store.sweep()
    await store.close()
    with sqlite3.connect(tmp_path / "t.db") as conn:
        rows = {t: conn.execute(f"SELECT DISTINCT stream_id FROM l0_{t}").fetchall()
                for t in ("streams", "events", "snapshots")}
    assert rows == {"streams": [("new",)], "events": [("new",)], "snapshots": []}


async def test_group_commit_coalesces_concurrent_appends(tmp_path: Path) -> None:
    store = SQLiteEventStore(str(tmp_path / "g.db"))
    groups: list[int] = []
    commit = store._commit_group

    def counting(conn: sqlite3.Connection, group: list[Any]) -> None:
        groups.append(len(group))
        commit(conn, group)

    store._commit_group = counting  # type: ignore[method-assign]
    await asyncio.gather(*(store.append("s1", TokenEvent(ts=1, value=f"{i}", index=i))
                           for i in range(300)))
    assert sum(groups) == 300 and len(groups) < 300
    assert [e.seq for e in await store.get_events("s1")] == list(range(300))
    await store.close()


async def test_conflict_in_a_group_spares_its_neighbours(tmp_path: Path) -> None:
    store = SQLiteEventStore(str(tmp_path / "c.db"))
    await store.append("s1", TokenEvent(ts=1, value="a", index=0))
    results = await asyncio.gather(
        *(store.append("s1", TokenEvent(ts=1, value=f"{i}", index=i),
                       expected_seq=None if i % 2 else -1) for i in range(20)),
        return_exceptions=True)
    conflicts = [r for r in results if isinstance(r, ConcurrencyConflictError)]
    assert len(conflicts) == 10
    assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 11))
    await store.close()


def test_durability_settings(tmp_path: Path) -> None:
    assert SQLiteEventStore(str(tmp_path / "a.db")).durability == "group"
    assert SQLiteEventStore(f"sqlite:///{tmp_path}/b.db?durability=fsync").durability == "fsync"
    assert (tmp_path / "b.db").exists()
    with pytest.raises(StoreConfigError, match="durability"):
        SQLiteEventStore(str(tmp_path / "c.db"), durability="never")  # type: ignore[arg-type]


async def test_failed_request_in_a_group_leaves_no_trace(tmp_path: Path) -> None:
    """An append that finds its stream expired drops it, then fails its seq check: the
    drop is rolled back with it, and the next request in the same group sees the rows."""
    clock = FakeClock()
    store = SQLiteEventStore(str(tmp_path / "x.db"), ttl=1000, clock=clock)
    await store.append_many("s1", [TokenEvent(ts=1, value=f"{i}", index=i) for i in range(3)])
    clock.now += 5000  # s1 has expired
    results = await asyncio.gather(
        store.append("s1", TokenEvent(ts=1, value="a", index=0), expected_seq=7),
        store.append("s2", TokenEvent(ts=1, value="b", index=0)),
        store.append("s1", TokenEvent(ts=1, value="c", index=0)),
        return_exceptions=True)
    assert isinstance(results[0], ConcurrencyConflictError)
    assert results[1:] == [0, 0]  # s1 expired, so the append that succeeded restarts it
    assert [e.event.value for e in await store.get_events("s1")] == ["c"]  # type: ignore[union-attr]
    await store.close()
