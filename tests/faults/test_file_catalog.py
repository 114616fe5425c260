"""Fault tests of the file store's catalog: crashes, racing processes, stale and cut
indexes, read-only opens. Real processes, real files; every check compares the
summaries with what the stream files fold to."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from l0core import TokenEvent
from l0core.catalog import Comparison, SummaryFilter, SummaryQuery
from l0core.codec import encode_envelope
from l0core.events import EventEnvelope
from l0core.stores.file import FileEventStore, catalog_file
from l0core.stores.file.catalog import TIDY_RECORDS
from l0core.stores.file.catalog_file import dead_sessions, index_path, load_index
from tests.catalog_suite import assert_summary_matches_events, expected_summary
from tests.faults.procs import ROOT, kill_during_appends, spawn
from tests.paths import INTEROP


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and directory under ``root``: contents and modification times."""
    return {str(p.relative_to(root)): (b"" if p.is_dir() else p.read_bytes(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))} | {".": (b"", root.stat().st_mtime_ns)}


async def assert_catalog_matches(store: FileEventStore) -> None:
    """Every summary equals the fold, and the filters see the same values: each stream
    is found by its exact event count (a stale row would not be)."""
    ids = await store.list_streams()
    for sid in ids:
        await assert_summary_matches_events(store, sid)
    for sid in ids:
        n = await store.get_event_count(sid)
        flt = SummaryFilter(id_prefix=sid, comparisons=(Comparison("event_count", "=", n),))
        page = await store.query_summaries(SummaryQuery(filter=flt, limit=10_000))
        assert sid in [s.stream_id for s in page.items], (sid, n)
    assert await store.count_summaries() == len(ids)
    errors = [sid for sid in ids if (await expected_summary(store, sid) or {}).get(
        "status") == "error"]
    page = await store.query_summaries(SummaryQuery(
        filter=SummaryFilter(status=frozenset({"error"})), order="stream_id",
        descending=False, limit=10_000))
    assert [s.stream_id for s in page.items] == sorted(errors)


def index_rows(root: Path) -> dict[str, dict[str, Any]]:
    """The index file's own view (no reader repairs): stream id -> summary fields."""
    fd = os.open(index_path(str(root)), os.O_RDONLY)
    try:
        table = load_index(fd).table
        out = {}
        for row in table.live_rows():
            s = table.summary(row, table.options_of(row) or {})
            out[s.stream_id] = {"last_seq": s.last_seq, "event_count": s.event_count,
                                "status": s.status, "token_count": s.token_count,
                                "retries": s.retries, "violation_count": s.violation_count}
        return out
    finally:
        os.close(fd)


async def assert_index_file_matches(root: Path) -> None:
    """The index itself, read without any repair, agrees with every stream file."""
    store = FileEventStore(str(root), read_only=True)
    rows = index_rows(root)
    ids = await store.list_streams()
    assert sorted(rows) == ids
    for sid in ids:
        want = await expected_summary(store, sid)
        assert want is not None
        got = rows[sid]
        assert got == {"last_seq": want["last_seq"], "event_count": want["event_count"],
                       "status": want["status"], "token_count": want["token_count"],
                       "retries": want["retry_attempts"] + want["network_retry_count"],
                       "violation_count": want["violation_count"]}, sid


def spawn_runs(path: Path, tag: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.catalog_writer", "--path", str(path),
         "--tag", tag, *args], cwd=ROOT, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_soon(proc: subprocess.Popen[str], rng: random.Random) -> None:
    """SIGKILL ``proc`` 20-300 ms after its first acknowledged append."""
    assert proc.stdout is not None
    proc.stdout.readline()
    threading.Thread(target=lambda: [None for _ in proc.stdout or []], daemon=True).start()
    time.sleep(rng.uniform(0.02, 0.3))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


# ── kill -9 ──


@pytest.mark.slow
async def test_kill_during_appends_then_summary_equals_fold(tmp_path: Path) -> None:
    rng = random.Random(4321)
    dead_seen = stale_seen = 0
    for trial in range(12):
        root = tmp_path / f"t{trial}"
        if trial % 3 == 0:  # a lease per append, realistic runs, several streams
            proc = spawn_runs(root, "k", "--runs", "400", "--yield", "--shared", "shared",
                              "--seed", str(trial))
            kill_soon(proc, rng)
        else:  # one long lease (single appends) or a record per group (big batches)
            if trial % 3 == 2:  # the stream is indexed before the writer that dies
                seed = FileEventStore(str(root))
                await seed.append_many("s1", [TokenEvent(ts=1, value=f"w:{i}", index=i)
                                              for i in range(3)])
                await seed.append("other", TokenEvent(ts=1, value="x", index=0))
                await seed.close()
            kill_during_appends("file", str(root), rng, batch=rng.choice([1, 5, 300]))
        if not (root / ".l0catalog" / "index").exists():
            continue  # the writer died before its first record: nothing indexed yet
        dead_seen += bool(dead_sessions(str(root)))
        try:
            await assert_index_file_matches(root)
        except AssertionError:
            stale_seen += 1  # the dead writer's last appends have no record yet
        before = tree(root)
        reader = FileEventStore(str(root), read_only=True)
        assert reader.keeps_summaries
        await assert_catalog_matches(reader)  # repaired in memory
        assert tree(root) == before, "a read-only open wrote"
        await reader.close()
        writer = FileEventStore(str(root))
        await assert_catalog_matches(writer)
        await writer.close()
        assert dead_sessions(str(root)) == []  # the writable open swept and cleared them
        await assert_index_file_matches(root)  # and recorded what it repaired
    assert dead_seen >= 2 and stale_seen >= 2, (dead_seen, stale_seen)  # repairs happened


# ── racing writers ──


@pytest.mark.slow
async def test_four_writer_processes_same_and_different_streams(tmp_path: Path) -> None:
    """Two writers on one stream, two on their own (single appends, small and big
    batches), and four more writers of realistic runs sharing a stream, while this
    process compacts the index again and again."""
    procs = [spawn("append", "--store", "file", "--path", str(tmp_path), "--count", "1500",
                   "--stream", stream, "--tag", f"w{w}", "--batch", batch, "--wait-go")
             for w, (stream, batch) in enumerate([("shared", "1"), ("shared", "3"),
                                                  ("own-2", "1"), ("own-3", "300")])]
    procs += [spawn_runs(tmp_path, f"r{w}", "--runs", "60", "--shared", "mixed",
                         "--seed", str(w), "--wait-go", *(["--yield"] if w % 2 else []))
              for w in range(4)]
    await asyncio.sleep(0.5)  # let them import and open the store before the start signal
    stop = threading.Event()
    compactions = [0]

    def compact_loop() -> None:
        while not stop.is_set():
            if catalog_file.compact(str(tmp_path), durable=False):
                compactions[0] += 1
            time.sleep(0.01)

    compactor = threading.Thread(target=compact_loop)
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    compactor.start()
    try:
        for p in procs:
            _, err = p.communicate(timeout=180)
            assert p.returncode == 0, err
    finally:
        stop.set()
        compactor.join()
    assert compactions[0] > 0
    assert dead_sessions(str(tmp_path)) == []
    await assert_index_file_matches(tmp_path)  # no record lost to a compaction
    store = FileEventStore(str(tmp_path), read_only=True)
    assert await store.get_event_count("shared") == 3000
    await assert_catalog_matches(store)


# ── stale indexes ──


def append_by_hand(path: Path, data: bytes) -> None:
    """What an older version, or a person, appends: no index record."""
    with open(path, "ab") as fh:
        fh.write(data)


def _line(stream_id: str, seq: int, value: str) -> bytes:
    env = EventEnvelope(stream_id, seq, TokenEvent(ts=9.0 + seq, value=value, index=seq))
    return orjson.dumps(encode_envelope(env)) + b"\n"


async def _filled(root: Path) -> None:
    proc = spawn_runs(root, "f", "--runs", "12", "--yield", "--shared", "shared")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


async def test_stream_appended_without_a_record_is_repaired(tmp_path: Path) -> None:
    """What an older version (or a hand) appends leaves the index stale: every summary
    returned is checked against its file at once, and a sweep fixes the filters."""
    await _filled(tmp_path)
    n = await FileEventStore(str(tmp_path), read_only=True).get_event_count("f-3")
    append_by_hand(tmp_path / "f-3.jsonl", b"".join(_line("f-3", n + k, f"late{k} ")
                                                    for k in range(4)))
    checked = FileEventStore(str(tmp_path), read_only=True)
    await assert_summary_matches_events(checked, "f-3")  # checked against the file
    reader = FileEventStore(str(tmp_path), read_only=True)
    await reader.prepare_catalog()
    version = await reader.catalog_version()
    await reader.wait_catalog_change(30)  # a long-lived reader's first sweep finds it
    assert await reader.catalog_version() != version
    await assert_catalog_matches(reader)
    refreshed = FileEventStore(str(tmp_path), read_only=True)
    await refreshed.refresh_catalog()
    await assert_catalog_matches(refreshed)
    writer = FileEventStore(str(tmp_path))
    assert await writer.build_catalog() == len(await writer.list_streams())
    await writer.close()
    await assert_index_file_matches(tmp_path)


async def test_deleted_index_is_rebuilt(tmp_path: Path) -> None:
    await _filled(tmp_path)
    shutil.rmtree(tmp_path / ".l0catalog")
    reader = FileEventStore(str(tmp_path), read_only=True)
    assert not reader.keeps_summaries  # the scan, as for a directory never indexed
    await assert_catalog_matches(reader)
    assert not (tmp_path / ".l0catalog").exists()
    writer = FileEventStore(str(tmp_path))
    seen: list[tuple[int, int]] = []
    await writer.prepare_catalog(lambda done, total: seen.append((done, total)))
    total = len(await writer.list_streams())
    assert seen[-1] == (total, total)
    await assert_catalog_matches(writer)
    await writer.close()
    await assert_index_file_matches(tmp_path)


async def test_index_cut_at_every_byte_of_its_last_record(tmp_path: Path) -> None:
    orig = tmp_path / "orig"
    store = FileEventStore(str(orig))
    for k in range(3):
        await store.append(f"s{k}", TokenEvent(ts=1, value="a", index=0))
    await asyncio.sleep(0)
    await store.append("s1", TokenEvent(ts=2, value="b", index=1))  # a record of its own
    await store.close()
    data = (orig / ".l0catalog" / "index").read_bytes()
    start = data.rindex(b"\n\n") + 1  # records are written as "\n" + JSON + "\n"
    assert orjson.loads(data[start:])["id"] in ("s0", "s1", "s2")
    for cut in range(start, len(data)):
        root = tmp_path / f"cut{cut}"
        shutil.copytree(orig, root)
        os.truncate(root / ".l0catalog" / "index", cut)
        before = tree(root)
        reader = FileEventStore(str(root), read_only=True)
        await assert_catalog_matches(reader)
        assert tree(root) == before, cut
        writer = FileEventStore(str(root))
        await assert_catalog_matches(writer)
        await writer.close()
        await assert_index_file_matches(root)
        shutil.rmtree(root)


# ── read-only opens and old directories ──


async def test_read_only_open_without_index_writes_nothing(tmp_path: Path) -> None:
    await _filled(tmp_path)
    shutil.rmtree(tmp_path / ".l0catalog")
    shutil.copy(INTEROP / "ts-file-store" / "demo-stream.json", tmp_path / "ts-demo.json")
    text = (tmp_path / "ts-demo.json").read_text().replace('"demo-stream"', '"ts-demo"')
    (tmp_path / "ts-demo.json").write_text(text)
    before = tree(tmp_path)
    store = FileEventStore(str(tmp_path), read_only=True)
    assert not store.keeps_summaries
    seen: list[int] = []
    await store.prepare_catalog(lambda done, total: seen.append(done))
    assert seen
    await assert_catalog_matches(store)
    assert await store.catalog_version() is None
    await store.wait_catalog_change(0.01)
    await store.refresh_catalog()
    await store.close()
    assert tree(tmp_path) == before


async def test_directory_written_by_the_typescript_library_is_indexed(tmp_path: Path) -> None:
    shutil.copytree(INTEROP / "ts-file-store", tmp_path / "d")
    root = tmp_path / "d"
    root.chmod(0o755)
    for p in root.iterdir():
        p.chmod(0o644)
    streams = {p.name: p.read_bytes() for p in root.iterdir()}
    store = FileEventStore(str(root))
    seen: list[tuple[int, int]] = []
    assert await store.build_catalog(lambda d, t: seen.append((d, t))) == 1
    assert seen == [(1, 1)]
    await assert_catalog_matches(store)
    summary = await store.get_summary("demo-stream")
    assert summary is not None and summary.status == "error"  # COMPLETE, then ERROR
    assert (await store.query_summaries(SummaryQuery(
        filter=SummaryFilter(text="QUANTUM computing")))).items == [summary]
    await store.close()
    assert {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()} == streams
    await assert_index_file_matches(root)


async def test_compaction_keeps_every_summary(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_file, "COMPACT_AFTER", 2048)
    monkeypatch.setattr(catalog_file, "CHECK_EVERY", 512)
    store = FileEventStore(str(tmp_path))
    reader = FileEventStore(str(tmp_path), read_only=False)
    inodes = set()
    for k in range(300):
        await store.append(f"c{k % 40}", TokenEvent(ts=k, value=f"v{k}", index=k // 40))
        await asyncio.sleep(0)
        if k % 50 == 0:
            await store.count_summaries()  # the writer's records are written by now
            await asyncio.sleep(0.05)  # let a compaction run
            inodes.add(os.stat(index_path(str(tmp_path))).st_ino)
            await assert_catalog_matches(reader)  # a reader that follows the replacements
    await store.close()
    assert len(inodes) > 1
    await assert_catalog_matches(reader)
    await reader.close()
    await assert_index_file_matches(tmp_path)


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


def _records_after_base(root: Path) -> int:
    fd = os.open(index_path(str(root)), os.O_RDONLY)
    try:
        loaded = load_index(fd)
        return os.fstat(fd).st_size - loaded.records_at
    finally:
        os.close(fd)


def _copy_stream(root: Path, source: str, target: str, *, keep_mtime: bool) -> None:
    """Another program's stream file (no index record), optionally with the
    directory's mtime put back as if nothing had changed."""
    mtime = _mtime(root)
    text = (root / f"{source}.jsonl").read_text().replace(f'"{source}"', f'"{target}"')
    (root / f"{target}.jsonl").write_text(text)
    if keep_mtime:
        os.utime(root, ns=(mtime, mtime))


async def test_a_writer_closing_at_rest_leaves_the_store_quick_to_open(tmp_path: Path) -> None:
    """It vouches for the directory listing (readers then skip listing a hundred
    thousand names) and folds its records into the base; a stream file made later
    changes the directory's mtime, so readers list it again and find it."""
    writer = FileEventStore(str(tmp_path))
    for rounds in range(4):  # a record per stream and flush: over TIDY_RECORDS
        for i in range(300):
            await writer.append(f"rest-{i:03d}", TokenEvent(ts=9.0, value="y", index=rounds))
        writer.flush()
        await writer.count_summaries()
    assert _records_after_base(tmp_path) > TIDY_RECORDS
    assert await writer.count_summaries() == 300
    await asyncio.sleep(catalog_file.QUIET_NS / 1e9 + 0.05)  # nothing made or removed since
    await writer.close()
    assert catalog_file.read_listed(str(tmp_path)) == _mtime(tmp_path)
    assert _records_after_base(tmp_path) < 4096  # folded into the base

    # A file made with the directory's mtime put back is not listed (so the listing
    # really is skipped), until a sweep, which trusts nothing, finds it.
    _copy_stream(tmp_path, "rest-007", "hidden", keep_mtime=True)
    reader = FileEventStore(str(tmp_path), read_only=True)
    assert await reader.count_summaries() == 300
    await reader.refresh_catalog()
    assert await reader.count_summaries() == 301
    await reader.close()

    # Made the ordinary way, the mtime moves and the next reader lists and finds it.
    _copy_stream(tmp_path, "rest-007", "seen", keep_mtime=False)
    later = FileEventStore(str(tmp_path), read_only=True)
    ids = {s.stream_id for s in (await later.query_summaries(SummaryQuery(limit=1000))).items}
    assert {"hidden", "seen"} <= ids
    await later.close()


async def test_a_directory_changed_a_moment_ago_is_not_vouched_for(tmp_path: Path) -> None:
    """Directory mtimes tick coarsely: a file made in the same tick as the last one
    leaves the mtime unchanged, so a listing only vouches for a directory that has
    been quiet for a while."""
    writer = FileEventStore(str(tmp_path))
    await writer.append("fresh", TokenEvent(ts=1.0, value="a", index=0))
    assert await writer.count_summaries() == 1
    await writer.close()
    assert catalog_file.read_listed(str(tmp_path)) is None
