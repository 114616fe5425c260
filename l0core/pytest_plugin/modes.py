"""Record modes (``--l0-record``), as pytest-recording's, and the command that records.

``none`` replays only; ``once`` records a recording that does not exist yet and
replays one that does; ``new`` also records the calls a recording lacks; ``all``
records everything again. The default is the ``l0_record_mode`` ini value, and
``none`` whenever ``CI`` is set: a CI run must never reach a model.
"""

from __future__ import annotations

import os
import shlex
from typing import Literal, cast

import pytest

RecordMode = Literal["none", "once", "new", "all"]
MODES: tuple[RecordMode, ...] = ("none", "once", "new", "all")

OPTION = "--l0-record"
INI_MODE = "l0_record_mode"
INI_DIR = "l0_recordings_dir"
DEFAULT_DIR = "recordings"
PLUGIN = "l0core.pytest_plugin"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def record_mode(config: pytest.Config) -> RecordMode:
    """The mode of this run: the command line, else ``none`` in CI, else the ini value."""
    given = config.getoption("l0_record")
    if given is not None:
        return cast(RecordMode, given)
    if in_ci():
        return "none"
    value = str(config.getini(INI_MODE) or "none").strip()
    for mode in MODES:
        if value == mode:
            return mode
    raise pytest.UsageError(f"{INI_MODE} = {value!r}: expected one of {', '.join(MODES)}")


def record_command(config: pytest.Config, nodeid: str, mode: RecordMode = "once") -> str:
    """The command line that records what ``nodeid`` needs, to run from the rootdir."""
    parts = ["pytest"]
    if PLUGIN in (getattr(config.option, "plugins", None) or []):
        parts += ["-p", PLUGIN]  # the plugin came from -p, so the command needs it too
    parts += [shlex.quote(nodeid), f"{OPTION}={mode}"]
    command = " ".join(parts)
    if os.path.realpath(config.invocation_params.dir) != os.path.realpath(config.rootpath):
        command = f"cd {shlex.quote(str(config.rootpath))} && {command}"
    return command
