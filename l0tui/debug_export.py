"""What the debugger's export key offers, and writing the one chosen.

The files themselves are written by :mod:`l0tui.export` (shared with the command
line); this module knows the debugger's choices: the whole stream or the events up
to the cursor as JSONL, the Markdown report, or an SVG of the screen. It stays free
of Textual: the screenshot is a callable the screen passes in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

from l0tui.debug_session import DebugSession
from l0tui.export import export_to_file


class ExportChoice(NamedTuple):
    name: str
    kind: str
    help: str


EXPORT_CHOICES: tuple[ExportChoice, ...] = (
    ExportChoice("export events up to the cursor as JSONL", "jsonl-to-cursor",
                 "the spec's wire format, seqs 0 to the cursor"),
    ExportChoice("export the whole stream as JSONL", "jsonl", "the spec's wire format"),
    ExportChoice("export a Markdown report", "markdown",
                 "summary, attempts, violations, errors, final content"),
    ExportChoice("export an SVG screenshot", "svg", "this screen as it looks now"),
)
"""In the order the export menu lists them."""


def write_export(session: DebugSession, kind: str, *, source: str,
                 screenshot: Callable[[str], str], directory: str = ".") -> str:
    """Write export ``kind`` of ``session`` into ``directory``; the path written.

    ``kind``: ``"jsonl"`` (the whole stream), ``"jsonl-to-cursor"`` (events up to and
    including the cursor), ``"markdown"`` (the report, naming ``source``) or
    ``"svg"`` (``screenshot(path)`` saves the screen there and returns the path).
    Raises ``OSError`` or ``ValueError`` when it cannot be written.
    """
    if kind == "svg":
        return screenshot(os.path.join(directory, f"{session.stream_id}-{session.cursor}.svg"))
    if kind == "jsonl-to-cursor":
        return export_to_file(session.timeline, "jsonl", directory, stop=session.cursor + 1)
    return export_to_file(session.timeline, kind, directory, source=source)
