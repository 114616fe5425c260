"""The SQLite store against the conformance suite, plus its own behaviour."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from l0core import (
    CompleteEvent,
    ConcurrencyConflictError,
    RetryEvent,
    Snapshot,
    StartEvent,
    StoreConfigError,
    TokenEvent,
    create_event_store,
)
from l0core.catalog import SummaryFilter, SummaryQuery
from l0core.catalog.scan import fold_content
from l0core.events import SerializedOptions
from l0core.stores.base import BaseEventStore, Clock
from l0core.stores.catalog_text import searchable
from l0core.stores.sqlite import SQLiteEventStore
from l0core.testing import FakeClock, StoreConformance
from tests.catalog_suite import PROPERTY_SETTINGS, CatalogSuite, catalog_streams
from tests.core.strategies import runs
from tests.stores.catalog_checks import (
    check_catalog_matches_events,
    check_text_search,
)


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


# ── the catalog ──


class TestSQLiteCatalog(CatalogSuite):
    text_search = False
    """Text search is checked by test_text_search_matches_the_reference: the suite's
    reference also searches running streams, which docs/format.md excludes."""

    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.dir = tmp_path

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return SQLiteEventStore(f"sqlite:///{self.dir}/c{next(_DBS)}.db", ttl=ttl, clock=clock)


_DBS = itertools.count()


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _rows(db: Path, sql: str) -> list[Any]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _make_old(db: Path) -> None:
    """Turn a database into one written before the catalog existed."""
    with sqlite3.connect(db) as conn:
        for table in ("l0_summaries", "l0_texts", "l0_catalog"):
            conn.execute(f"DROP TABLE {table}")


async def _fill(store: BaseEventStore, streams: dict[str, list[Any]]) -> None:
    for sid, events in streams.items():
        await store.append_many(sid, events)


async def test_text_search_matches_the_reference(tmp_path: Path) -> None:
    store = SQLiteEventStore(str(tmp_path / "text.db"))
    try:
        await check_text_search(store)
    finally:
        await store.close()


@PROPERTY_SETTINGS
@given(streams=st.lists(runs(), min_size=1, max_size=4), data=st.data())
def test_indexed_content_is_the_final_content_after_random_appends(
        tmp_path_factory: pytest.TempPathFactory, streams: list[list[Any]],
        data: st.DataObject) -> None:
    """Random runs in random chunks: an ended stream's indexed content is its folded
    final content (case-folded); a running stream has none."""
    db = tmp_path_factory.mktemp("content") / "c.db"

    async def go() -> None:
        store = SQLiteEventStore(str(db))
        try:
            for n, events in enumerate(streams):
                i = 0
                while i < len(events):
                    size = data.draw(st.sampled_from([1, 1, 2, 5, 50]))
                    await store.append_many(f"r{n}", events[i:i + size])
                    i += size
            for n in range(len(streams)):
                sid = f"r{n}"
                summary = await store.get_summary(sid)
                assert summary is not None
                got = await store._read(partial(store._catalog.content, stream_id=sid))
                if summary.status == "running":
                    assert got is None
                else:
                    assert got == searchable(await fold_content(store, sid))
        finally:
            await store.close()

    asyncio.run(go())


async def test_concurrent_groups_with_conflicts_keep_summaries_exact(tmp_path: Path) -> None:
    """Group commit with failing neighbours: undone requests leave no trace in summaries."""
    store = SQLiteEventStore(str(tmp_path / "g.db"))
    try:
        for sid in ("a", "b", "c"):
            await store.append(sid, StartEvent(ts=1, options=SerializedOptions(model=sid)))
        results = await asyncio.gather(*(
            store.append_many(f"{'abc'[i % 3]}", [
                TokenEvent(ts=10 + i, value=f"t{i} ", index=i),
                RetryEvent(ts=10 + i, reason="r", attempt=1, counts_toward_limit=i % 2 == 0)],
                expected_seq=None if i % 4 else 99)
            for i in range(60)), return_exceptions=True)
        assert sum(isinstance(r, ConcurrencyConflictError) for r in results) == 15
        await asyncio.gather(*(store.append(sid, CompleteEvent(ts=500, content="end",
                                                               token_count=1))
                               for sid in ("a", "b")))
        assert await check_catalog_matches_events(store) == ["a", "b", "c"]
    finally:
        await store.close()


async def test_delete_and_ttl_remove_summary_and_text_rows(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "d.db"
    store = SQLiteEventStore(str(db), ttl=1000, clock=clock)
    done = [StartEvent(ts=1), CompleteEvent(ts=2, content="gone soon", token_count=0)]
    try:
        await _fill(store, {"x": done, "old": done, "keep": done})
        await store.delete("x")
        assert await store.get_summary("x") is None
        clock.now += 900
        await store.append("keep", TokenEvent(ts=3, value="more", index=0))
        clock.now += 200  # "old" has expired, "keep" has not
        assert await store.get_summary("old") is None
        assert [s.stream_id for s in (await store.query_summaries(SummaryQuery())).items] == [
            "keep"]
        assert await store.count_summaries() == 1
        assert await store.count_summaries(SummaryFilter(text="gone")) == 1
        await store.sweep()
    finally:
        await store.close()
    assert _rows(db, "SELECT stream_id FROM l0_summaries") == [("keep",)]
    assert _rows(db, "SELECT count(*) FROM l0_texts") == [(1,)]
    assert _rows(db, "SELECT value FROM l0_catalog WHERE key = 'total'") == [(1,)]


async def test_catalog_version_moves_with_another_writer(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    reader = SQLiteEventStore(str(db))
    writer = SQLiteEventStore(str(db))
    try:
        before = await reader.catalog_version()
        waiting = asyncio.create_task(reader.wait_catalog_change(60))
        await writer.append("s", StartEvent(ts=1))
        await asyncio.wait_for(waiting, 60)  # returns on the change, long before 60 s
        after = await reader.catalog_version()
        assert before is not None and after != before
        await writer.delete("s")
        assert await reader.catalog_version() != after
        assert await reader.count_summaries() == 0
    finally:
        await writer.close()
        await reader.close()


async def test_old_database_gets_summaries_on_a_writable_open(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = SQLiteEventStore(str(db))
    streams = catalog_streams()
    await _fill(store, streams)
    await store.close()
    _make_old(db)

    reader = SQLiteEventStore(str(db), read_only=True)  # never writes: the scan answers
    assert not reader.keeps_summaries
    assert await reader.count_summaries() == len(streams)
    await reader.close()
    assert "l0_summaries" not in _tables(db)

    store = SQLiteEventStore(str(db))
    assert not store.keeps_summaries  # created, not built yet: callers prepare first
    # an append before the build still gets an exact summary (the stream is folded once)
    await store.append("cat-03-a", CompleteEvent(ts=1, content="late end", token_count=0))
    seen: list[tuple[int, int]] = []
    await store.prepare_catalog(lambda done, total: seen.append((done, total)))
    assert store.keeps_summaries
    assert seen[0] == (0, len(streams)) and seen[-1] == (len(streams), len(streams))
    assert await check_catalog_matches_events(store) == sorted(streams)
    assert await store.count_summaries(SummaryFilter(text="late end")) == 1
    assert await store.build_catalog() == len(streams)  # again: the same rows
    await check_catalog_matches_events(store)
    await store.close()
    reader = SQLiteEventStore(str(db), read_only=True)
    assert reader.keeps_summaries
    assert await reader.count_summaries() == len(streams)
    await reader.close()


async def test_queries_build_an_unbuilt_catalog_first(tmp_path: Path) -> None:
    db = tmp_path / "lazy.db"
    store = SQLiteEventStore(str(db))
    await _fill(store, dict(list(catalog_streams().items())[:5]))
    await store.close()
    _make_old(db)
    store = SQLiteEventStore(str(db))
    try:
        page = await store.query_summaries(SummaryQuery(filter=SummaryFilter(
            status=frozenset({"error"}))))
        assert [s.stream_id for s in page.items] == ["cat-01-b"]
        assert store.keeps_summaries
        await check_catalog_matches_events(store)
    finally:
        await store.close()


async def test_foreign_catalog_table_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE l0_summaries (name TEXT)")
    with pytest.raises(StoreConfigError, match="l0_summaries"):
        SQLiteEventStore(str(db))
    assert _tables(db) == {"l0_summaries"}


async def test_a_running_stream_writes_only_its_streams_row(tmp_path: Path) -> None:
    """TOKENs to a running stream leave its summaries row alone (no index page moves)."""
    db = tmp_path / "hot.db"
    store = SQLiteEventStore(str(db))
    try:
        await store.append("s", StartEvent(ts=1, options=SerializedOptions(model="m")))
        before = _rows(db, "SELECT * FROM l0_summaries")
        for i in range(5):
            await store.append("s", TokenEvent(ts=2 + i, value="t", index=i))
        assert _rows(db, "SELECT * FROM l0_summaries") == before
        summary = await store.get_summary("s")
        assert summary is not None and (summary.event_count, summary.token_count) == (6, 5)
        await store.append("s", CompleteEvent(ts=9, content="x", token_count=5))
        assert _rows(db, "SELECT * FROM l0_summaries") != before
    finally:
        await store.close()


async def test_planned_queries_on_a_large_catalog_match_the_reference(tmp_path: Path) -> None:
    """Above the planner's cap (docs/format.md, "SQLite"), wide conditions walk the
    order's index, wide text is checked row by row and narrow conditions keep their
    index: every page still equals the reference, and counts too."""
    from l0core.catalog import apply_query
    from l0core.catalog.query import count_matching
    from l0core.catalog.syntax import parse_filter
    from l0core.stores.sqlite_catalog import _DIALECT
    from l0core.stores.sqlite_plan import choose_plan

    store = SQLiteEventStore(str(tmp_path / "big.db"))
    try:
        streams: dict[str, list[Any]] = {}
        for copy in range(60):  # 2,400 streams: 1,800 completed, 600 errors
            for sid, events in catalog_streams(1_700_000_000_000.0 + copy * 1e9).items():
                streams[f"{sid}-{copy:02d}"] = events
        await asyncio.gather(*(store.append_many(sid, events)
                               for sid, events in streams.items()))
        summaries = [s for s in [await store.get_summary(sid) for sid in streams] if s]
        contents = {s.stream_id: await fold_content(store, s.stream_id)
                    for s in summaries if s.status != "running"}  # only ended ones are indexed

        def plan_of(text: str, order: str) -> Any:
            query = SummaryQuery(filter=parse_filter(text), order=order, limit=50)  # type: ignore[arg-type]
            cat = store._catalog
            return store._read(lambda c: choose_plan(
                c, query, cat.counter(c, "total"), cat.t_summaries, _DIALECT, cat._text,
                cat._text_candidates(query.filter)))

        assert (await plan_of("status:completed", "duration_ms")).keyless == {"status"}
        assert (await plan_of("status:error", "duration_ms")).keyless == frozenset()
        assert (await plan_of('"refund"', "start_ts")).text_per_row
        assert not (await plan_of('"xyzzy"', "start_ts")).text_per_row

        filters = ("status:completed", "status:error", "model:gpt-4o status:completed",
                   '"refund"', '"refund" status:error', '"weather invoice"', "id:cat-07",
                   "status:completed retries>0", '"xyzzy"', "")
        for text in filters:
            flt = parse_filter(text) if text else SummaryFilter()
            assert await store.count_summaries(flt) == count_matching(
                summaries, flt, contents.get), text
            for order in ("start_ts", "duration_ms", "token_count", "stream_id", "model"):
                query = SummaryQuery(filter=flt, order=order, limit=50)  # type: ignore[arg-type]
                want = apply_query(summaries, SummaryQuery(
                    filter=flt, order=order, limit=150), contents.get)  # type: ignore[arg-type]
                got: list[str] = []
                for _ in range(3):
                    page = await store.query_summaries(query)
                    got += [s.stream_id for s in page.items]
                    if page.next_after is None:
                        break
                    query = SummaryQuery(filter=flt, order=order, limit=50,  # type: ignore[arg-type]
                                         after=page.next_after)
                assert got == [s.stream_id for s in want.items], (text, order)
    finally:
        await store.close()


async def test_a_read_the_caller_stops_waiting_for_is_interrupted(tmp_path: Path) -> None:
    """A superseded count must not go on taking a core: cancelling the caller
    interrupts the statement on its reader thread."""
    store = SQLiteEventStore(str(tmp_path / "int.db"))
    try:
        await store.append("s", TokenEvent(ts=1, value="x", index=0))
        outcome: list[str] = []

        def endless(conn: sqlite3.Connection) -> Any:
            try:
                return conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                    "FROM n) SELECT count(*) FROM n").fetchone()
            except sqlite3.OperationalError as exc:
                outcome.append(str(exc))
                raise

        task = asyncio.create_task(store._read(endless))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(200):  # the endless count only stops when interrupted
            if outcome:
                break
            await asyncio.sleep(0.05)
        assert outcome == ["interrupted"]
        assert await store.count_summaries() == 1  # the connection still works
    finally:
        await store.close()
