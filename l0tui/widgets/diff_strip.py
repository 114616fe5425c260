"""A one-line strip under a diff side's scrubber: where that side's differences are."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

MARK = "≠"
MARK_STYLE = Style(color="yellow", bold=True)
CURRENT_STYLE = Style(color="black", bgcolor="yellow", bold=True)


def strip_cells(seqs: Sequence[int], total: int, width: int) -> list[bool]:
    """Which of ``width`` cells (each a seq range, as the scrubber's) hold a difference."""
    cells = [False] * max(0, width)
    if total <= 0 or width <= 0:
        return cells
    for seq in seqs:
        if 0 <= seq < total:
            cells[min(width - 1, seq * width // total)] = True
    return cells


class DiffStrip(Widget):
    """``≠`` in every scrubber cell that holds the start of a difference on this side."""

    DEFAULT_CSS = """
    DiffStrip {
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._seqs: list[int] = []
        self._total = 0
        self._current: int | None = None

    def show(self, seqs: Sequence[int], total: int, current: int | None) -> None:
        """Mark ``seqs`` of a side with ``total`` events; ``current`` is lit."""
        self._seqs = sorted(set(seqs))
        self._total = total
        self._current = current
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y != 0 or width <= 0:
            return Strip.blank(width)
        cells = strip_cells(self._seqs, self._total, width)
        current = (strip_cells([self._current], self._total, width)
                   if self._current is not None else [False] * width)
        segments = [
            Segment(MARK, CURRENT_STYLE if current[i] else MARK_STYLE) if lit else Segment(" ")
            for i, lit in enumerate(cells)
        ]
        return Strip(segments, width)
