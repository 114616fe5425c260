"""``load_recorded_events``: every recording we ship loads; every bad file is one clear line."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from l0core import FileEventStore, ReplayedState, replay, snapshot_from_state
from l0core.codec import decode_envelope
from l0core.recorded import (
    RecordedEventStore,
    RecordingFormatError,
    load_recorded_events,
    load_recorded_events_sync,
)
from l0core.testing import every_kind
from l0tui.cli import run as l0tui
from tests.paths import DEMO_STREAMS, INTEROP

SHIPPED = sorted([*DEMO_STREAMS.iterdir(), *(INTEROP / "ts-file-store").iterdir(),
                  *(INTEROP / "py-file-store").iterdir()])


def _envelopes(path: Path) -> list[object]:
    """What the file holds, read with the plain json module (the loader must agree)."""
    text = path.read_text(encoding="utf-8")
    items = json.loads(text) if text.lstrip().startswith("[") else [
        json.loads(line) for line in text.split("\n") if line]
    return [decode_envelope(item) for item in items]


def _json(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def _state(store: RecordedEventStore, stream_id: str) -> ReplayedState:
    return await (await replay(stream_id, store)).collect()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
async def test_every_shipped_file_loads(path: Path) -> None:
    store = await load_recorded_events(path)
    ids = await store.list_streams()
    if path.name.endswith(".snapshot.json"):
        assert ids == []
        snap = _json(path)
        [loaded] = await store.list_snapshots(snap.get("streamId", snap.get("stream_id")))
        assert (loaded.seq, loaded.content) == (snap["seq"], snap["content"])
        return
    expected = _envelopes(path)
    [stream_id] = ids
    assert await store.get_events(stream_id) == expected
    assert store.path_of(stream_id) == path
    # replays to what the file store itself replays from the same directory
    own = FileEventStore(path.parent, read_only=True)
    try:
        want = await _state(own, stream_id)  # type: ignore[arg-type]
    finally:
        await own.close()
    got = await _state(store, stream_id)
    assert (got.content, got.token_count, got.completed, got.retry_attempts,
            got.violations) == (want.content, want.token_count, want.completed,
                                want.retry_attempts, want.violations)


@pytest.mark.parametrize("directory", [DEMO_STREAMS, INTEROP / "ts-file-store",
                                       INTEROP / "py-file-store"], ids=lambda p: p.name)
def test_whole_directories_load(directory: Path) -> None:
    store = load_recorded_events_sync(directory)
    files = [p for p in directory.iterdir() if not p.name.endswith(".snapshot.json")]
    assert store.get_stream_count() == len(files)
    assert store.get_total_event_count() == sum(len(_envelopes(p)) for p in files)
    assert store.loaded_from == [directory]


async def test_interop_directory_keeps_its_snapshot() -> None:
    store = await load_recorded_events(INTEROP / "ts-file-store")
    [snap] = await store.list_snapshots("demo-stream")
    assert (snap.seq, snap.content, snap.token_count) == (3, "Quantum", 1)


async def test_two_spellings_load_to_the_same_state() -> None:
    ts = await load_recorded_events(INTEROP / "ts-file-store" / "demo-stream.json")
    py = await load_recorded_events(INTEROP / "py-file-store" / "demo-stream.json")
    a, b = await _state(ts, "demo-stream"), await _state(py, "demo-stream")
    assert (a.content, a.token_count, a.completed) == (b.content, b.token_count, b.completed)


def test_an_exported_slice_loads(tmp_path: Path) -> None:
    out = tmp_path / "slice.jsonl"
    status = l0tui(["export", str(DEMO_STREAMS), "03-guardrail-retry", "--from", "10",
                    "--to", "40", "-o", str(out)], stdout=io.StringIO(), stderr=io.StringIO())
    assert status == 0
    store = load_recorded_events_sync(out)
    source = store.sources["03-guardrail-retry"]
    assert (source.first_seq, source.event_count, source.path) == (10, 31, out)
    whole = _envelopes(DEMO_STREAMS / "03-guardrail-retry.jsonl")[10:41]
    loaded = asyncio.run(store.get_events("03-guardrail-retry"))
    assert [e.seq for e in loaded] == list(range(31))  # renumbered from 0 in memory
    assert [e.event for e in loaded] == [e.event for e in whole]  # type: ignore[attr-defined]


async def test_many_paths_into_one_store(tmp_path: Path) -> None:
    store = await load_recorded_events(DEMO_STREAMS / "01-clean-completion.jsonl",
                                       INTEROP / "ts-file-store")
    assert sorted(await store.list_streams()) == ["01-clean-completion", "demo-stream"]


def test_one_stream_in_two_files_is_refused() -> None:
    with pytest.raises(RecordingFormatError, match="stream 'demo-stream' is also in"):
        load_recorded_events_sync(INTEROP / "ts-file-store", INTEROP / "py-file-store")


# ───────────────────────────── bad input ─────────────────────────────

DEMO = DEMO_STREAMS / "01-clean-completion.jsonl"
ARRAY = INTEROP / "ts-file-store" / "demo-stream.json"


def _lines(n: int) -> bytes:
    return b"".join(DEMO.read_bytes().splitlines(keepends=True)[:n])


def _array_with(change: Callable[[list[dict[str, object]]], None]) -> bytes:
    items = json.loads(ARRAY.read_text())
    change(items)
    return json.dumps(items, indent=2).encode()


def _item_line(data: bytes, index: int) -> int:
    """The line where item ``index`` of an ``indent=2`` array starts, counted by hand."""
    starts = [n for n, line in enumerate(data.decode().split("\n"), 1) if line == "  {"]
    return starts[index]


def _retype(items: list[dict[str, object]]) -> None:
    items[4]["event"]["type"] = "TOKNE"  # type: ignore[index]


def _reseq(items: list[dict[str, object]]) -> None:
    items[3]["seq"] = 7


BAD: dict[str, tuple[bytes, str]] = {
    "empty.jsonl": (b"", "empty.jsonl: the file is empty: no events"),
    "blank.json": (b"\n \n", "blank.json: the file is empty: no events"),
    "empty-array.json": (b"[]", "empty-array.json: an empty array: no events"),
    "torn.jsonl": (_lines(5) + _lines(6)[len(_lines(5)):][:40],
                   "torn.jsonl line 6: the last line is cut short (no newline and not a "
                   "complete event"),
    "torn-array.json": (ARRAY.read_bytes()[:700],
                        "the file is cut short: its JSON ends early"),
    "sse.jsonl": (b'data: {"id":"chatcmpl-1","choices":[]}\n\ndata: [DONE]\n',
                  "sse.jsonl line 1: not JSON"),
    "chunks.jsonl": (b'{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[]}\n',
                     "chunks.jsonl line 1: not an L0 recording: an object with keys id, "
                     "object, choices"),
    "package.json": (b'{\n  "name": "x",\n  "version": "1"\n}\n',
                     "package.json line 1: not an L0 recording: an object with keys name, "
                     "version"),
    "numbers.json": (b"[1, 2, 3]", "numbers.json line 1: item 0 is not an L0 recording: "
                     "a JSON int"),
    "bad-middle.jsonl": (_lines(5) + b"garbage\n" + _lines(8)[len(_lines(5)):],
                         "bad-middle.jsonl line 6: not JSON"),
    "blank-middle.jsonl": (_lines(5) + b"\n" + _lines(8)[len(_lines(5)):],
                           "blank-middle.jsonl line 6: an empty line"),
    "gap.jsonl": (_lines(3) + _lines(6)[len(_lines(4)):],
                  "gap.jsonl line 4: expected seq 3, the line says 4"),
    "bad-type.json": (_array_with(_retype),
                      f"bad-type.json line {_item_line(_array_with(_retype), 4)}: "
                      "item 4.event.type: unknown event type 'TOKNE'"),
    "bad-seq.json": (_array_with(_reseq), f"bad-seq.json line {_item_line(_array_with(_reseq), 3)}"
                     ": item 3 has seq 7, expected 3"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_fail_in_one_line_naming_file_and_line(tmp_path: Path, name: str) -> None:
    data, message = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(RecordingFormatError) as info:
        load_recorded_events_sync(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(str(tmp_path)), text
    assert message in text, text
    assert info.value.path == str(path)


def test_a_last_line_without_newline_is_kept_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "hand.jsonl"
    path.write_bytes(_lines(4).rstrip(b"\n"))
    store = load_recorded_events_sync(path)
    assert store.get_total_event_count() == 4


def test_a_directory_without_recordings_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing here")
    with pytest.raises(RecordingFormatError, match="no recordings here"):
        load_recorded_events_sync(tmp_path)


def test_a_missing_path_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such recording"):
        load_recorded_events_sync(tmp_path / "nope.jsonl")


def test_a_snapshot_past_its_stream_is_refused(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in DEMO.read_text().splitlines()[:3]]
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    snapshot = {"streamId": "01-clean-completion", "seq": 9, "ts": 1, "content": "x",
                "tokenCount": 1, "checkpoint": "", "violations": [], "driftDetected": False,
                "retryAttempts": 0, "networkRetryCount": 0, "fallbackIndex": 0}
    (tmp_path / "s.snapshot.json").write_text(json.dumps(snapshot))
    with pytest.raises(RecordingFormatError, match=r"at seq 9, but .* ends at seq 2"):
        load_recorded_events_sync(tmp_path)


async def test_sync_form_works_under_a_running_loop() -> None:
    store = load_recorded_events_sync(DEMO)
    assert (await _state(store, "01-clean-completion")).completed


async def test_a_file_store_directory_loads_with_its_snapshots(tmp_path: Path) -> None:
    own = FileEventStore(tmp_path)
    try:
        await own.append_many("run-1", every_kind())
        state = await (await replay("run-1", own, to_seq=3)).collect()
        await own.save_snapshot(snapshot_from_state("run-1", 3, state, ts=1.0))
    finally:
        await own.close()
    store = await load_recorded_events(tmp_path)  # its hidden index is not a recording
    assert await store.list_streams() == ["run-1"]
    [snap] = await store.list_snapshots("run-1")
    assert (snap.seq, snap.content) == (3, state.content)
    assert [e.event for e in await store.get_events("run-1")] == every_kind()
