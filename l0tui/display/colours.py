"""Colours on the command line: one table from colour role to a terminal colour.

The TUI takes its colours from the Textual theme instead (:mod:`l0tui.display.theme`);
both start from the same :class:`~l0tui.display.vocabulary.Look` of a kind or status,
so ``RETRY`` is a warning colour in ``l0tui events`` and in the event list alike.
"""

from __future__ import annotations

from l0core.events import RecordedEventType
from l0tui.display.vocabulary import KIND_LOOKS, Look, Role

TERMINAL_COLOURS: dict[Role, str] = {
    Role.PRIMARY: "cyan",
    Role.SECONDARY: "blue",
    Role.ACCENT: "magenta",
    Role.WARNING: "yellow",
    Role.ERROR: "red",
    Role.SUCCESS: "green",
    Role.MUTED: "dim",
}
"""The one table of command-line colours (the 16 ANSI colours the user's terminal
theme already chose, so output stays readable on light and dark backgrounds)."""


def terminal_style(look: Look | None) -> str:
    """A Rich style string for ``look`` (``""`` for None: the terminal's own colour)."""
    if look is None:
        return ""
    colour = TERMINAL_COLOURS[look.role]
    return f"bold {colour}" if look.bold else colour


def kind_style(kind: RecordedEventType) -> str:
    """The command-line style of an event kind."""
    return terminal_style(KIND_LOOKS[kind])
