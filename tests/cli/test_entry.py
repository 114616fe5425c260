"""The top level: ``l0tui [STORE] [--stream ID]`` opens the TUI, ``l0tui COMMAND`` runs headless."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import l0tui.app
from l0tui.display.escape import sanitize, to_json
from tests.cli.conftest import Runner


@pytest.fixture
def tui_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    def fake_run_tui(location: str, stream_id: str | None = None,
                     compare: tuple[str, str, str, str] | None = None) -> int:
        calls.append((location, stream_id, compare))
        return 0

    monkeypatch.setattr(l0tui.app, "run_tui", fake_run_tui)
    return calls


def test_a_store_argument_opens_the_tui(cli: Runner, tui_calls: list[tuple[Any, ...]],
                                        store_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(store_dir).status == 0
    assert cli("sqlite:///runs.db", "--stream", "l0_abc").status == 0
    monkeypatch.setenv("L0_STORE", "/srv/l0")
    assert cli().status == 0
    monkeypatch.delenv("L0_STORE")
    assert cli("--stream", "x").status == 0
    assert tui_calls == [(store_dir, None, None), ("sqlite:///runs.db", "l0_abc", None),
                         ("/srv/l0", None, None), ("./l0-events", "x", None)]
    bad = cli(store_dir, "extra")
    assert bad.status == 2 and bad.err.startswith("l0tui: unrecognized arguments: extra")


def test_diff_on_a_terminal_opens_the_diff_screen(cli: Runner, tui_calls: list[tuple[Any, ...]],
                                                  store_dir: str) -> None:
    assert cli("diff", store_dir, "good_run", "bad_run", tty=True).status == 0
    assert tui_calls == [(store_dir, None, (store_dir, "good_run", store_dir, "bad_run"))]
    # --json, --plain and --no-tui stay headless even on a terminal (exit 1: they differ)
    assert cli("diff", store_dir, "good_run", "bad_run", "--json", tty=True).status == 1
    assert cli("diff", store_dir, "good_run", "bad_run", "--no-tui", tty=True).status == 1
    assert len(tui_calls) == 1
    missing = cli("diff", "/nowhere", "a", "b", tty=True)
    assert missing.status == 2 and "no such file or directory" in missing.err


def test_version_and_console_script() -> None:
    code = "from l0tui.cli import main; main(['--version'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("l0tui ")


def test_escaping_helpers() -> None:
    # the same pictures as the TUI (one visible cell per control character)
    assert sanitize("a\x1b[31mb\x07\x9b\r\n\t") == "a\u241b[31mb\u2407\\x9b\u240d\u21b5\u2409"
    assert sanitize("x\ny\tz", keep_newlines=True) == "x\ny    z"
    assert sanitize("\u202egnp.exe") == "<U+202E>gnp.exe"
    assert sanitize("שלום 👍 [bold]") == "שלום 👍 [bold]"
    assert to_json({"v": "\x1b\x9b\x7f"}, indent=False) == '{"v":"\\u001b\\u009b\\u007f"}'


@pytest.mark.parametrize("extra", [[], ["--jsonl"]])
def test_ls_into_a_pipe_loads_neither_rich_nor_textual(store_dir: str, extra: list[str]) -> None:
    """``l0tui ls`` is timed as a new process: its output to a pipe is plain text or
    JSON, so it must not pay for importing Rich (a tenth of its run) or Textual."""
    code = ("import sys; from l0tui.cli import run; status = run(sys.argv[1:]); "
            "print(sorted(m for m in ('rich', 'textual') if m in sys.modules), status)")
    done = subprocess.run([sys.executable, "-c", code, "ls", store_dir, *extra],
                          capture_output=True, text=True, check=True, timeout=60)
    *listing, loaded = done.stdout.splitlines()
    assert loaded == "[] 0"
    assert any("good_run" in line for line in listing)
