"""The diff screen's summary bar: one delta per headline number, the ones that differ lit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import Static

from l0tui.display.escape import clean
from l0tui.display.formatting import format_delta_value as format_value
from l0tui.display.vocabulary import DELTA_LABELS


def render_summary(deltas: Sequence[Any], *, identical: bool) -> Text:
    """``tokens 7 → 7 · retries 0 → 1 · ...``; differing deltas bold yellow."""
    out = Text()
    out.append(" identical " if identical else " differ ",
               style="bold black on green" if identical else "bold black on yellow")
    for delta in deltas:
        name = str(delta.name)
        label = DELTA_LABELS.get(name, name.replace("_", " "))
        a, b = clean(format_value(name, delta.a)), clean(format_value(name, delta.b))
        out.append("  ")
        if delta.differs:
            out.append(f"{label} ", style="bold yellow")
            out.append(f"{a} → {b}", style="bold")
        else:
            out.append(f"{label} ", style="dim")
            out.append(a, style="dim")
    return out


class DiffSummary(Static):
    """Shows :func:`render_summary` of a ``StreamDiff``'s ``summary``."""

    DEFAULT_CSS = """
    DiffSummary {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    """

    def show_deltas(self, deltas: Sequence[Any], *, identical: bool) -> None:
        self.update(render_summary(deltas, identical=identical))
