"""Headless subcommands, one module each. Every module defines:

- ``HELP``: one line for ``l0tui --help``;
- ``EPILOG``: examples shown by ``l0tui COMMAND --help``;
- ``configure(parser)``: its arguments;
- ``async run(args, out) -> int``: the exit status (0 fine, 1 "found something", 2 error);
- optionally ``tui(args, out) -> int | None``: open the TUI instead (``diff`` on a terminal).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from l0tui.output import Output

NAMES: tuple[str, ...] = ("ls", "show", "events", "replay", "diff", "copy", "verify", "export",
                          "import", "index", "prune", "serve")


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    epilog: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Output], Coroutine[Any, Any, int]]
    tui: Callable[[argparse.Namespace, Output], int | None] | None = None
    """Optional: open the TUI instead (runs before the event loop); None = stay headless."""


def load(name: str) -> Command:
    """The subcommand ``name`` (its module is ``l0tui.commands.<name>``)."""
    module = importlib.import_module(f"l0tui.commands.{name}_cmd")
    return Command(name, module.HELP, module.EPILOG, module.configure, module.run,
                   getattr(module, "tui", None))
