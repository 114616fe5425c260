"""Fault tests of the JSONL file store: crashes, torn and corrupt files, racing
processes, a full disk. Real processes and real files throughout."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from l0core import CompleteEvent, CorruptionError, StartEvent, TokenEvent
from l0core.codec import encode_envelope
from l0core.events import SerializedOptions
from l0core.stores.file import FileEventStore
from l0core.stores.file import writes as file_module
from tests.faults.procs import kill_during_appends, race_writers, spawn


def _values(events: list[Any]) -> list[str]:
    return [e.event.value for e in events]


# ── kill -9 during appends ──


@pytest.mark.slow
async def test_kill_during_appends_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(1234)
    torn_seen = 0
    for trial in range(20):
        root = tmp_path / f"t{trial}"
        # The last trials write ~5 MB batches, so the kill often lands inside a write:
        # the kernel then leaves a partial batch ending in a torn line.
        batch, pad = (2500, 2000) if trial >= 15 else (rng.choice([1, 1, 1, 5, 200]), 0)
        acks = kill_during_appends("file", str(root), rng, batch=batch, pad=pad).pairs()
        assert acks, "the writer acknowledged nothing before the kill"
        store = FileEventStore(str(root))
        report = await store.verify()
        (check,) = report.streams
        assert check.status in ("ok", "torn_tail"), check.describe()
        events = await store.get_events("s1")  # reopening never raises
        n = len(events)
        assert [e.seq for e in events] == list(range(n))  # contiguous, no duplicates
        assert _values(events) == [f"w:{i}" + "." * pad for i in range(n)]
        assert check.events == n
        for seq, value in acks:  # every acknowledged event is there, as acknowledged
            assert seq < n and events[seq].event.value == value  # type: ignore[union-attr]
        if check.status == "torn_tail":
            torn_seen += 1
            assert check.offset is not None and check.offset > 0
        # The next append repairs any torn tail and continues the seqs.
        assert await store.append("s1", TokenEvent(ts=1, value="after", index=n)) == n
        after = await store.verify()
        assert [c.status for c in after.streams] == ["ok"]
        assert store.repaired_tails == (1 if check.status == "torn_tail" else 0)
        await store.close()
    print(f"torn tails seen in 20 kills: {torn_seen}")


# ── torn tails at every byte ──


def _write_stream(root: Path, n: int) -> bytes:
    events: list[Any] = [StartEvent(ts=1, options=SerializedOptions(prompt="p", model="m"))]
    events += [TokenEvent(ts=2 + i, value=f"tök{i} 🧪", index=i) for i in range(n - 2)]
    events.append(CompleteEvent(ts=99, content="done", token_count=n - 2))
    from l0core import EventEnvelope
    data = b"".join(json.dumps(encode_envelope(EventEnvelope("s1", i, e)),
                               ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                    for i, e in enumerate(events))
    root.mkdir(parents=True, exist_ok=True)
    (root / "s1.jsonl").write_bytes(data)
    return data


async def test_truncated_at_every_offset_of_last_two_lines(tmp_path: Path) -> None:
    data = _write_stream(tmp_path / "orig", 12)
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    first = line_starts[-3]  # start of the second-to-last line
    original = await FileEventStore(str(tmp_path / "orig"), read_only=True).get_events("s1")
    for cut in range(first, len(data) + 1):
        root = tmp_path / f"cut{cut}"
        root.mkdir()
        (root / "s1.jsonl").write_bytes(data[:cut])
        complete = data[:cut].count(b"\n")
        store = FileEventStore(str(root))
        events = await store.get_events("s1")
        assert [encode_envelope(e) for e in events] == [
            encode_envelope(e) for e in original[:complete]], cut
        assert await store.get_last_seq("s1") == complete - 1
        batches = [e for b in [b async for b in store.iter_batches("s1", batch_size=4)]
                   for e in b]
        assert len(batches) == complete
        (check,) = (await store.verify()).streams
        assert check.status == ("ok" if cut in line_starts else "torn_tail"), cut
        assert check.events == complete
        # Appending cuts the torn bytes off and continues after the last complete line.
        assert await store.append("s1", TokenEvent(ts=5, value="x", index=0)) == complete
        assert len(await store.get_events("s1")) == complete + 1
        assert (root / "s1.jsonl").read_bytes().startswith(data[:line_starts[complete]])
        await store.close()
        shutil.rmtree(root)


async def test_bad_final_line_with_newline_is_a_torn_tail(tmp_path: Path) -> None:
    data = _write_stream(tmp_path, 6)
    (tmp_path / "s1.jsonl").write_bytes(data + b'{"streamId":"s1","seq":6,"ev\x00\n')
    store = FileEventStore(str(tmp_path))
    assert len(await store.get_events("s1")) == 6
    (check,) = (await store.verify()).streams
    assert check.status == "torn_tail" and check.offset == len(data)
    (fixed,) = (await store.verify(repair=True)).streams
    assert fixed.repaired and (tmp_path / "s1.jsonl").read_bytes() == data


# ── corruption in the middle ──


async def test_any_flipped_byte_mid_file_raises_with_offset(tmp_path: Path) -> None:
    data = _write_stream(tmp_path / "orig", 30)
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    line = 14
    lo, hi = starts[line], starts[line + 1] - 1  # the bytes of line 14, newline excluded
    ascii_positions = [p for p in range(lo, hi) if data[p] < 0x80]
    for pos in ascii_positions:
        root = tmp_path / "flip"
        root.mkdir()
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        (root / "s1.jsonl").write_bytes(bytes(flipped))
        store = FileEventStore(str(root), read_only=True)
        with pytest.raises(CorruptionError) as err:
            await store.get_events("s1")
        assert err.value.offset == lo, pos
        assert err.value.path.endswith("s1.jsonl")
        assert f"at byte {lo}" in str(err.value)
        with pytest.raises(CorruptionError):
            [b async for b in store.iter_batches("s1", batch_size=5)]
        (check,) = (await store.verify()).streams
        assert check.status == "corrupt" and check.offset == lo and check.events == line
        shutil.rmtree(root)


async def test_silently_wrong_seq_is_corruption(tmp_path: Path) -> None:
    """A digit changed inside ``seq`` still parses; the seq check catches it."""
    data = _write_stream(tmp_path, 20)
    damaged = data.replace(b'"seq":7,', b'"seq":8,')
    assert damaged != data
    (tmp_path / "s1.jsonl").write_bytes(damaged)
    store = FileEventStore(str(tmp_path))
    with pytest.raises(CorruptionError, match="expected seq 7") as err:
        await store.get_events("s1")
    assert err.value.offset == data.index(b'{"streamId":"s1","seq":7,')
    assert [e.seq for e in await store.read_events("s1", from_seq=10)] == list(range(10, 20))


# ── racing processes ──


@pytest.mark.slow
async def test_four_processes_append_to_one_stream(tmp_path: Path) -> None:
    results = race_writers("file", str(tmp_path), 4, 1000)
    store = FileEventStore(str(tmp_path))
    events = await store.get_events("s1")
    assert [e.seq for e in events] == list(range(4000))
    per: dict[str, list[int]] = {}
    for e in events:
        tag, i = e.event.value.split(":")  # type: ignore[union-attr]
        per.setdefault(tag, []).append(int(i))
    assert per == {f"w{w}": list(range(1000)) for w in range(4)}
    for acks in results:  # each acked seq holds what its writer wrote
        for seq, value in acks.pairs():
            assert events[seq].event.value == value  # type: ignore[union-attr]
    assert [c.status for c in (await store.verify()).streams] == ["ok"]


@pytest.mark.slow
async def test_subscribe_follows_another_process(tmp_path: Path) -> None:
    store = FileEventStore(str(tmp_path))
    proc = spawn("append", "--store", "file", "--path", str(tmp_path), "--count", "300",
                 "--batch", "3")
    seen: list[int] = []

    async def follow() -> None:
        async for env in store.subscribe("s1", poll_interval=0.01):
            seen.append(env.seq)
            if env.seq == 299:
                return

    try:
        await asyncio.wait_for(follow(), timeout=60)
    finally:
        proc.communicate(timeout=60)
    assert seen == list(range(300))


# ── disk full ──


async def test_injected_disk_full_acknowledges_nothing(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails ``os.write`` at the OS-call boundary after half the batch reached the file
    (what ENOSPC mid-write looks like); the store must cut the half batch off."""
    store = FileEventStore(str(tmp_path))
    await store.append_many("s1", [TokenEvent(ts=1, value=f"a{i}", index=i) for i in range(5)])
    before = (tmp_path / "s1.jsonl").read_bytes()
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:
        if len(data) > 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(file_module, "_write", half_then_full)
    big = [TokenEvent(ts=2, value="x" * 50, index=5 + i) for i in range(40)]
    for _ in range(2):  # twice in a row, within one lease: the rollback must hold both times
        with pytest.raises(OSError, match="No space"):
            await store.append_many("s1", big)
        assert (tmp_path / "s1.jsonl").read_bytes() == before
    assert len(await store.get_events("s1")) == 5
    monkeypatch.setattr(file_module, "_write", real_write)
    assert await store.append_many("s1", big) == 44
    assert [c.status for c in (await store.verify()).streams] == ["ok"]
    await store.close()


@pytest.mark.slow
async def test_real_write_limit_acknowledges_nothing(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the kernel refuse the write (EFBIG) in a child process."""
    proc = spawn("diskfull", "--store", "file", "--path", str(tmp_path))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["failed"] and "File too large" in result["failed"]
    assert result["after_failure"] == list(range(100))
    assert result["next_seq"] == 100
    assert result["reopened"] == list(range(101)) and result["last_value"] == "again"
