"""The attempt lineage screen: every attempt of the stream, why it started, how it ended.

``a`` in the debugger opens it. One row per attempt (the cells of
:mod:`l0tui.attempt_report`, the same as ``l0tui show --attempts``); the panel under
the table spells out the highlighted attempt: its trigger, backoff, timing, and for
a continuation the exact text it carried over. Enter dismisses with the attempt's
first seq, and the debugger moves its cursor there.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from l0core.timeline import AttemptLineage, AttemptTiming, Timeline, attempt_lineage
from l0tui.attempt_report import LINEAGE_COLUMNS, ended, lineage_cells, ms, timing_cells
from l0tui.attempt_report import TIMING_COLUMNS as _TIMING
from l0tui.display.escape import clean

CARRIED_CHARS = 600
"""Characters of a continuation's carried-over text shown in the detail panel (its end)."""


class LineageScreen(ModalScreen[int | None]):
    """Dismisses with the first seq of the attempt chosen (None: closed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,a", "close", "Close", id="lineage.close"),
        Binding("enter", "choose", "Go there", id="lineage.choose"),
    ]

    DEFAULT_CSS = """
    LineageScreen {
        align: center middle;
    }
    LineageScreen > #lineage-box {
        width: 96%;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    LineageScreen #lineage-title {
        text-style: bold;
        width: 100%;
    }
    LineageScreen DataTable {
        height: auto;
        max-height: 50%;
        overflow-x: hidden;
    }
    LineageScreen #lineage-detail {
        height: 1fr;
        border-top: solid $primary-darken-2;
        overflow-y: auto;
    }
    """

    def __init__(self, timeline: Timeline, current_seq: int = 0) -> None:
        super().__init__()
        self.timeline = timeline
        self.lineage: list[AttemptLineage] = attempt_lineage(timeline)
        self.timings: list[AttemptTiming] = timeline.attempt_timings()
        self.current = timeline.attempt_number(current_seq) if len(timeline) else 1
        self.table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True,
                                               id="lineage-table")
        self.detail = Static("", id="lineage-detail")

    def compose(self) -> ComposeResult:
        with Vertical(id="lineage-box"):
            count = len(self.lineage)
            yield Label(f"Attempts of {clean(self.timeline.stream_id, limit=60)}: {count} "
                        "· enter: go to the attempt · esc: close", id="lineage-title")
            yield self.table
            yield self.detail
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns(*LINEAGE_COLUMNS)
        for a in self.lineage:
            self.table.add_row(*table_cells(a), key=str(a.number))
        self.table.move_cursor(row=max(0, self.current - 1))
        self.table.focus()
        self._show_detail(max(0, self.current - 1))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._choose(event.cursor_row)

    def _show_detail(self, row: int) -> None:
        if not 0 <= row < len(self.lineage):
            return
        self.detail.update(detail_text(self.lineage[row], self.timings[row]))

    @property
    def highlighted(self) -> int:
        """The row (0-based) the table cursor is on."""
        return self.table.cursor_row

    def action_choose(self) -> None:
        self._choose(self.table.cursor_row)

    def _choose(self, row: int) -> None:
        if 0 <= row < len(self.lineage):
            self.dismiss(self.lineage[row].start_seq)

    def action_close(self) -> None:
        self.dismiss(None)


TABLE_WIDTHS = (3, 11, 28, 8, 6, 24, 20)
"""Characters per column in the table (the panel below spells each attempt out)."""


def table_cells(a: AttemptLineage) -> list[str]:
    """:func:`lineage_cells` made to fit a terminal: the short backoff and token count,
    every cell cut to :data:`TABLE_WIDTHS`."""
    cells = lineage_cells(a)
    cells[3] = ms(a.backoff_ms)
    cells[4] = f"{a.token_count:,}"
    return [_fit(clean(cell, limit=None), width) for cell, width in
            zip(cells, TABLE_WIDTHS, strict=True)]


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def detail_text(a: AttemptLineage, t: AttemptTiming) -> Text:
    """The highlighted attempt spelled out."""
    out = Text()
    out.append(f"attempt {a.number}", style="bold")
    out.append(f"  #{a.start_seq}–#{a.end_seq}  ", style="dim")
    out.append(clean(a.describe_start(), limit=200) + "\n")
    if a.trigger_seq is not None:
        trigger = f"started by #{a.trigger_seq}"
        if a.failure_seq is not None and a.failure_seq != a.trigger_seq:
            trigger += f" after the failure at #{a.failure_seq}"
        out.append(trigger + "\n", style="dim")
    if a.model:
        out.append(f"model: {clean(a.model, limit=80)}  (fallback index {a.fallback_index})\n")
    first = "-" if a.first_token_seq is None else f"#{a.first_token_seq}"
    out.append(f"backoff: {ms(a.backoff_ms)} · first token {first} · "
               f"{a.token_count:,} tokens, {a.chars:,} chars · lasted {ms(a.duration_ms)}\n")
    cells = dict(zip(_TIMING, timing_cells(t), strict=True))
    out.append(f"gaps: p50 {cells['p50 gap']} · p95 {cells['p95 gap']} · "
               f"max {cells['max gap']} · stalls {cells['stalls']} · "
               f"{cells['tokens/s']} tokens/s\n", style="dim")
    out.append("ended: ", style="bold")
    out.append(clean(ended(a), limit=300) + "\n",
               style="green" if a.outcome == "completed" else "yellow")
    if a.continuation_seq is not None:
        source = ""
        if a.carried_from:
            source = " from attempt " + ", ".join(str(n) for n in a.carried_from)
        out.append(f"\ncarried over by CONTINUATION #{a.continuation_seq}: "
                   f"{len(a.carried_over):,} chars{source}\n", style="bold cyan")
        text = a.carried_over
        if len(text) > CARRIED_CHARS:
            out.append(f"… {len(text) - CARRIED_CHARS:,} earlier chars\n", style="dim italic")
            text = text[-CARRIED_CHARS:]
        out.append(clean(text, limit=None, multiline=True), style="underline")
    return out
