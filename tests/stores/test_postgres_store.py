"""PostgresEventStore against a real PostgreSQL: the conformance suite and its extras.

Every test gets its own schema (dropped afterwards), so tests never see each
other's streams and nothing is left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from l0core import CompleteEvent, StartEvent, TokenEvent
from l0core.catalog import SummaryFilter, SummaryQuery
from l0core.errors import StoreConfigError
from l0core.events import SerializedOptions
from l0core.stores.base import BaseEventStore, Clock, StorageAdapterConfig
from l0core.stores.registry import create_event_store
from l0core.testing import FakeClock, StoreConformance, tokens
from tests.catalog_suite import CatalogSuite, catalog_streams
from tests.services import (
    drop_postgres_prefix,
    drop_postgres_schema,
    postgres_dsn,
    unique_name,
)
from tests.stores.catalog_checks import (
    check_catalog_matches_events,
    check_text_search,
)

pytestmark = pytest.mark.services


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(dsn, schema): a fresh schema name, dropped after the test."""
    dsn = postgres_dsn()
    schema = unique_name("pg")
    yield dsn, schema
    drop_postgres_schema(dsn, schema)


async def open_pg(dsn: str, schema: str, **kw: Any) -> Any:
    from l0core.stores.postgres import PostgresEventStore

    clock = kw.pop("clock", None)
    options = {"schema": schema, **kw.pop("options", {})}
    cfg = StorageAdapterConfig(type="postgres", connection=dsn, options=options, **kw)
    return await PostgresEventStore(cfg, clock=clock).open()


class TestPostgresStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _schema(self, pg_schema: tuple[str, str]) -> None:
        self.dsn, self.schema = pg_schema

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        store: BaseEventStore = await open_pg(self.dsn, self.schema, ttl=ttl, clock=clock)
        return store

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        peer: BaseEventStore = await open_pg(self.dsn, self.schema, ttl=store.ttl)
        return peer


async def test_create_event_store_from_url(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    store = await create_event_store(f"{dsn}?schema={schema}&prefix=fromurl&pool_max_size=2")
    try:
        assert type(store).__name__ == "PostgresEventStore"
        assert store.prefix == "fromurl"
        assert await store.append_many("s", tokens(3)) == 2
        assert await store.list_streams() == ["s"]
    finally:
        await store.close()
    # The default URL form of the issue works too (public schema, its own prefix).
    prefix = unique_name("p")
    plain = await create_event_store({"type": "postgres", "connection": dsn, "prefix": prefix})
    try:
        assert await plain.append("s", tokens(1)[0]) == 0
        assert plain.describe() == dsn
    finally:
        await plain.close()
        drop_postgres_prefix(dsn, "public", prefix)
        _drop_catalog_tables(dsn, "public", prefix)


def _drop_catalog_tables(dsn: str, schema: str, prefix: str) -> None:
    """The catalog's tables, which ``drop_postgres_prefix`` does not know yet."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        for suffix in ("summaries", "texts", "catalog"):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                sql.Identifier(schema, f"{prefix}_{suffix}")))


async def test_prefixes_are_isolated_in_one_schema(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    a = await open_pg(dsn, schema, prefix="alpha")
    b = await open_pg(dsn, schema, prefix="beta")
    try:
        await a.append_many("s", tokens(2))
        assert await b.list_streams() == []
        assert await b.append("s", tokens(1)[0]) == 0
    finally:
        await a.close()
        await b.close()


def test_hostile_prefix_and_schema_are_refused() -> None:
    from l0core.stores.postgres import PostgresEventStore

    for bad in ('x"; DROP TABLE t; --', "a b", "1abc"):
        with pytest.raises(StoreConfigError, match="prefix"):
            PostgresEventStore(StorageAdapterConfig(type="postgres", prefix=bad))
        with pytest.raises(StoreConfigError, match="schema"):
            PostgresEventStore(StorageAdapterConfig(type="postgres",
                                                    connection=f"postgresql://h/db?schema={bad}"))
    with pytest.raises(StoreConfigError, match="too long"):
        PostgresEventStore(StorageAdapterConfig(type="postgres", prefix="p" * 60))


async def test_schema_is_versioned_and_reopening_is_idempotent(
    pg_schema: tuple[str, str],
) -> None:
    dsn, schema = pg_schema
    first = await open_pg(dsn, schema)
    await first.append("s", tokens(1)[0])
    await first.close()
    again = await open_pg(dsn, schema)
    try:
        assert await again.get_last_seq("s") == 0
    finally:
        await again.close()
    import psycopg
    from psycopg import sql

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute(sql.SQL("SELECT version FROM {}").format(
            sql.Identifier(schema, "l0_migrations")))
        assert [r[0] for r in await cur.fetchall()] == [1, 2]


async def test_read_only_creates_nothing_and_refuses_writes(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    ro = await open_pg(dsn, schema, read_only=True)
    try:
        assert await ro.list_streams() == []
        assert await ro.get_events("s") == []
        with pytest.raises(StoreConfigError, match="read-only"):
            await ro.append("s", tokens(1)[0])
    finally:
        await ro.close()
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        assert await cur.fetchone() is None
    rw = await open_pg(dsn, schema)
    await rw.append_many("s", tokens(3))
    await rw.close()
    ro = await open_pg(dsn, schema, read_only=True)
    try:
        assert [e.seq for e in await ro.get_events("s")] == [0, 1, 2]
    finally:
        await ro.close()


async def test_iter_batches_pages_a_long_stream(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    store = await open_pg(dsn, schema)
    try:
        for start in range(0, 5000, 1000):
            await store.append_many("long", tokens(1000, start=start))
        sizes, seqs = [], []
        async for batch in store.iter_batches("long", from_seq=10, batch_size=1000):
            sizes.append(len(batch))
            seqs.extend(e.seq for e in batch)
        assert seqs == list(range(10, 5000))
        assert max(sizes) == 1000
    finally:
        await store.close()


async def test_sweeper_deletes_expired_rows(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    clock = FakeClock()
    store = await open_pg(dsn, schema, ttl=1000, clock=clock)
    try:
        await store.append_many("old", tokens(3))
        clock.now += 2000
        await store.append("new", tokens(1)[0])
        assert await store.sweep_expired() == 1
        import psycopg
        from psycopg import sql

        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            cur = await conn.execute(sql.SQL("SELECT DISTINCT stream_id FROM {}").format(
                sql.Identifier(schema, "l0_events")))
            assert [r[0] for r in await cur.fetchall()] == ["new"]
        # An expired stream that was not swept yet starts again at seq 0.
        await store.append_many("again", tokens(2))
        clock.now += 2000
        assert await store.append("again", tokens(1)[0], expected_seq=-1) == 0
    finally:
        await store.close()


async def test_subscribe_is_woken_by_notify(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    store = await open_pg(dsn, schema)
    writer = await open_pg(dsn, schema)
    try:
        seen: list[int] = []

        async def follow() -> None:
            # A long poll interval: only NOTIFY can deliver promptly.
            async for env in store.subscribe("live", poll_interval=30.0):
                seen.append(env.seq)

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.3)
        await writer.append("live", tokens(1)[0])
        await writer.append("live", CompleteEvent(ts=2, content="x", token_count=1))
        await asyncio.wait_for(task, timeout=5)
        assert seen == [0, 1]
    finally:
        await store.close()
        await writer.close()


async def test_retried_append_after_commit_is_not_duplicated(
    pg_schema: tuple[str, str],
) -> None:
    """The idempotency key at work: replaying a committed batch returns its seq."""
    dsn, schema = pg_schema
    store = await open_pg(dsn, schema)
    try:
        await store.append_many("s", tokens(2))
        import uuid

        from l0core.codec import dumps, encode_event
        from l0core.stores.postgres_catalog import append_params

        batch = uuid.uuid4()
        wire = [encode_event(e) for e in tokens(3, prefix="b")]
        params = {"sid": "s", "expected": 1, "ttl": 0, "batch": batch, "now": 1, "notify": True,
                  "events": dumps(wire).decode(), **append_params("s", wire)}

        async def call(retry: bool) -> tuple[int, int]:
            async def go(conn: Any, _r: bool) -> tuple[int, int]:
                cur = await conn.execute(store._q["append"], {**params, "retry": retry})
                row = await cur.fetchone()
                return int(row[0]), int(row[1])

            result: tuple[int, int] = await store._run(go)
            return result

        assert await call(False) == (0, 4)
        assert await call(True) == (2, 4)  # found: nothing written again
        assert [e.seq for e in await store.get_events("s")] == [0, 1, 2, 3, 4]
        summary = await store.get_summary("s")  # and nothing counted twice
        assert summary is not None and (summary.event_count, summary.last_seq) == (5, 4)
    finally:
        await store.close()


async def test_many_streams_listed_in_order(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    store = await open_pg(dsn, schema)
    try:
        ids = [f"s{i:03d}" for i in range(50)]
        await asyncio.gather(*(store.append("x" + i, TokenEvent(ts=1, value=i, index=0))
                               for i in ids))
        assert await store.list_streams() == sorted("x" + i for i in ids)
    finally:
        await store.close()


async def test_tui_opens_a_postgres_url(pg_schema: tuple[str, str]) -> None:
    from l0tui.app import L0TuiApp, open_store_readonly
    from l0tui.screens.browser import BrowserScreen
    from l0tui.screens.debugger import DebuggerScreen
    from tests.tui.conftest import settle
    from tests.tui.streams import STREAMS

    dsn, schema = pg_schema
    url = f"{dsn}?schema={schema}"
    writer = await create_event_store(url)
    name = sorted(STREAMS)[0]
    await writer.append_many(name, STREAMS[name]())
    await writer.close()
    store = await open_store_readonly(url)
    try:
        app = L0TuiApp(store, location=url)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, BrowserScreen)
            assert app.screen.shown_ids == [name]
            app.open_stream(name)
            await settle(pilot)
            assert isinstance(app.screen, DebuggerScreen) and app.screen.loaded
    finally:
        await store.close()


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_services_skip_or_fail_when_a_server_is_down(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests import services

    var, url, find = {
        "postgres": ("L0_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:1/postgres",
                     services.postgres_dsn),
        "redis": ("L0_TEST_REDIS_URL", "redis://127.0.0.1:1/0", services.redis_url),
    }[kind]
    monkeypatch.setenv(var, url)
    monkeypatch.setenv("L0_REQUIRE_SERVICES", "0")
    with pytest.raises(pytest.skip.Exception, match=r"nothing answers at 127\.0\.0\.1:1"):
        find()
    monkeypatch.setenv("L0_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="L0_REQUIRE_SERVICES=1"):
        find()


async def test_concurrent_first_opens_of_a_new_schema(pg_schema: tuple[str, str]) -> None:
    """Several stores (different prefixes) creating one schema at once all succeed."""
    dsn, schema = pg_schema
    stores = await asyncio.gather(*(open_pg(dsn, schema, prefix=f"p{i}") for i in range(5)))
    try:
        for i, store in enumerate(stores):
            assert await store.append(f"s{i}", tokens(1)[0]) == 0
    finally:
        for store in stores:
            await store.close()


async def test_select_only_role_can_browse_and_follow(pg_schema: tuple[str, str]) -> None:
    """A role with nothing but SELECT can open a read-only store, read and follow."""
    import psycopg
    from psycopg import sql

    dsn, schema = pg_schema
    writer = await open_pg(dsn, schema)
    await writer.append_many("s", tokens(3))
    role = unique_name("ro")
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as admin:
        await admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        await admin.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(role)))
        await admin.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(role)))
        try:
            parts = dsn.split("://", 1)[1].split("@", 1)[1]
            ro = await open_pg(f"postgresql://{role}@{parts}", schema, read_only=True)
            try:
                assert await ro.list_streams() == ["s"]
                assert [e.seq for e in await ro.read_events("s", from_seq=1)] == [1, 2]
                seen: list[int] = []

                async def follow() -> None:
                    async for env in ro.subscribe("s", after_seq=2, poll_interval=30.0):
                        seen.append(env.seq)

                task = asyncio.create_task(follow())
                await asyncio.sleep(0.3)
                await writer.append("s", CompleteEvent(ts=9, content="x", token_count=3))
                await asyncio.wait_for(task, timeout=5)
                assert seen == [3]
            finally:
                await ro.close()
        finally:
            await writer.close()
            await admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            await admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


# ── the catalog ──


class TestPostgresCatalog(CatalogSuite):
    text_search = False
    """Text search is checked by test_text_search_matches_the_reference: the suite's
    reference also searches running streams, which docs/format.md excludes."""

    @pytest.fixture(autouse=True)
    def _dsn(self) -> Iterator[None]:
        self.dsn = postgres_dsn()
        self.schemas: list[str] = []
        yield
        for schema in self.schemas:
            drop_postgres_schema(self.dsn, schema)

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        schema = unique_name("pgc")
        self.schemas.append(schema)
        store: BaseEventStore = await open_pg(self.dsn, schema, ttl=ttl, clock=clock)
        return store


async def _pg_rows(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute(query, params or None)
        return await cur.fetchall() if cur.description else []


async def _downgrade_to_v1(dsn: str, schema: str) -> None:
    """Turn our tables back into schema version 1: what a store written before the
    catalog holds (the v1 DDL re-run gives the v1 functions back)."""
    import psycopg
    from psycopg import sql

    from l0core.stores.postgres import PostgresEventStore

    store = PostgresEventStore(StorageAdapterConfig(type="postgres", connection=dsn,
                                                    options={"schema": schema}))
    _v, _d, v1 = store._migrations()[0]
    q = sql.Identifier
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for table in ("summaries", "texts", "catalog"):
            await conn.execute(sql.SQL("DROP TABLE {}").format(q(schema, f"l0_{table}")))
        await conn.execute(sql.SQL(
            "DROP FUNCTION {}").format(q(schema, "l0_append")))
        for col in ("last_ts", "duration_ms", "event_count", "token_count"):
            await conn.execute(sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(
                q(schema, "l0_streams"), q(col)))
        await conn.execute(sql.SQL("DELETE FROM {} WHERE version = 2").format(
            q(schema, "l0_migrations")))
        await conn.execute(v1)


async def test_text_search_matches_the_reference(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    store = await open_pg(dsn, schema)
    try:
        await check_text_search(store)
    finally:
        await store.close()
    # the trigram index exists and a text query can use it
    rows = await _pg_rows(dsn, "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND "
                          "indexname = 'l0_texts_trgm'", schema)
    assert rows and "gin_trgm_ops" in rows[0][0]


async def test_old_schema_is_migrated_and_built(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    streams = catalog_streams()
    store = await open_pg(dsn, schema)
    for sid, events in streams.items():
        await store.append_many(sid, events)
    await store.close()
    await _downgrade_to_v1(dsn, schema)

    reader = await open_pg(dsn, schema, read_only=True)  # never writes: the scan answers
    try:
        assert not reader.keeps_summaries
        assert await reader.count_summaries() == len(streams)
        assert await reader.catalog_version() is None
    finally:
        await reader.close()
    assert await _pg_rows(dsn, "SELECT to_regclass(%s)", f"{schema}.l0_summaries") == [(None,)]

    store = await open_pg(dsn, schema)  # migrates to version 2; summaries still to build
    try:
        assert not store.keeps_summaries
        # an append to an old stream before the build folds that stream once
        await store.append("cat-03-a", CompleteEvent(ts=1, content="Late END", token_count=0))
        seen: list[tuple[int, int]] = []
        await store.prepare_catalog(lambda done, total: seen.append((done, total)))
        assert store.keeps_summaries
        assert seen[0] == (0, len(streams)) and seen[-1] == (len(streams), len(streams))
        assert await check_catalog_matches_events(store) == sorted(streams)
        assert await store.count_summaries(SummaryFilter(text="late end")) == 1
        assert await store.build_catalog() == len(streams)  # again: the same rows
        await check_catalog_matches_events(store)
    finally:
        await store.close()
    reader = await open_pg(dsn, schema, read_only=True)
    try:
        assert reader.keeps_summaries
        assert await reader.count_summaries() == len(streams)
    finally:
        await reader.close()


async def test_deletes_and_ttl_remove_summaries(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    clock = FakeClock()
    store = await open_pg(dsn, schema, ttl=1000, clock=clock)
    done = [StartEvent(ts=1), CompleteEvent(ts=2, content="gone soon", token_count=0)]
    try:
        for sid in ("x", "old", "keep"):
            await store.append_many(sid, done)
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
        assert await store.sweep_expired() == 1
        assert await store.count_summaries() == 1
    finally:
        await store.close()
    rows = await _pg_rows(dsn, f'SELECT stream_id FROM "{schema}".l0_summaries')
    assert rows == [("keep",)]
    assert await _pg_rows(dsn, f'SELECT stream_id FROM "{schema}".l0_texts') == [("keep",)]
    total = await _pg_rows(dsn, f'SELECT sum(streams) FROM "{schema}".l0_catalog '
                           "WHERE shard >= 0")
    assert total == [(1,)]


@pytest.mark.parametrize(("reader_notify", "writer_notify"),
                         [("true", "true"), ("false", "false"), ("true", "false")])
async def test_catalog_version_and_wait_follow_another_writer(
        pg_schema: tuple[str, str], reader_notify: str, writer_notify: str) -> None:
    """A follower wakes on the writer's notification, polls without one, and a
    listening follower still sees a writer that sends none (within a second or so)."""
    dsn, schema = pg_schema
    reader = await open_pg(dsn, schema, options={"notify": reader_notify})
    writer = await open_pg(dsn, schema, options={"notify": writer_notify})
    try:
        before = await reader.catalog_version()
        waiting = asyncio.create_task(reader.wait_catalog_change(60))
        # A first wait measures changes from the version it reads when it starts: the
        # append must come after that (it raced it, and polling then waited 60 s).
        while reader._wait_version is None:
            await asyncio.sleep(0.01)
        await writer.append("s", StartEvent(ts=1))
        await asyncio.wait_for(waiting, 10)  # returns on the change, long before 60 s
        after = await reader.catalog_version()
        assert before is not None and after != before
        await writer.append("s", TokenEvent(ts=2, value="x", index=0))
        moved = await reader.catalog_version()
        assert moved != after
        await writer.delete("s")
        assert await reader.catalog_version() != moved
        assert await reader.count_summaries() == 0
    finally:
        await writer.close()
        await reader.close()


async def test_a_running_stream_writes_only_its_streams_row(pg_schema: tuple[str, str]) -> None:
    """TOKENs to a running stream leave its summaries row alone (no index moves)."""
    dsn, schema = pg_schema
    store = await open_pg(dsn, schema)
    try:
        await store.append("s", StartEvent(ts=1, options=SerializedOptions(model="m")))
        before = await _pg_rows(dsn, f'SELECT xmin::text FROM "{schema}".l0_summaries')
        await store.append_many("s", tokens(5))
        await store.append("s", tokens(6)[5])
        assert await _pg_rows(dsn, f'SELECT xmin::text FROM "{schema}".l0_summaries') == before
        summary = await store.get_summary("s")
        assert summary is not None and (summary.event_count, summary.token_count) == (7, 6)
        await store.append("s", CompleteEvent(ts=9, content="x", token_count=6))
        assert await _pg_rows(dsn, f'SELECT xmin::text FROM "{schema}".l0_summaries') != before
    finally:
        await store.close()


async def test_a_writer_gathers_statistics_when_autovacuum_does_not(
    pg_schema: tuple[str, str],
) -> None:
    """The catalog's plans need table statistics; with the server's autovacuum off
    (as on this project's machines) the writer runs ANALYZE itself, past
    autovacuum's own threshold, and not again until the tables change."""
    import psycopg

    from l0core.stores.postgres_stats import autovacuum_on

    dsn, schema = pg_schema
    store = await open_pg(dsn, schema)
    tables = [f"l0_{t}" for t in ("summaries", "streams", "texts")]

    async def stats() -> dict[str, tuple[int, bool]]:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            cur = await conn.execute(
                "SELECT relname, n_mod_since_analyze, last_analyze IS NOT NULL FROM "
                "pg_stat_user_tables WHERE schemaname = %s AND relname = ANY(%s)",
                (schema, tables))
            return {str(r[0]): (int(r[1]), bool(r[2])) for r in await cur.fetchall()}

    try:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            autovacuum = await autovacuum_on(conn)
        assert store._keeps_statistics is not autovacuum
        streams = catalog_streams()
        for copy in range(8):  # 320 streams: past 50 + 10% of every table
            for sid, events in streams.items():
                await store.append_many(f"{sid}-{copy}", events)
        for _ in range(200):  # a backend flushes its counters within ~10 s of going idle
            if all(changed > 100 for changed, _ in (await stats()).values()):
                break
            await asyncio.sleep(0.1)
        if autovacuum:
            assert sorted(await store.analyze_tables()) == sorted(tables)  # asked directly
        else:
            assert sorted(await store.analyze_tables()) == sorted(tables)
            assert all(analysed for _, analysed in (await stats()).values())
            assert await store.analyze_tables() == []  # nothing changed since
    finally:
        await store.close()
