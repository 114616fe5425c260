"""Helpers for the throwaway test projects the plugin tests run with ``pytester``."""

from __future__ import annotations

import importlib.metadata
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

PLUGIN = "l0core.pytest_plugin"

SOCKET_GUARD = '''
import socket

import pytest


def _refuse(*args, **kwargs):
    raise OSError("network blocked by the test's socket guard")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
'''
"""A conftest that makes every outgoing connection of every test fail."""

GUARD_TESTS = '''
import socket

import openai
import pytest


def test_the_guard_is_on():
    with pytest.raises(OSError, match="socket guard"):
        socket.create_connection(("127.0.0.1", 9))


def test_a_client_without_the_fixture_cannot_reach_anything():
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="m", messages=[], stream=True)
'''
"""Tests that prove the guard bites: a run that passes them had no network."""


def plugin_args() -> list[str]:
    """``-p l0core.pytest_plugin`` unless an installed entry point loads it already."""
    loaded = any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if loaded else ["-p", PLUGIN]


UNUSED = ("-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-p", "no:syrupy",
          "-p", "no:hypothesispytest")
"""Plugins the projects do without: the snapshot ones keep a process-wide temporary
directory an inner session would delete under the outer one, and hypothesis's
re-imports itself (seconds) at the end of every session."""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest on the project, in this process (the SDKs are imported once for all runs)."""
    return pytester.runpytest_inprocess(*plugin_args(), *UNUSED, *args)


def run_subprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in a fresh interpreter, as a user's run is."""
    return pytester.runpytest_subprocess(*plugin_args(), *UNUSED, *args)


def make_ini(pytester: pytest.Pytester, *lines: str) -> None:
    """The project's pytest.ini: async tests run as this repo's do, plus ``lines``."""
    pytester.makeini("\n".join(["[pytest]", "asyncio_mode = auto",
                                 "asyncio_default_fixture_loop_scope = function", *lines, ""]))


def block_network(pytester: pytest.Pytester, directory: Path | None = None) -> None:
    """The socket guard and its proofs, in the project (or in ``directory`` of it)."""
    where = directory or pytester.path
    (where / "conftest.py").write_text(SOCKET_GUARD, encoding="utf-8")
    (where / "test_guard.py").write_text(GUARD_TESTS, encoding="utf-8")


def unblock_network(directory: Path) -> None:
    (directory / "conftest.py").unlink()
    (directory / "test_guard.py").unlink()


def use_fake(monkeypatch: pytest.MonkeyPatch, fake: Any) -> None:
    """Point both SDKs of the subprocess at the fake provider."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.anthropic_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")


def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL",
                 "ANTHROPIC_API_KEY", "CI"):
        monkeypatch.delenv(name, raising=False)


def recorded(path: Path) -> list[dict[str, Any]]:
    """The envelopes of a recording file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def tokens(path: Path) -> list[str]:
    return [e["event"]["value"] for e in recorded(path) if e["event"]["type"] == "TOKEN"]


def lines_in_order(result: pytest.RunResult, wanted: list[str]) -> None:
    """Each of ``wanted`` is part of a line of the output, in this order (no wildcards:
    diffs are full of ``[`` and ``*``)."""
    lines = result.stdout.lines
    at = 0
    for part in wanted:
        while at < len(lines) and part not in lines[at]:
            at += 1
        assert at < len(lines), f"not found in order: {part!r}\n" + result.stdout.str()
        at += 1


def printed_command(output: str) -> list[str]:
    """The arguments of the ``pytest ...`` command a failure message says to run."""
    marker = "with: pytest "
    line = next(line for line in output.splitlines() if marker in line)
    command = line.split(marker, 1)[1].split(" (or ", 1)[0]
    return shlex.split(command)
