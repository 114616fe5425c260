"""Stores written exactly as the spec's two example adapters write them: read-only, complete.

The tables and lists are filled with the examples' own statements (``tests.spec_layouts``);
the store detects the layout when opened, lists and replays to the state the fold gives,
reads the one-row-per-stream snapshot, follows by polling, reports racing writers'
duplicate seqs, refuses writes in one line, and ``l0tui copy`` moves every event into
our layout untouched. Each test has its own schema or key prefix and removes it.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from l0core import EventReplayer, StoreConfigError, create_event_store
from l0core.codec import decode_event, encode_event
from l0core.fold import fold
from l0core.stores.layouts import ForeignLayoutError
from l0tui.cli import run
from tests.services import (
    delete_redis_prefix,
    drop_postgres_schema,
    postgres_dsn,
    redis_url,
    unique_name,
    with_query,
)
from tests.spec_layouts import SpecPostgresWriter, SpecRedisWriter, create_spec_tables, demo_events

pytestmark = pytest.mark.services

NAMES = ("03-guardrail-retry", "01-clean-completion")


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), stdout=out, stderr=err, isatty=False)
    return status, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("l0tui: "), err
    assert "Traceback" not in err
    return lines[0]


async def read_all(url: str, stream_id: str) -> list[Any]:
    store = await create_event_store(url, read_only=True)
    try:
        return await store.get_events(stream_id)
    finally:
        await store.close()


# ── PostgreSQL ──


@pytest.fixture
def pg_spec() -> Iterator[tuple[str, SpecPostgresWriter, Any]]:
    """(store URL, example writer, admin connection) on a fresh schema, dropped afterwards."""
    import psycopg

    dsn = postgres_dsn()
    schema = unique_name("sp")
    conn = psycopg.connect(dsn, autocommit=True)
    create_spec_tables(conn, schema, "l0")
    try:
        yield with_query(dsn, schema=schema), SpecPostgresWriter(conn, schema, "l0"), conn
    finally:
        conn.close()
        drop_postgres_schema(dsn, schema)


def fill_pg(writer: SpecPostgresWriter) -> dict[str, list[dict[str, Any]]]:
    recorded = {name: demo_events(name) for name in NAMES}
    for name, events in recorded.items():
        for event in events:
            writer.append(name, event)
    return recorded


def test_pg_spec_layout_lists_and_replays_to_the_fold(pg_spec: Any) -> None:
    url, writer, _ = pg_spec
    recorded = fill_pg(writer)

    async def check() -> None:
        store = await create_event_store(url, read_only=True)
        try:
            assert type(store).__name__ == "SpecPostgresEventStore"
            assert await store.list_streams() == sorted(NAMES)
            for name, events in recorded.items():
                got = await store.get_events(name)
                assert [e.seq for e in got] == list(range(len(events)))
                assert [encode_event(e.event) for e in got] == [
                    encode_event(decode_event(e)) for e in events]
                state = await EventReplayer(store).replay_to_state(name)
                assert state == fold(decode_event(e) for e in events)
                assert await store.get_last_seq(name) == len(events) - 1
                assert (await store.read_events(name, from_seq=2, to_seq=3))[0].seq == 2
                assert await store.seq_damage(name) is None
        finally:
            await store.close()

    asyncio.run(check())
    status, out, err = cli("ls", url, "--json")
    assert status == 0, err
    assert sorted(row["streamId"] for row in json.loads(out)) == sorted(NAMES)
    status, out, err = cli("show", url, NAMES[0], "--json")
    assert status == 0, err
    status, out, _ = cli("verify", url)
    assert status == 0 and "all intact" in out


def test_pg_spec_duplicates_are_read_in_a_fixed_order_and_reported(pg_spec: Any) -> None:
    url, writer, _ = pg_spec
    events = demo_events("01-clean-completion")
    for event in events[:3]:
        writer.append("raced", event)
    writer.insert("raced", 2, events[3])  # a second writer computed the same MAX(seq) + 1
    writer.insert("raced", 5, events[4])  # seqs 3 and 4 never written
    first = asyncio.run(read_all(url, "raced"))
    second = asyncio.run(read_all(url, "raced"))
    assert [e.seq for e in first] == [0, 1, 2, 3, 4]
    assert [encode_event(e.event) for e in first] == [encode_event(e.event) for e in second]
    assert [encode_event(e.event) for e in first] == [
        encode_event(decode_event(e)) for e in events[:5]]

    async def damage() -> str:
        store = await create_event_store(url, read_only=True)
        try:
            found = await store.seq_damage("raced")
            assert found is not None and found.duplicates == ((2, 2),)
            assert found.missing == ((3, 4),)
            return found.describe()
        finally:
            await store.close()

    text = asyncio.run(damage())
    assert "seq 2 stored 2 times" in text and "seqs 3-4 missing" in text
    status, out, _ = cli("verify", url, "--plain")
    assert status == 1
    assert "damaged" in out and "seq 2 stored 2 times" in out


def test_pg_spec_snapshot_row_is_read(pg_spec: Any) -> None:
    url, writer, _ = pg_spec
    events = demo_events("01-clean-completion")
    for event in events:
        writer.append("snap", event)
    state = fold(decode_event(e) for e in events[:4])
    snapshot = {"streamId": "snap", "seq": 3, "ts": 5, "content": state.content,
                "tokenCount": state.token_count, "checkpoint": state.checkpoint,
                "violations": [], "driftDetected": False, "retryAttempts": 0,
                "networkRetryCount": 0, "fallbackIndex": 0}
    writer.save_snapshot(snapshot)
    writer.save_snapshot(snapshot)  # the example's upsert: still one row

    async def check() -> None:
        store = await create_event_store(url, read_only=True)
        try:
            snap = await store.get_snapshot_before("snap", 10)
            assert snap is not None and snap.seq == 3 and snap.content == state.content
            assert await store.get_snapshot_before("snap", 2) is None
            full = await EventReplayer(store).replay_to_state("snap")
            assert full == fold(decode_event(e) for e in events)
        finally:
            await store.close()

    asyncio.run(check())


def test_pg_spec_subscribe_follows_by_polling(pg_spec: Any) -> None:
    url, writer, _ = pg_spec
    events = demo_events("01-clean-completion")
    for event in events[:2]:
        writer.append("live", event)

    async def follow() -> list[int]:
        store = await create_event_store(with_query(url, poll_interval="0.05"), read_only=True)
        seen: list[int] = []
        try:
            async def consume() -> None:
                async for env in store.subscribe("live"):
                    seen.append(env.seq)

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.3)
            for event in events[2:]:
                await asyncio.to_thread(writer.append, "live", event)
            await asyncio.wait_for(task, 10)
        finally:
            await store.close()
        return seen

    assert asyncio.run(follow()) == list(range(len(events)))


def test_pg_spec_writable_open_refuses_in_one_line(pg_spec: Any, tmp_path: Path) -> None:
    url, writer, conn = pg_spec
    fill_pg(writer)
    schema = url.split("schema=")[1]

    async def open_writable() -> str:
        with pytest.raises(ForeignLayoutError) as err:
            await create_event_store(url)
        return str(err.value)

    message = asyncio.run(open_writable())
    assert "\n" not in message and "spec example layout" in message
    assert f"{schema}.l0_events(stream_id, seq, event, created_at)" in message
    assert "l0tui copy" in message and "prefix=l0_copy" in message
    tables = {r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (schema,)).fetchall()}
    assert tables == {"l0_events", "l0_snapshots"}  # nothing created, nothing altered
    src = tmp_path / "src"
    assert cli("copy", "demo_streams", str(src), "--stream", NAMES[1])[0] == 0
    status, _, err = cli("copy", str(src), url)
    assert status == 2 and "l0tui copy" in one_line(err)
    status, _, err = cli("verify", url, "--repair")
    assert status == 2 and "spec example layout" in one_line(err)


def test_pg_spec_copy_keeps_every_event_and_leaves_the_source(pg_spec: Any,
                                                              tmp_path: Path) -> None:
    url, writer, conn = pg_spec
    recorded = fill_pg(writer)
    writer.insert(NAMES[1], 1, recorded[NAMES[1]][0])  # a duplicate seq survives the copy
    schema = url.split("schema=")[1]
    before = conn.execute(f'SELECT count(*), md5(string_agg(event::text, \'|\' ORDER BY '
                          f'stream_id, seq, event::text)) FROM "{schema}".l0_events').fetchone()
    dst = f"sqlite:///{tmp_path / 'copy.db'}"
    status, _, err = cli("copy", url, dst)
    assert status == 0, err
    beside = with_query(url, prefix="l0_copy")
    status, _, err = cli("copy", url, beside)  # the command the refusal suggests
    assert status == 0, err
    for name in NAMES:
        source = asyncio.run(read_all(url, name))
        for target in (dst, beside):
            copied = asyncio.run(read_all(target, name))
            assert [(e.seq, encode_event(e.event)) for e in copied] == [
                (e.seq, encode_event(e.event)) for e in source]
    after = conn.execute(f'SELECT count(*), md5(string_agg(event::text, \'|\' ORDER BY '
                         f'stream_id, seq, event::text)) FROM "{schema}".l0_events').fetchone()
    assert after == before


def test_pg_layout_option_insists_on_one_layout(pg_spec: Any) -> None:
    url, writer, _ = pg_spec
    fill_pg(writer)
    status, _, err = cli("ls", with_query(url, layout="l0core"))
    assert status == 2 and "spec example layout" in one_line(err)
    status, _, err = cli("ls", with_query(url, layout="spec"), "--plain")
    assert status == 0, err


def test_pg_our_layout_never_touches_foreign_tables() -> None:
    import psycopg

    dsn = postgres_dsn()
    schema = unique_name("fo")
    url = with_query(dsn, schema=schema)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".l0_events (id serial, payload text)')
        try:
            for read_only in (False, True):
                with pytest.raises(StoreConfigError) as err:
                    asyncio.run(create_event_store(url, read_only=read_only))
                text = str(err.value)
                assert "not created by l0core" in text and f"{schema}.l0_events(" in text
            tables = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,)).fetchall()}
            assert tables == {"l0_events"}
            cols = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "ORDER BY ordinal_position", (schema,)).fetchall()]
            assert cols == ["id", "payload"]
            # Another prefix in the same schema is ours to use.
            status, _, err = cli("copy", "demo_streams", with_query(url, prefix="mine"),
                                 "--stream", NAMES[1])
            assert status == 0, err
        finally:
            conn.close()
            drop_postgres_schema(dsn, schema)


# ── Redis ──


@pytest.fixture
def redis_spec() -> Iterator[tuple[str, SpecRedisWriter]]:
    import redis

    base = redis_url()
    prefix = unique_name("rs")
    client = redis.Redis.from_url(base)
    try:
        yield with_query(base, prefix=prefix), SpecRedisWriter(client, prefix)
    finally:
        client.close()
        delete_redis_prefix(base, prefix)
        delete_redis_prefix(base, prefix + "_copy")


def fill_redis(writer: SpecRedisWriter) -> dict[str, list[dict[str, Any]]]:
    recorded = {name: demo_events(name) for name in NAMES}
    for name, events in recorded.items():
        for event in events:
            writer.append(name, event)
    return recorded


def test_redis_spec_layout_lists_and_replays_to_the_fold(redis_spec: Any) -> None:
    url, writer = redis_spec
    recorded = fill_redis(writer)

    async def check() -> None:
        store = await create_event_store(url, read_only=True)
        try:
            assert type(store).__name__ == "SpecRedisEventStore"
            assert await store.list_streams() == sorted(NAMES)
            for name, events in recorded.items():
                got = await store.get_events(name)
                assert [e.seq for e in got] == list(range(len(events)))
                state = await EventReplayer(store).replay_to_state(name)
                assert state == fold(decode_event(e) for e in events)
                assert await store.seq_damage(name) is None
        finally:
            await store.close()

    asyncio.run(check())
    status, out, err = cli("ls", url, "--json")
    assert status == 0, err
    assert sorted(row["streamId"] for row in json.loads(out)) == sorted(NAMES)
    status, out, err = cli("show", url, NAMES[0])
    assert status == 0, err
    assert cli("verify", url)[0] == 0


def test_redis_spec_races_are_reported(redis_spec: Any) -> None:
    url, writer = redis_spec
    events = demo_events("01-clean-completion")
    for event in events[:3]:
        writer.append("raced", event)
    writer.push_raw("raced", 2, events[3])  # both writers read LLEN = 2
    got = asyncio.run(read_all(url, "raced"))
    assert [e.seq for e in got] == [0, 1, 2, 3]
    status, out, _ = cli("verify", url, "--plain")
    assert status == 1 and "seq 2 stored 2 times" in out


def test_redis_spec_follow_writable_refusal_and_copy(redis_spec: Any, tmp_path: Path) -> None:
    url, writer = redis_spec
    recorded = fill_redis(writer)
    events = demo_events("01-clean-completion")
    writer.append("live", events[0])

    async def follow() -> list[int]:
        store = await create_event_store(with_query(url, poll_interval="0.05"), read_only=True)
        seen: list[int] = []
        try:
            async def consume() -> None:
                async for env in store.subscribe("live"):
                    seen.append(env.seq)

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.3)
            for event in events[1:]:
                writer.append("live", event)
            await asyncio.wait_for(task, 10)
        finally:
            await store.close()
        return seen

    assert asyncio.run(follow()) == list(range(len(events)))
    with pytest.raises(ForeignLayoutError) as err:
        asyncio.run(create_event_store(url))
    assert "\n" not in str(err.value) and "l0tui copy" in str(err.value)
    dst = f"sqlite:///{tmp_path / 'copy.db'}"
    status, _, err_text = cli("copy", url, dst)
    assert status == 0, err_text
    for name, source in recorded.items():
        copied = asyncio.run(read_all(dst, name))
        assert [encode_event(e.event) for e in copied] == [
            encode_event(decode_event(e)) for e in source]
    assert int(writer.client.llen(writer.key(NAMES[0]))) == len(recorded[NAMES[0]])


def test_redis_our_layout_never_writes_into_a_list(redis_spec: Any) -> None:
    url, writer = redis_spec
    prefix = writer.prefix

    async def check() -> None:
        store = await create_event_store(url)  # empty prefix: ours to create
        try:
            await store.append("mine", demo_events("01-clean-completion")[0])
            writer.append("theirs", {"type": "TOKEN", "ts": 1, "value": "x", "index": 0})
            with pytest.raises(ForeignLayoutError, match="holds a list"):
                await store.append("theirs", demo_events("01-clean-completion")[0])
        finally:
            await store.close()

    asyncio.run(check())
    assert int(writer.client.llen(f"{prefix}:stream:theirs")) == 1
    status, _, err = cli("show", with_query(url, layout="spec"), "mine")
    assert status == 2 and "l0core" in one_line(err)


# ── the TUI on both layouts (Pilot) ──


async def _browse(url: str, expect: list[str], damaged: str) -> None:
    from l0tui.app import L0TuiApp, open_store_readonly
    from l0tui.screens.browser import BrowserScreen
    from l0tui.screens.debugger import DebuggerScreen
    from tests.tui.conftest import settle

    store = await open_store_readonly(url)
    try:
        app = L0TuiApp(store, location=url)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, BrowserScreen)
            assert sorted(screen.shown_ids) == sorted(expect)
            assert screen.table.cells(damaged)[2] == "damaged"
            assert screen.table.cells(NAMES[0])[2] == "completed"
            app.open_stream(NAMES[0])
            await settle(pilot)
            debugger = app.screen
            assert isinstance(debugger, DebuggerScreen) and debugger.loaded
            assert len(debugger.timeline) == len(demo_events(NAMES[0]))
            assert debugger.damage_note is None
            await pilot.press("q")
            await settle(pilot)
            app.open_stream(damaged)
            await settle(pilot)
            debugger = app.screen
            assert isinstance(debugger, DebuggerScreen) and debugger.loaded
            assert debugger.damage_note is not None and "stored 2 times" in debugger.damage_note
    finally:
        await store.close()


async def test_tui_on_the_pg_spec_layout(pg_spec: Any) -> None:
    url, writer, _ = pg_spec
    fill_pg(writer)
    events = demo_events("01-clean-completion")
    writer.append("raced", events[0])
    writer.insert("raced", 0, events[1])
    await _browse(url, [*NAMES, "raced"], "raced")


async def test_tui_on_the_redis_spec_layout(redis_spec: Any) -> None:
    url, writer = redis_spec
    fill_redis(writer)
    events = demo_events("01-clean-completion")
    writer.append("raced", events[0])
    writer.push_raw("raced", 0, events[1])
    await _browse(url, [*NAMES, "raced"], "raced")
