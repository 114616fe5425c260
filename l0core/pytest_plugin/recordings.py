"""Where one test's recordings live, which it used, and what to say when one is missing.

The recordings of the tests in a directory are one file store: ``<test dir>/
recordings/<name>.jsonl`` (the ``l0_recordings_dir`` ini option changes the
directory; a relative value is relative to the test file's directory), so
``l0tui <dir>`` browses them all. A recording named ``name`` is the stream
``name``; when the code under test makes several SDK calls, call *k* >= 2 is the
stream ``name-k``. Tool-call streams a recorder writes beside them
(``name-tool-0``) belong to their call.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from l0core.pytest_plugin.modes import (
    DEFAULT_DIR,
    INI_DIR,
    RecordMode,
    record_command,
    record_mode,
)

if TYPE_CHECKING:
    from l0core.events import EventEnvelope
    from l0core.recorded.load import RecordedEventStore

_NAME = re.compile(r"[A-Za-z0-9_-]{1,190}")


@dataclass(frozen=True, slots=True)
class UsedRecording:
    """A recording a test read or wrote."""

    path: Path
    stream_id: str
    how: str
    """"read" (``l0_recording``), "replayed" or "recorded" (the SDK fixtures)."""


USED = pytest.StashKey[list[UsedRecording]]()


def call_id(name: str, call: int) -> str:
    """The stream of call ``call`` (from 1) of recording ``name``."""
    return name if call == 1 else f"{name}-{call}"


class Recordings:
    """The recordings of one test: ``directory``, the run's ``mode``, and loading by name."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.config = request.config
        self.nodeid = request.node.nodeid
        self.mode: RecordMode = record_mode(request.config)
        configured = str(self.config.getini(INI_DIR) or DEFAULT_DIR)
        self.directory = (request.path.parent / configured).resolve()
        self.used = request.node.stash.setdefault(USED, [])
        self.before_load: list[Callable[[], None]] = []
        """Called before a load: recorders publish what they recorded so far."""

    def check_name(self, name: str) -> str:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"recording name {name!r}: use 1-190 characters of "
                             "[A-Za-z0-9_-] (it is the stream id and the file name)")
        return name

    def path(self, name: str, call: int = 1) -> Path:
        return self.path_of(call_id(self.check_name(name), call))

    def path_of(self, stream_id: str) -> Path:
        return self.directory / f"{stream_id}.jsonl"

    def write(self, stream_id: str, envelopes: Sequence[EventEnvelope]) -> Path:
        """Write a recorded stream as its file, replacing it whole (temp file + rename):
        the JSONL a file store keeps, and nothing else in the directory."""
        from l0core.codec import encode_envelope_line

        path = self.path_of(stream_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_bytes(b"".join(encode_envelope_line(env) for env in envelopes))
        os.replace(temp, path)
        return path

    def recorded_calls(self, name: str) -> int:
        """How many calls of ``name`` are recorded: files ``name``, ``name-2``, ... in a row."""
        n = 0
        while self.path(name, n + 1).exists():
            n += 1
        return n

    def files_of(self, name: str) -> list[Path]:
        """Every file of ``name``: its calls and their tool-call streams."""
        if not self.directory.is_dir():
            return []
        own = re.compile(re.escape(self.check_name(name)) + r"(-\d+)?(-tool-\d+)?\.jsonl")
        return sorted(p for p in self.directory.iterdir() if own.fullmatch(p.name))

    def note(self, path: Path, stream_id: str, how: str) -> None:
        entry = UsedRecording(path, stream_id, how)
        if entry not in self.used:
            self.used.append(entry)

    def command(self, mode: RecordMode = "once") -> str:
        return record_command(self.config, self.nodeid, mode)

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.config.rootpath))
        except ValueError:
            return str(path)

    def fail_missing(self, name: str, *, how: str | None = None) -> NoReturn:
        """Fail the test: recording ``name`` is not there; say how to make it."""
        where = self._shown(self.path(name))
        if how is None:
            how = f"record it with: {self.command('once')}"
        pytest.fail(f"no recording {name!r} (looked for {where}, record mode "
                    f"{self.mode}); {how}", pytrace=False)

    def load(self, name: str, how: str = "read") -> RecordedEventStore:
        """The recording ``name`` and its other calls, loaded (the test fails when missing)."""
        from l0core.recorded.load import load_recorded_events_sync

        for publish in self.before_load:
            publish()
        files = self.files_of(name)
        if not self.path(name).exists():
            target = shlex.quote(self._shown(self.path(name)))
            export = f"l0tui export STORE STREAM_ID -o {target}"
            self.fail_missing(name, how=f"put one there: {export}, or record it through the "
                              f"l0_openai or l0_anthropic fixture with: {self.command('once')}")
        store = load_recorded_events_sync(*files)
        for path in files:
            self.note(path, path.name[: -len(".jsonl")], how)
        return store
