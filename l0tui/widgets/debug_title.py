"""The debugger's title line: stream, model, status, playback, follow (tailing the newest
event or held where the user moved), search, loading.

It draws a :class:`~l0tui.debug_session.Title` (plain data) and repaints only when the
title changed, which most cursor moves do not.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from l0tui.debug_session import Title
from l0tui.display.escape import clean
from l0tui.playback import format_speed

STATUS_STYLES = {"error": "bold red", "completed": "green"}
"""The status word's style (anything else, ``running`` or ``empty``, is yellow)."""
PLAYBACK = {
    "playing": ("▶ playing", "bold green"),
    "paused": ("❚❚ paused", "bold"),
    "end": ("■ end", "bold"),
}


def render_title(title: Title) -> Text:
    """The title line for ``title``; every string from the stream is cleaned."""
    bits: list[tuple[str, str]] = [
        (clean(title.stream_id, limit=60), "bold"),
        (f"  {clean(title.model, limit=30)}" if title.model else "", "dim"),
        (f"  {title.status}", STATUS_STYLES.get(title.status, "yellow")),
        ("  │ ", "dim"),
        PLAYBACK[title.playback],
        (f" {format_speed(title.speed)} {title.pacing}", ""),
    ]
    if title.following:
        bits.append(("  │ follow", "bold cyan"))
        bits.append((" ▼ tail" if title.tailing else " ❚ held (G: tail)",
                     "bold cyan" if title.tailing else "yellow"))
    if title.search_text:
        bits.append((f"  │ /{clean(title.search_text, limit=30)} "
                     f"{title.match_position}/{title.match_count}", "magenta"))
    if title.loading is not None:
        loaded, expected = title.loading
        pct = 100 * loaded // max(1, expected)
        bits.append((f"  │ loading {pct}% ({loaded:,}/{expected:,})", "bold yellow"))
    return Text.assemble(*bits)


class DebuggerTitle(Static):
    """Shows :func:`render_title` of the last :class:`Title` given to :meth:`show`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: Title | None = None

    def show(self, title: Title) -> None:
        if title != self._shown:
            self._shown = title
            self.update(render_title(title), layout=False)
