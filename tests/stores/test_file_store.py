"""The JSONL file store against the conformance suite, plus its own behaviour."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from l0core import (
    CorruptionError,
    EventReplayer,
    Snapshot,
    StartEvent,
    StorageAdapterConfig,
    StoreConfigError,
    TokenEvent,
    create_event_store,
    encode_envelope,
)
from l0core.catalog import SummaryQuery
from l0core.stores.base import BaseEventStore, Clock
from l0core.stores.file import DEFAULT_DURABILITY, FileEventStore
from l0core.testing import FakeClock, StoreConformance
from tests.catalog_suite import CatalogSuite, assert_summary_matches_events
from tests.paths import INTEROP


class TestFileStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "events"

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock)

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        return FileEventStore(str(self.dir))


class TestFileStoreFsync(TestFileStore):
    """The same contract when every append is fsynced (the thread path only)."""

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock, durability="fsync")


class TestFileStoreOs(TestFileStore):
    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock, durability="os")


class TestFileCatalog(CatalogSuite):
    """Summaries from the index file, appends on the event loop's thread (leases)."""

    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "events"

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock)


class TestFileCatalogFsync(TestFileCatalog):
    """The same through the worker-thread path (group commit)."""

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock, durability="fsync")


# ── legacy (spec .json array) directories ──

FIXTURES = INTEROP


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and directory under ``root``: contents and modification times."""
    return {str(p.relative_to(root)): (b"" if p.is_dir() else p.read_bytes(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))} | {".": (b"", root.stat().st_mtime_ns)}


@pytest.mark.parametrize("name", ["ts-file-store", "py-file-store"])
async def test_interop_directories_replay_like_the_anchor(name: str) -> None:
    root = FIXTURES / name
    if not root.is_dir():
        pytest.skip(f"interop fixtures not found at {root}")
    before = _tree(root)
    store = await create_event_store(str(root))  # not even read-only: reading must not write
    assert isinstance(store, FileEventStore)
    assert await store.list_streams() == ["demo-stream"]
    state = await EventReplayer(store).replay_to_state("demo-stream")
    assert state.content == "Quantum computing"
    assert state.token_count == 2 and state.checkpoint == "Quantum"
    assert state.completed is True  # COMPLETE, then an ERROR after it: the fold keeps both
    assert state.error is not None and state.error.message == "Failed"
    assert (state.network_retry_count, state.retry_attempts, state.fallback_index) == (1, 0, 1)
    snaps = await store.list_snapshots("demo-stream")
    assert [s.seq for s in snaps] == [3] and snaps[0].content == "Quantum"
    (check,) = (await store.verify()).streams
    assert check.status == "legacy" and check.events == 10
    await store.close()
    assert _tree(root) == before


async def test_interop_state_equals_the_python_anchor() -> None:
    anchor = pytest.importorskip("l0.eventsourcing")
    root = FIXTURES / "py-file-store"
    if not root.is_dir():
        pytest.skip(f"interop fixtures not found at {root}")
    theirs = await anchor.EventReplayer(anchor.FileEventStore(str(root))).replay_to_state(
        "demo-stream")
    ours = await EventReplayer(await create_event_store(str(root), read_only=True)
                               ).replay_to_state("demo-stream")
    for name in ("content", "token_count", "checkpoint", "violations", "drift_detected",
                 "retry_attempts", "network_retry_count", "fallback_index", "completed",
                 "start_ts", "end_ts"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.error is not None and theirs.error is not None
    assert (ours.error.name, ours.error.message) == (theirs.error.name, theirs.error.message)


async def test_append_to_legacy_stream_migrates_it(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "ts-file-store", tmp_path / "d")
    root = tmp_path / "d"
    root.chmod(0o755)
    for p in root.iterdir():
        p.chmod(0o644)
    store = FileEventStore(str(root))
    old = await store.get_events("demo-stream")
    assert await store.append("demo-stream", TokenEvent(ts=5, value="!", index=2)) == 10
    await assert_summary_matches_events(store, "demo-stream")  # folded once, at migration
    assert sorted(os.listdir(root)) == [".l0catalog", "demo-stream.jsonl",
                                        "demo-stream.snapshot.json"]
    lines = (root / "demo-stream.jsonl").read_bytes().splitlines()
    assert len(lines) == 11 and lines[0].startswith(b'{"streamId":"demo-stream","seq":0,')
    new = await store.get_events("demo-stream")
    assert [encode_envelope(e) for e in new[:10]] == [encode_envelope(e) for e in old]
    assert [s.seq for s in await store.list_snapshots("demo-stream")] == [3]
    await store.delete("demo-stream")
    assert os.listdir(root) == [".l0catalog"]
    assert await store.get_summary("demo-stream") is None


async def test_unreadable_legacy_stream_fails_clearly_and_is_kept(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_bytes(b'[{"streamId": "bad", "seq": 0, "event": {"ty')
    store = FileEventStore(str(tmp_path))
    with pytest.raises(CorruptionError, match=r"bad\.json"):
        await store.get_events("bad")
    with pytest.raises(CorruptionError, match="legacy stream file is not JSON"):
        await store.append("bad", TokenEvent(ts=1, value="x", index=0))
    assert (tmp_path / "bad.json").read_bytes().startswith(b'[{"streamId": "bad"')
    (check,) = (await store.verify()).streams
    assert check.status == "corrupt"


# ── files on disk ──


async def test_layout_and_no_stray_files(tmp_path: Path) -> None:
    store = FileEventStore(str(tmp_path))
    await store.append_many("s1", [TokenEvent(ts=1, value="a", index=0)])
    await store.save_snapshot(Snapshot(stream_id="s1", seq=0, ts=1, content="a",
                                       token_count=1, checkpoint=""))
    assert await store.count_summaries() == 1  # the catalog's record is written by now
    assert sorted(os.listdir(tmp_path)) == [".l0catalog", "s1.jsonl", "s1.snapshots.jsonl"]
    for junk in (".s1.jsonl.migrating-1", "s1.lock", "notes.txt", "x.snapshot.json"):
        (tmp_path / junk).write_bytes(b"{}")
    assert await store.list_streams() == ["s1"]
    await store.delete("s1")
    assert await store.count_summaries() == 0
    assert sorted(os.listdir(tmp_path)) == [".l0catalog", ".s1.jsonl.migrating-1",
                                            "notes.txt", "x.snapshot.json"]
    await store.close()


async def test_read_only_never_creates_or_writes(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigError, match="not a directory"):
        FileEventStore(str(tmp_path / "missing"), read_only=True)
    assert not (tmp_path / "missing").exists()
    writer = FileEventStore(str(tmp_path))
    await writer.append("s1", TokenEvent(ts=1, value="a", index=0))
    await writer.close()  # its catalog record is written when its lease ends
    (tmp_path / "s1.jsonl").write_bytes((tmp_path / "s1.jsonl").read_bytes() + b'{"str')
    before = _tree(tmp_path)
    reader = FileEventStore(str(tmp_path), read_only=True, ttl=1, clock=lambda: 1e15)
    assert await reader.list_streams() == []  # expired, but not swept: read-only
    reader = FileEventStore(str(tmp_path), read_only=True)
    with pytest.raises(StoreConfigError, match="read-only"):
        await reader.append("s1", TokenEvent(ts=1, value="b", index=1))
    with pytest.raises(StoreConfigError, match="read-only"):
        await reader.verify(repair=True)
    assert (await reader.verify()).streams[0].status == "torn_tail"
    assert _tree(tmp_path) == before


async def test_ttl_sweep_deletes_expired_files(tmp_path: Path) -> None:
    clock = FakeClock()
    store = FileEventStore(str(tmp_path), ttl=1000, clock=clock)
    await store.append("old", TokenEvent(ts=1, value="a", index=0))
    await store.save_snapshot(Snapshot(stream_id="old", seq=0, ts=1, content="a",
                                       token_count=1, checkpoint=""))
    clock.now += 2000
    await store.append("new", TokenEvent(ts=1, value="a", index=0))
    assert await store.list_streams() == ["new"]
    assert await store.get_summary("old") is None
    assert [s.stream_id for s in (await store.query_summaries(SummaryQuery())).items] == ["new"]
    assert sorted(os.listdir(tmp_path)) == [".l0catalog", "new.jsonl"]


def test_durability_settings(tmp_path: Path) -> None:
    assert FileEventStore(str(tmp_path)).durability == DEFAULT_DURABILITY == "group"
    assert FileEventStore(f"file://{tmp_path}?durability=fsync").durability == "fsync"
    cfg = StorageAdapterConfig(type="file", connection=str(tmp_path),
                               options={"durability": "os"})
    assert FileEventStore(cfg).durability == "os"
    with pytest.raises(StoreConfigError, match="durability"):
        FileEventStore(str(tmp_path), durability="never")  # type: ignore[arg-type]


async def test_registry_opens_directories_and_file_urls(tmp_path: Path) -> None:
    for url in (str(tmp_path), f"file://{tmp_path}"):
        store = await create_event_store(url)
        assert isinstance(store, FileEventStore) and store.root == str(tmp_path)


async def test_group_durability_flushes_in_the_background(tmp_path: Path) -> None:
    store = FileEventStore(str(tmp_path), group_interval=0.01)
    await store.append("s1", TokenEvent(ts=1, value="a", index=0))
    handle = store._handles["s1"]
    assert handle.dirty
    for _ in range(200):
        if not handle.dirty:
            break
        await asyncio.sleep(0.01)
    assert not handle.dirty
    await store.close()


async def test_iter_batches_streams_in_bounded_batches(tmp_path: Path) -> None:
    store = FileEventStore(str(tmp_path))
    await store.append_many("s1", [TokenEvent(ts=1, value=f"v{i}", index=i)
                                   for i in range(1000)])
    sizes = [len(b) async for b in store.iter_batches("s1", from_seq=10, batch_size=97)]
    assert sum(sizes) == 990 and max(sizes) == 97
    got = [e.seq async for b in store.iter_batches("s1", from_seq=995) for e in b]
    assert got == [995, 996, 997, 998, 999]


async def test_more_streams_than_open_handles(tmp_path: Path) -> None:
    from l0core.stores.file import MAX_OPEN_HANDLES

    store = FileEventStore(str(tmp_path), durability="os")
    n = MAX_OPEN_HANDLES + 40
    for i in range(n):
        await store.append(f"s{i}", TokenEvent(ts=1, value=f"v{i}", index=0))
        await asyncio.sleep(0)  # end the lease, as a real recorder's awaits do
    for i in range(n):
        assert await store.append(f"s{i}", TokenEvent(ts=2, value="w", index=1)) == 1
        await asyncio.sleep(0)
    assert len(store._handles) <= MAX_OPEN_HANDLES
    # Without yielding, every stream's lease is still held: the cache may grow past
    # the limit for a moment, and everything still lands in order.
    for i in range(n):
        assert await store.append(f"s{i}", TokenEvent(ts=3, value="x", index=2)) == 2
    assert len(await store.list_streams()) == n
    await store.close()


async def test_concurrent_fsync_appends_share_writes(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Group commit: appends queued while the worker holds the lock go out together."""
    from l0core.stores.file import writes as file_module

    writes: list[int] = []
    real_write = os.write

    def counting_write(fd: int, data: Any) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(file_module, "_write", counting_write)
    store = FileEventStore(str(tmp_path), durability="fsync")

    async def writer(w: int) -> None:
        for i in range(20):
            await store.append("s1", TokenEvent(ts=1, value=f"{w}:{i}", index=i))

    await asyncio.gather(*(writer(w) for w in range(16)))
    events = await store.get_events("s1")
    assert [e.seq for e in events] == list(range(320))
    assert len(writes) < 320
    for w in range(16):
        mine = [int(e.event.value.split(":")[1]) for e in events  # type: ignore[union-attr]
                if e.event.value.startswith(f"{w}:")]  # type: ignore[union-attr]
        assert mine == list(range(20))
    await store.close()


async def test_open_files_stay_bounded_while_many_new_streams_arrive(tmp_path: Path) -> None:
    """New streams faster than a group flush round: handles still waiting for it are
    flushed and closed by the cache itself, so descriptors stay near the cache's bound
    (a benchmark filling 100,000 streams ran out of them)."""
    import os

    from l0core.stores.file.handles import MAX_OPEN_HANDLES

    def open_files() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:  # the flusher thread may close it between the listing and the look
                target = os.readlink(f"/proc/self/fd/{fd}")
            except FileNotFoundError:
                continue
            count += target.startswith(str(tmp_path))
        return count

    store = await create_event_store(str(tmp_path / "many"))
    most = 0
    next_id = 0

    async def writer() -> None:
        nonlocal next_id, most
        while next_id < 3000:
            i, next_id = next_id, next_id + 1
            await store.append_many(f"s{i:05d}", [StartEvent(ts=1), TokenEvent(
                ts=2, value="x", index=0)], expected_seq=-1)
            if i % 100 == 0:
                most = max(most, open_files())

    try:
        await asyncio.gather(*(writer() for _ in range(64)))
        assert most <= MAX_OPEN_HANDLES + 64 + 16, most
        assert len(await store.list_streams()) == 3000
    finally:
        await store.close()


@pytest.mark.timeout(30)
async def test_flush_right_after_appends_on_the_loop_returns(tmp_path: Path) -> None:
    """Appends that complete without yielding keep their stream's lock until the task
    yields; a synchronous ``flush`` from that task ends the lease first instead of
    waiting for it forever."""
    store = FileEventStore(str(tmp_path))
    try:
        for i in range(5):
            await store.append(f"s{i}", TokenEvent(ts=1.0, value="a", index=0))
        done = await asyncio.wait_for(asyncio.to_thread(lambda: None), 5)  # loop is alive
        assert done is None
        for i in range(5):
            await store.append(f"s{i}", TokenEvent(ts=2.0, value="b", index=1))
        store.flush()  # no yield between the appends and this call
        assert [await store.get_event_count(f"s{i}") for i in range(5)] == [2] * 5
    finally:
        await store.close()


async def test_the_index_keeps_a_bounded_number_of_remembered_row_lists(
        tmp_path: Path) -> None:
    """Every filter typed into the browser leaves its matches and sorted rows behind;
    the table keeps only the newest few, and the answers stay exact."""
    from l0core.catalog import Comparison, SummaryFilter, SummaryQuery
    from l0core.stores.file.summary_table import MEMO_ENTRIES
    from l0core.testing import tokens

    store = FileEventStore(str(tmp_path))
    try:
        for i in range(40):
            await store.append_many(f"s{i:02d}", tokens(i % 9 + 1))
        for n in range(60):
            flt = SummaryFilter(comparisons=(Comparison("token_count", ">", n / 7),))
            page = await store.query_summaries(SummaryQuery(filter=flt, order="token_count",
                                                            descending=False, limit=100))
            want = sorted((i % 9 + 1, f"s{i:02d}") for i in range(40) if i % 9 + 1 > n / 7)
            assert [(s.token_count, s.stream_id) for s in page.items] == want
            view = store._cat_current(build=False)
            assert view is not None and len(view.table._memo) <= MEMO_ENTRIES < 60  # 60 filters
    finally:
        await store.close()
