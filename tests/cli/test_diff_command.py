"""``l0tui diff``: exit status for CI, JSON, two stores, the STORE:ID rule; a few real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from l0core import StoreConfigError
from l0tui.commands.diff_cmd import split_spec
from tests.cli.conftest import Runner


def test_diff_exit_status_and_json(cli: Runner, store_dir: str) -> None:
    same = cli("diff", store_dir, "good_run", "good_run", "--json")
    assert same.status == 0, same.err
    body = same.json()
    assert body["identical"] is True and body["differences"] == []
    assert body["firstDivergence"] is None
    differ = cli("diff", store_dir, "good_run", "bad_run", "--json")
    assert differ.status == 1, differ.err
    body = differ.json()
    assert body["identical"] is False and body["differences"]
    assert body["left"] == {"store": store_dir, "streamId": "good_run", "events": 10}
    assert body["right"]["streamId"] == "bad_run" and body["right"]["events"] == 17
    deltas = {d["name"]: d for d in body["summary"]}
    assert any(d["differs"] for d in deltas.values())
    first = body["firstDivergence"]
    assert first is not None and (first["aSeq"] is not None or first["bSeq"] is not None)
    for d in body["differences"]:
        assert set(d) == {"kind", "aSeq", "bSeq", "description"}
    plain = cli("diff", store_dir, "good_run", "bad_run")
    assert plain.status == 1
    lines = [line.split("\t") for line in plain.out.splitlines()]
    assert lines[0][:3] == ["left", store_dir, "good_run"]
    assert lines[-1][:2] == ["result", "differ"]
    assert any(row[0] == "difference" for row in lines)
    assert cli("diff", store_dir, "good_run", "good_run").out.splitlines()[-1].startswith(
        "result\tidentical")


def test_diff_across_two_stores(cli: Runner, store_dir: str, tmp_path: Path) -> None:
    other = str(tmp_path / "other")
    shutil.copytree(store_dir, other)
    specs = cli("diff", f"{store_dir}:good_run", f"{other}:good_run", "--json")
    assert specs.status == 0, specs.err
    assert specs.json()["right"]["store"] == other
    flags = cli("diff", "--left-store", store_dir, "--right-store", other, "good_run", "bad_run",
                "--json")
    assert flags.status == 1
    assert flags.json()["left"]["store"] == store_dir and flags.json()["right"]["store"] == other


def test_store_id_split_rule(store_dir: str) -> None:
    assert split_spec("good_run") == (None, "good_run")
    assert split_spec(f"{store_dir}:good_run") == (store_dir, "good_run")
    assert split_spec("sqlite:///runs.db:l0_abc") == ("sqlite:///runs.db", "l0_abc")
    assert split_spec("postgresql://u:pw@db:5432/l0:run-1") == ("postgresql://u:pw@db:5432/l0",
                                                                "run-1")
    with pytest.raises(StoreConfigError):
        split_spec("/does/not/exist:good_run")
    with pytest.raises(StoreConfigError):
        split_spec(f"{store_dir}:bad id")


def test_diff_errors_are_one_line(cli: Runner, store_dir: str) -> None:
    for argv in (("diff", store_dir, "good_run", "nope"), ("diff", store_dir, "good_run"),
                 ("diff", "a", "b", "c", "d"), ("diff", "/nowhere:x", "y"),
                 ("diff", store_dir, "good_run", "bad_run", "--align", "vibes")):
        result = cli(*argv)
        assert result.status == 2, argv
        assert result.err.startswith("l0tui: ") and result.err.count("\n") == 1, argv


def _l0tui(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "l0tui.cli", *argv], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def test_real_processes_exit_status(store_dir: str) -> None:
    differ = _l0tui("diff", store_dir, "good_run", "bad_run", "--json")
    assert differ.returncode == 1, differ.stderr
    assert json.loads(differ.stdout)["identical"] is False
    same = _l0tui("diff", store_dir, "bad_run", "bad_run")  # piped: headless
    assert same.returncode == 0 and same.stdout.splitlines()[-1].startswith("result\tidentical")
    missing = _l0tui("show", store_dir, "nope")
    assert missing.returncode == 2
    assert missing.stderr == "l0tui: stream 'nope' not found\n"


def test_payload_changes_say_how_paired_events_differ() -> None:
    from l0core import SerializedOptions, StartEvent, TokenEvent
    from l0tui.commands.common import payload_changes

    a = StartEvent(ts=1.0, options=SerializedOptions(model="m", metadata={"temperature": 0.2}))
    b = StartEvent(ts=2.0, options=SerializedOptions(model="m", metadata={"temperature": 1.3}))
    assert payload_changes(a, b) == ["options.metadata.temperature: 0.2 → 1.3"]
    assert payload_changes(a, a) == []
    assert payload_changes(a, TokenEvent(ts=1.0, value="x", index=0)) == []  # kinds differ
    wide = StartEvent(ts=1.0, options=SerializedOptions(metadata={str(i): i for i in range(6)}))
    assert payload_changes(a, wide)[-1] == "(+5 more)"  # model, temperature and 6 keys


def test_diff_text_explains_event_differences(cli: Runner, tmp_path: Path) -> None:
    from l0core import SerializedOptions, StartEvent, TokenEvent
    from tests.cli.conftest import make_store_events

    location = str(tmp_path / "s")
    make_store_events(location, {
        "x": [StartEvent(ts=1.0, options=SerializedOptions(model="m", metadata={"t": 0.2})),
              TokenEvent(ts=2.0, value="hi", index=0)],
        "y": [StartEvent(ts=5.0, options=SerializedOptions(model="m", metadata={"t": 1.3})),
              TokenEvent(ts=6.0, value="hi", index=0)],
    })
    result = cli("diff", location, "x", "y")
    assert result.status == 1
    rows = [line.split("\t") for line in result.out.splitlines() if line.startswith("difference")]
    assert rows == [["difference", "event", "0", "0",
                     "A #0 START vs B #0 START: options.metadata.t: 0.2 → 1.3"]]
