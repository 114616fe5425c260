"""``l0tui import FILE STORE``: ids on stdout, one-line errors, exit codes, progress."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from l0core import ReplayedState, create_event_replayer, create_event_store
from l0tui.cli import run
from tests.importers import captures as c
from tests.importers.helpers import write


@dataclass
class Result:
    status: int
    out: str
    err: str


def cli(*argv: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), stdout=out, stderr=err, isatty=False)
    return Result(status, out.getvalue(), err.getvalue())


def read(location: str) -> dict[str, ReplayedState]:
    async def go() -> dict[str, ReplayedState]:
        store = await create_event_store(location, read_only=True)
        try:
            replayer = create_event_replayer(store)
            return {sid: await replayer.replay_to_state(sid)
                    for sid in sorted(await store.list_streams())}
        finally:
            await store.close()

    return asyncio.run(go())


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    objs = [*c.anthropic_answer("msg_1", ["Hello", " there"]),
            c.message_start("msg_2"), *c.tool_block(0, "toolu_1", "f", ['{"a":', "1}"]),
            *c.message_end("tool_use")]
    return write(tmp_path, "capture.sse", c.sse_events(objs))


def test_import_prints_the_ids_written(capture: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "events")
    result = cli("import", str(capture), store)
    assert result.status == 0, result.err
    assert result.out.splitlines() == ["msg_1", "msg_2", "msg_2-tool-0"]
    assert result.err.startswith("l0tui: imported 3 stream(s), ")
    states = read(store)
    assert sorted(states) == ["msg_1", "msg_2", "msg_2-tool-0"]
    assert (states["msg_1"].content, states["msg_1"].completed) == ("Hello there", True)
    assert states["msg_2-tool-0"].content == '{"a":1}'


def test_stream_name_format_and_json(capture: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    result = cli("import", str(capture), store, "--stream", "run-7", "--format", "anthropic",
                 "--json")
    assert result.status == 0, result.err
    report = json.loads(result.out)
    assert report["format"] == "anthropic"
    rows = {row["streamId"]: row for row in report["streams"]}
    assert list(rows) == ["run-7", "run-7-2", "run-7-2-tool-0"]
    assert rows["run-7"]["events"] == 4 and rows["run-7"]["outcome"] == "completed"
    assert rows["run-7"]["finishReason"] == "end_turn"
    assert rows["run-7"]["usage"] == {"input_tokens": 25, "output_tokens": 2}
    assert rows["run-7"]["timestamps"] == "missing"
    assert rows["run-7-2-tool-0"]["parentStreamId"] == "run-7-2"
    assert report["events"] == sum(row["events"] for row in rows.values())
    assert sorted(read(store)) == sorted(rows)


def test_a_second_import_is_refused_and_changes_nothing(capture: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "events")
    assert cli("import", str(capture), store).status == 0
    before = read(store)
    again = cli("import", str(capture), store)
    assert again.status == 2
    assert again.out == ""
    assert again.err == (f"l0tui: stream 'msg_1' already exists in {store}; nothing written "
                         "for it (use --stream to import under another id)\n")
    assert read(store) == before


def test_bad_files_give_one_line_and_exit_2(tmp_path: Path) -> None:
    store = str(tmp_path / "events")
    bad = write(tmp_path, "bad.jsonl", '{"type": "message_start", "message": {}}\n{oops\n{}\n')
    cases = {
        str(tmp_path / "missing.sse"): f"{tmp_path / 'missing.sse'}: no such file or directory",
        str(write(tmp_path, "empty.sse", "")): f"{tmp_path / 'empty.sse'}: empty file: nothing"
                                               " to import",
        str(bad): f"{bad}: line 2: invalid JSON (",
        str(tmp_path): f"{tmp_path}: is a directory, not a capture file",
    }
    for path, message in cases.items():
        result = cli("import", path, store)
        assert result.status == 2, path
        assert result.err.startswith(f"l0tui: {message}"), result.err
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert not (tmp_path / "events").exists() or read(store) == {}


def test_progress_on_stderr(capture: Path, tmp_path: Path) -> None:
    result = cli("import", str(capture), str(tmp_path / "events"), "--progress")
    assert result.status == 0, result.err
    lines = [line for line in result.err.splitlines() if line.startswith("l0tui: importing")]
    assert lines, result.err
    assert lines[-1].startswith("l0tui: importing capture.sse: ")
    assert " MB 100%, " in lines[-1] and lines[-1].endswith(" MB/s")


def test_dash_is_the_default_store(capture: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("L0_STORE", str(tmp_path / "default"))
    result = cli("import", str(capture), "-")
    assert result.status == 0, result.err
    assert "msg_1" in read(str(tmp_path / "default"))


def test_help() -> None:
    result = cli("import", "--help")
    assert result.status == 0
    assert "usage: l0tui import" in result.out and "--stream ID" in result.out
