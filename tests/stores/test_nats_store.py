"""NatsEventStore against a real NATS JetStream: the conformance and catalog suites, and
what is particular to it (subjects and headers, batches cut into parts, torn parts,
summaries repaired after a writer stopped between publish and put, TTL per message).

Every test gets a JetStream stream of its own (and its buckets), deleted afterwards;
the shared server on 4222 keeps whatever else it holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from l0core import CompleteEvent, StartEvent, TokenEvent
from l0core.catalog import SummaryFilter, SummaryQuery
from l0core.codec import dumps, encode_event
from l0core.errors import ConcurrencyConflictError, StoreConfigError, StoreConnectionError
from l0core.events import SerializedOptions
from l0core.stores.base import BaseEventStore, Clock, StorageAdapterConfig
from l0core.stores.layouts import ForeignLayoutError
from l0core.stores.nats_layout import batch_headers, encode_payload, split_payload
from l0core.stores.registry import create_event_store
from l0core.testing import FakeClock, StoreConformance, tokens
from tests.catalog_suite import CatalogSuite, assert_summary_matches_events
from tests.services import delete_nats_stream, nats_url, unique_stream

pytestmark = pytest.mark.services


@pytest.fixture
def nats_stream() -> Iterator[tuple[str, str]]:
    """(server url, JetStream stream name): a fresh stream, deleted with its buckets after."""
    url = nats_url()
    stream = unique_stream("S")
    yield url, stream
    delete_nats_stream(url, stream)


async def open_nats(url: str, stream: str, **kw: Any) -> Any:
    from l0core.stores.nats import NatsEventStore

    options = {"stream": stream, **kw.pop("options", {})}
    cfg = StorageAdapterConfig(type="nats", connection=url, options=options, **kw)
    return await NatsEventStore(cfg).open()


async def raw_client(url: str) -> Any:
    import nats

    return await nats.connect(url)


class TestNatsStore(StoreConformance):
    ttl_ms: ClassVar[int] = 1500

    @pytest.fixture(autouse=True)
    def _stream(self, nats_stream: tuple[str, str]) -> None:
        self.url, self.stream = nats_stream

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        store: BaseEventStore = await open_nats(self.url, self.stream, ttl=ttl)
        return store

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        peer: BaseEventStore = await open_nats(self.url, self.stream, ttl=store.ttl)
        return peer

    async def advance(self, clock: FakeClock, ms: float) -> None:
        """TTL is the server's max_age: real time has to pass."""
        clock.now += ms
        await asyncio.sleep(ms / 1000)


class TestNatsCatalog(CatalogSuite):
    @pytest.fixture(autouse=True)
    def _stream(self, nats_stream: tuple[str, str]) -> None:
        self.url, self.stream = nats_stream

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        store: BaseEventStore = await open_nats(self.url, self.stream, ttl=ttl)
        return store


# ── opening ──


async def test_create_event_store_from_url(nats_stream: tuple[str, str]) -> None:
    url, stream = nats_stream
    location = f"{url}/?stream={stream}&prefix=rec&timeout=3"
    store = await create_event_store(location)
    try:
        assert type(store).__name__ == "NatsEventStore"
        assert store.prefix == "rec"
        assert await store.append_many("s", tokens(3)) == 2
        assert await store.list_streams() == ["s"]
        assert store.describe() == location
    finally:
        await store.close()


async def test_password_is_masked_and_bad_options_refused() -> None:
    from l0core.stores.nats import NatsEventStore

    store = NatsEventStore(StorageAdapterConfig(
        type="nats", connection="nats://user:s3cret@127.0.0.1:1/?stream=X"))
    assert "s3cret" not in store.describe() and "***" in store.describe()
    with pytest.raises(StoreConfigError, match="stream="):
        NatsEventStore(StorageAdapterConfig(type="nats", connection="nats://h/?stream=a.b"))
    with pytest.raises(StoreConfigError, match="storage"):
        NatsEventStore(StorageAdapterConfig(type="nats", connection="nats://h/?storage=disk"))


async def test_closed_port_is_one_clear_line() -> None:
    nats_url()
    with pytest.raises(StoreConnectionError) as err:
        await create_event_store("nats://user:s3cret@127.0.0.1:1/?stream=X")
    message = str(err.value)
    assert message.startswith("cannot connect to NATS at nats://user:***@127.0.0.1:1/")
    assert "s3cret" not in message and "\n" not in message


async def test_r3_on_a_single_server_is_one_line(nats_stream: tuple[str, str]) -> None:
    url, stream = nats_stream
    with pytest.raises(StoreConfigError) as err:
        await create_event_store(f"{url}/?stream={stream}&replicas=3")
    assert "replicas > 1 not supported" in str(err.value) and "\n" not in str(err.value)
    assert delete_nats_stream(url, stream) == []


async def test_read_only_open_creates_nothing(nats_stream: tuple[str, str]) -> None:
    url, stream = nats_stream
    ro = await open_nats(url, stream, read_only=True)
    try:
        assert await ro.list_streams() == []
        assert await ro.get_events("s") == []
        assert not ro.keeps_summaries  # no bucket: the scan path
        assert (await ro.query_summaries(SummaryQuery())).items == []
        with pytest.raises(StoreConfigError, match="read-only"):
            await ro.append("s", tokens(1)[0])
    finally:
        await ro.close()
    assert delete_nats_stream(url, stream) == []  # nothing was created


async def test_a_stream_of_another_program_is_refused(nats_stream: tuple[str, str]) -> None:
    url, stream = nats_stream
    nc = await raw_client(url)
    try:
        await nc.jsm().add_stream(name=stream, subjects=[f"{stream}.other.>"])
        await nc.jetstream().publish(f"{stream}.other.x", b"theirs")
        for read_only in (False, True):
            with pytest.raises(ForeignLayoutError) as err:
                await open_nats(url, stream, read_only=read_only)
            assert "was not created by l0core" in str(err.value)
            assert "\n" not in str(err.value)
        info = await nc.jsm().stream_info(stream)
        assert info.config.subjects == [f"{stream}.other.>"] and info.state.messages == 1
    finally:
        await nc.close()


# ── the layout ──


async def test_one_subject_per_recording_one_message_per_batch(
    nats_stream: tuple[str, str],
) -> None:
    url, stream = nats_stream
    store = await open_nats(url, stream)
    nc = await raw_client(url)
    try:
        await store.append_many("rec-1", tokens(3))
        await store.append("rec-1", TokenEvent(ts=9, value="z", index=3))
        await store.append("rec-2", TokenEvent(ts=9, value="y", index=0))
        info = await nc.jsm().stream_info(stream, subjects_filter=f"{stream}.l0.ev.>")
        assert info.state.subjects == {f"{stream}.l0.ev.rec-1": 2, f"{stream}.l0.ev.rec-2": 1}
        first = await nc.jsm().get_msg(stream, seq=1)
        assert first.subject == f"{stream}.l0.ev.rec-1"
        assert first.headers is not None
        assert (first.headers["L0-Seq"], first.headers["L0-Count"]) == ("0", "3")
        assert first.headers["Nats-Expected-Last-Subject-Sequence"] == "0"
        assert first.data == b"\n".join(dumps(encode_event(e)) for e in tokens(3))
        second = await nc.jsm().get_msg(stream, seq=2)
        assert second.headers is not None and second.headers["L0-Seq"] == "3"
        assert second.headers["Nats-Expected-Last-Subject-Sequence"] == "1"
        buckets = {s.config.name for s in await nc.jsm().streams_info()}
        assert {f"KV_{stream}_l0_summaries", f"KV_{stream}_l0_snapshots",
                f"KV_{stream}_l0_contents"} <= buckets
    finally:
        await nc.close()
        await store.close()


async def test_a_publish_sent_twice_is_stored_once(nats_stream: tuple[str, str]) -> None:
    """The deduplication a retry relies on: the same Nats-Msg-Id twice, one message."""
    url, stream = nats_stream
    store = await open_nats(url, stream)
    nc = await raw_client(url)
    try:
        await store.append("s", tokens(1)[0])
        subject = store.names.subject("s")
        payload = dumps(encode_event(tokens(1, start=1)[0]))
        headers = batch_headers("s", 1, 1, 1, "retry-token")
        acks = [await nc.jetstream().publish(subject, payload, headers=dict(headers))
                for _ in range(2)]
        assert acks[0].seq == acks[1].seq and acks[1].duplicate
        assert [e.seq for e in await store.get_events("s")] == [0, 1]
    finally:
        await nc.close()
        await store.close()


async def test_a_stale_tail_conflicts_with_the_actual_seq(nats_stream: tuple[str, str]) -> None:
    url, stream = nats_stream
    a = await open_nats(url, stream)
    b = await open_nats(url, stream)
    try:
        assert await a.append("s", tokens(1)[0], expected_seq=-1) == 0
        assert await b.append_many("s", tokens(2, start=1), expected_seq=0) == 2
        with pytest.raises(ConcurrencyConflictError) as err:
            await a.append("s", tokens(1, start=3)[0], expected_seq=0)  # a still thinks 0
        assert err.value.actual_last_seq == 2
        assert await a.append("s", tokens(1, start=3)[0]) == 3  # no check: goes after b
        assert [e.seq for e in await b.get_events("s")] == [0, 1, 2, 3]
    finally:
        await a.close()
        await b.close()


# ── batches larger than one message ──


async def test_a_batch_larger_than_a_message_is_cut_into_parts(
    nats_stream: tuple[str, str],
) -> None:
    url, stream = nats_stream
    store = await open_nats(url, stream, options={"part_bytes": 300})
    nc = await raw_client(url)
    try:
        events = tokens(40)
        assert await store.append_many("big", events) == 39
        assert await store.append("big", TokenEvent(ts=1, value="after", index=40)) == 40
        info = await nc.jsm().stream_info(stream, subjects_filter=f"{stream}.>")
        parts = info.state.messages - 1
        assert parts > 5
        msg = await nc.jsm().get_msg(stream, seq=2)
        assert msg.headers is not None and msg.headers["L0-Part"] == f"2/{parts}"
        got = await store.get_events("big")
        assert [e.seq for e in got] == list(range(41))
        assert [e.event for e in got[:40]] == events
        assert [e.seq for e in await store.read_events("big", from_seq=17, to_seq=19)] == [
            17, 18, 19]
        last = await store.get_last_event("big")
        assert last is not None and last.seq == 40
        seen = []
        async for env in store.subscribe("big", after_seq=25):
            seen.append(env.seq)
            if env.seq == 40:
                break
        assert seen == list(range(26, 41))
        await assert_summary_matches_events(store, "big")
    finally:
        await nc.close()
        await store.close()


async def test_torn_parts_are_never_read(nats_stream: tuple[str, str]) -> None:
    """A writer that died after two of three parts: its batch does not exist, the next
    append takes its seqs, and every reader skips the two parts."""
    url, stream = nats_stream
    store = await open_nats(url, stream)
    nc = await raw_client(url)
    try:
        await store.append_many("t", tokens(2))
        subject = store.names.subject("t")
        lines = [dumps(encode_event(e)) for e in tokens(6, start=2, prefix="torn")]
        pieces = split_payload(encode_payload(lines), 60)[:3]
        prev = (await nc.jsm().get_last_msg(stream, subject)).seq
        for i, piece in enumerate(pieces[:2], 1):
            headers = batch_headers("t", 2, 6, prev, "dead", i, 3)
            prev = (await nc.jetstream().publish(subject, piece, headers=headers)).seq
        reader = await open_nats(url, stream, read_only=True)
        try:
            assert await reader.get_last_seq("t") == 1
            last = await reader.get_last_event("t")
            assert last is not None and last.seq == 1
            assert [e.seq for e in await reader.get_events("t")] == [0, 1]
        finally:
            await reader.close()
        fresh = await open_nats(url, stream)
        try:
            assert await fresh.append_many("t", tokens(2, start=2)) == 3
        finally:
            await fresh.close()
        got = await store.get_events("t")
        assert [e.seq for e in got] == [0, 1, 2, 3]
        assert all("torn" not in getattr(e.event, "value", "") for e in got)
        await assert_summary_matches_events(store, "t")
    finally:
        await nc.close()
        await store.close()


async def test_options_too_large_for_the_bucket_come_from_the_stream(
    nats_stream: tuple[str, str],
) -> None:
    """A START over the server's 1 MB payload limit: the event goes in parts, the
    summary keeps everything but the options, which readers take from seq 0."""
    url, stream = nats_stream
    store = await open_nats(url, stream)
    try:
        huge = {"blob": "x" * 1_200_000}
        start = StartEvent(ts=1, options=SerializedOptions(model="m", metadata=huge))
        await store.append_many("huge", [start, TokenEvent(ts=2, value="a", index=0)])
        summary = await store.get_summary("huge")
        assert summary is not None and summary.model == "m"
        assert summary.options["metadata"] == huge
        page = await store.query_summaries(SummaryQuery())
        assert page.items[0].options["metadata"] == huge
        await assert_summary_matches_events(store, "huge")
    finally:
        await store.close()


# ── summaries that fell behind their events ──


async def _publish_behind_the_bucket(url: str, store: Any, sid: str, first: int,
                                     events: list[Any]) -> None:
    """What a writer killed between its publish and its summary put leaves."""
    nc = await raw_client(url)
    try:
        subject = store.names.subject(sid)
        try:
            prev = (await nc.jsm().get_last_msg(store.names.stream, subject)).seq
        except Exception:
            prev = 0
        payload = encode_payload([dumps(encode_event(e)) for e in events])
        headers = batch_headers(sid, first, len(events), prev, "crash")
        await nc.jetstream().publish(subject, payload, headers=headers)
    finally:
        await nc.close()


async def test_a_summary_behind_its_events_is_repaired_by_readers(
    nats_stream: tuple[str, str],
) -> None:
    url, stream = nats_stream
    store = await open_nats(url, stream)
    try:
        await store.append("r", StartEvent(ts=1, options=SerializedOptions(model="m")))
        await store.append("r", TokenEvent(ts=2, value="a", index=0))
        await _publish_behind_the_bucket(url, store, "r", 2, [
            TokenEvent(ts=3, value="b", index=1),
            CompleteEvent(ts=4, content="ab", token_count=2)])
        stale, _ = await store.keeper.load("r")
        assert stale.summary.event_count == 2  # the bucket is behind
        ro = await open_nats(url, stream, read_only=True)
        try:
            summary = await ro.get_summary("r")
            assert summary is not None and summary.status == "completed"
            assert summary.event_count == 4
            page = await ro.query_summaries(SummaryQuery(
                filter=SummaryFilter(status=frozenset({"completed"}))))
            assert [s.stream_id for s in page.items] == ["r"]
            assert await ro.count_summaries(SummaryFilter(text="ab")) == 1
        finally:
            await ro.close()
        unchanged, _ = await store.keeper.load("r")
        assert unchanged.summary.event_count == 2  # a read-only reader wrote nothing
        await assert_summary_matches_events(store, "r")  # a writable one writes it back
        repaired, _ = await store.keeper.load("r")
        assert repaired.summary.event_count == 4
    finally:
        await store.close()


async def test_the_live_catalog_sees_a_crashed_writers_events(
    nats_stream: tuple[str, str],
) -> None:
    url, stream = nats_stream
    browser = await open_nats(url, stream, read_only=True)
    writer = await open_nats(url, stream)
    try:
        await writer.append("w", StartEvent(ts=1))
        browser2 = await open_nats(url, stream, read_only=True)
        await browser.close()
        browser = browser2
        assert [s.stream_id for s in (await browser.query_summaries(SummaryQuery())).items] == [
            "w"]
        await _publish_behind_the_bucket(url, writer, "w", 1, [
            CompleteEvent(ts=9, content="done", token_count=0)])
        summary = await browser.get_summary("w")
        assert summary is not None and summary.status == "completed"
        await writer.append("w2", StartEvent(ts=5))
        page = await browser.query_summaries(SummaryQuery(order="stream_id", descending=False))
        assert [s.stream_id for s in page.items] == ["w", "w2"]
    finally:
        await browser.close()
        await writer.close()


async def test_a_summary_whose_events_were_purged_is_dropped(
    nats_stream: tuple[str, str],
) -> None:
    """A delete that stopped between purging the subject and the summary."""
    url, stream = nats_stream
    store = await open_nats(url, stream)
    nc = await raw_client(url)
    try:
        await store.append_many("gone", tokens(3))
        await store.append_many("kept", tokens(2))
        await nc.jsm().purge_stream(stream, subject=store.names.subject("gone"))
        fresh = await open_nats(url, stream)
        try:
            assert await fresh.count_summaries() == 1
            assert await fresh.get_summary("gone") is None
        finally:
            await fresh.close()
        entry, _ = await store.keeper.load("gone")
        assert entry is None  # the writable catalog removed it
    finally:
        await nc.close()
        await store.close()


async def test_build_catalog_writes_missing_summaries(nats_stream: tuple[str, str]) -> None:
    url, stream = nats_stream
    store = await open_nats(url, stream)
    try:
        for i in range(5):
            await _publish_behind_the_bucket(url, store, f"old-{i}", 0, tokens(3))
        assert await store.keeper.load("old-0") == (None, 0)
        seen: list[tuple[int, int]] = []
        assert await store.build_catalog(lambda done, total: seen.append((done, total))) == 5
        assert seen[-1] == (5, 5)
        for i in range(5):
            rec, _ = await store.keeper.load(f"old-{i}")
            assert rec is not None and rec.summary.event_count == 3
    finally:
        await store.close()


async def test_catalog_wakes_on_another_writers_append(nats_stream: tuple[str, str]) -> None:
    url, stream = nats_stream
    browser = await open_nats(url, stream, read_only=True)
    writer = await open_nats(url, stream)
    try:
        await writer.append("a", StartEvent(ts=1))
        await browser.close()
        browser = await open_nats(url, stream, read_only=True)
        before = await browser.catalog_version()
        waiter = asyncio.create_task(browser.wait_catalog_change(30))
        await asyncio.sleep(0.2)
        await writer.append("b", StartEvent(ts=2))
        await asyncio.wait_for(waiter, 10)
        assert await browser.catalog_version() != before
        assert await browser.count_summaries() == 2
    finally:
        await browser.close()
        await writer.close()


# ── TTL: the stream's max_age, per message ──


async def test_ttl_counts_from_the_first_append(nats_stream: tuple[str, str]) -> None:
    """max_age removes each message ttl after it was stored; a recording lives while
    its first message does, so appending does not keep it alive."""
    url, stream = nats_stream
    store = await open_nats(url, stream, ttl=1200)
    try:
        await store.append("r", StartEvent(ts=1))
        await asyncio.sleep(0.7)
        await store.append("r", TokenEvent(ts=2, value="a", index=0))
        assert await store.get_last_seq("r") == 1
        await asyncio.sleep(0.8)  # the first message is gone, the second is not
        assert not await store.exists("r")
        assert await store.get_events("r") == []
        assert await store.list_streams() == []
        assert await store.get_summary("r") is None
        assert await store.count_summaries() == 0
        assert await store.append("r", StartEvent(ts=3)) == 0  # starts again at 0
        assert [e.seq for e in await store.get_events("r")] == [0]
        await assert_summary_matches_events(store, "r")
        nc = await raw_client(url)
        try:
            info = await nc.jsm().stream_info(stream)
            assert info.config.max_age == pytest.approx(1.2)
        finally:
            await nc.close()
    finally:
        await store.close()


async def test_tui_opens_a_nats_url(nats_stream: tuple[str, str]) -> None:
    from l0tui.app import L0TuiApp, open_store_readonly
    from l0tui.screens.browser import BrowserScreen
    from l0tui.screens.debugger import DebuggerScreen
    from tests.tui.conftest import settle
    from tests.tui.streams import STREAMS

    url, stream = nats_stream
    location = f"{url}/?stream={stream}"
    writer = await create_event_store(location)
    name = sorted(STREAMS)[0]
    await writer.append_many(name, STREAMS[name]())
    await writer.close()
    store = await open_store_readonly(location)
    try:
        app = L0TuiApp(store, location=location)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, BrowserScreen)
            assert app.screen.shown_ids == [name]
            app.open_stream(name)
            await settle(pilot)
            assert isinstance(app.screen, DebuggerScreen) and app.screen.loaded
    finally:
        await store.close()
