"""The stream browser: the store's catalog, filtered and sorted by the store.

The screen shows a window of the catalog (:class:`~l0tui.catalog_window.CatalogWindow`)
in a Line API table, so a million streams paint as fast as ten: the filter and the
order go to the store as a query, pages are fetched as the cursor nears the edge of
the window, and the total comes from the store's count. New streams and status
changes appear on their own: the screen waits on the store's catalog wake-ups
(LISTEN/NOTIFY, the Redis channel, the file index) and reads the window again.
Enter opens the debugger; mark two streams and press ``d`` to diff them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Header, Input, Static

from l0core.catalog import SummaryFilter
from l0core.catalog.summary import StreamSummary
from l0core.catalog.syntax import FILTER_HELP, FilterSyntaxError, parse_filter
from l0core.events import RecordedEventType as K
from l0core.stores.base import BaseEventStore
from l0tui import heap
from l0tui.catalog_window import CatalogWindow
from l0tui.display.escape import clean
from l0tui.display.formatting import format_count, format_duration, format_ts_compact
from l0tui.display.theme import kind_styles, theme_style
from l0tui.display.vocabulary import MARKED, STREAM_STATUS_LOOKS, Look, Role
from l0tui.loading import error_text
from l0tui.messages import OpenDiff, OpenStream
from l0tui.widgets.stream_table import Cell, Column, StreamTable

POLL_SECONDS = 3.0
"""Longest wait between looks at the catalog when the store sends no wake-ups."""

COLUMNS: tuple[Column, ...] = (
    Column("", " ", 1),
    Column("stream_id", "id", 28),
    Column("status", "status", 10),
    Column("model", "model", 0),
    Column("start_ts", "started UTC", 14),
    Column("duration_ms", "dur.", 7, right=True),
    Column("event_count", "events", 7, right=True),
    Column("token_count", "tokens", 7, right=True),
    Column("retries", "retry", 6, right=True),
    Column("violation_count", "viol.", 5, right=True),
    Column("fallback_index", "fallbk", 6, right=True),
)
SORTABLE = [c.key for c in COLUMNS if c.key]


def row_status(row: StreamSummary) -> str:
    """What the status column says: the stream's status, or why it could not be read."""
    if row.read_status == "ok":
        return row.status
    return {"other_stream": "other stream"}.get(row.read_status, row.read_status)


class BrowserScreen(Screen[None]):
    """The streams of one store.

    ``window`` holds the rows on hand; ``marked`` is the ordered list of marked
    stream ids; ``sort_column``/``sort_reverse`` the order; ``total`` the number of
    matching streams.
    """

    HELP = """\
## Stream browser

The streams of the store, newest first. Filtering and sorting run in the store, so
this is as quick with a million streams as with ten. New streams and status
changes appear on their own.

- **enter**: open the stream in the debugger
- **/**: filter (syntax below); **escape** back to the table, again to clear
- **s / S**: sort by the next column / reverse the order (or click a column header)
- **m** or **space**: mark a stream; mark two and press **d** to compare them
- **home / end**: first / last stream; **r**: read the store again

""" + "```\n" + FILTER_HELP + "```\n"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="browser.filter"),
        Binding("s", "sort_next", "Sort", id="browser.sort"),
        Binding("S", "sort_reverse", "Reverse", show=False, id="browser.sort_reverse"),
        Binding("m,space", "mark", "Mark", id="browser.mark"),
        Binding("d", "diff", "Diff marked", id="browser.diff"),
        Binding("r", "reload", "Reload", show=False, id="browser.reload"),
        Binding("escape", "leave_filter", "Table", show=False, id="browser.leave_filter"),
        Binding("q", "app.quit", "Quit", id="browser.quit"),
    ]

    def __init__(self, store: BaseEventStore, location: str = "") -> None:
        super().__init__()
        self.store = store
        self.location = location or store.describe()
        self.window = CatalogWindow(store)
        self.marked: list[str] = []
        self.sort_column = "start_ts"
        self.sort_reverse = True
        self.filter_text = ""
        self.filter_error: str | None = None
        self.total: int | None = None
        self.scan_progress: tuple[int, int] | None = None
        self.load_error: str | None = None
        self.loaded = False
        """True once the first page is on screen (tests wait for it)."""
        self.rows_generation = 0
        """Counts every new set of rows put on screen (benchmarks and tests wait on it)."""
        self._version: object = None
        self._counted: tuple[SummaryFilter, object] | None = None
        """The filter and catalog version ``total`` was counted for."""
        self._status_shown: Text | None = None
        self._looks: dict[str, Style] = {}
        self._started = False
        self._settled = False  # heap.settle() was called once the first rows were shown

    # ── layout ──

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="browser-bar"):
            yield Input(placeholder='filter: status:error model:… since:2h retries>0 "text" '
                                    '(/, ? for help)', id="filter")
            yield Static("", id="browser-status")
        yield Static("", id="browser-error", classes="banner")
        yield StreamTable(COLUMNS, self._cells, id="streams")
        yield Footer()

    def on_mount(self) -> None:
        self.table.sort_key = self.sort_column
        self.table.sort_descending = self.sort_reverse
        self.table.focus()
        self.query_one("#browser-error", Static).display = False
        self.query_one("#filter", Input).cursor_blink = not self.app.is_headless
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.set_interval(heap.COLLECT_SECONDS, self._collect)
        if self.app.screen is self:
            self._start()

    def _collect(self) -> None:
        heap.collect_between_frames(time.monotonic() - self.table.moved_at)

    def on_unmount(self) -> None:
        if self._settled:
            self._settled = False
            heap.release()

    def on_screen_resume(self) -> None:
        if not self._started and self.app.screen is self:
            self._start()

    def _start(self) -> None:
        """Read the store once the browser is shown (not while a debugger covers it)."""
        self._started = True
        self.load_first()
        self.follow_catalog()

    @property
    def table(self) -> StreamTable:
        return self.query_one("#streams", StreamTable)

    # ── loading ──

    @work(exclusive=True, group="streams")
    async def load_first(self) -> None:
        """The first page of the current query, then its count."""
        try:
            if not self.store.keeps_summaries and self.scan_progress is None:
                await self.store.prepare_catalog(self._scan_progressed)
            self._version = await self.store.catalog_version()
            await self.window.load_first()
        except Exception as exc:
            self._show_error(f"cannot list streams in {self.location}: {error_text(exc)}")
            self.loaded = True
            return
        self._show_error(None)
        self.table.set_rows(self.window.rows, cursor=0)
        self.rows_generation += 1
        self.loaded = True
        self._update_status()
        if not self._settled:  # the store's client and index now live as long as we do
            heap.settle()
            self._settled = True
        await self._count()

    def _scan_progressed(self, done: int, total: int) -> None:
        self.scan_progress = (done, total)
        if done == total or done % 50 == 0:
            self._update_status()

    async def _count(self) -> None:
        """Count the matches, unless only the order changed since the last count (a
        store that gives no catalog version is always counted again)."""
        counted_for = (self.window.query.filter, self._version)
        if self.total is not None and self._version is not None \
                and counted_for == self._counted:
            self._update_status()
            return
        self.total = None
        self._update_status()
        try:
            self.total = await self.window.count()
            self._counted = counted_for
        except Exception as exc:
            self._show_error(f"cannot count streams in {self.location}: {error_text(exc)}")
        self._update_status()

    @work(exclusive=True, group="edge")
    async def extend(self, side: int) -> None:
        try:
            if side > 0:
                trimmed = await self.window.extend_forward()
                self.table.shift(self.window.rows, -trimmed)
            else:
                added = await self.window.extend_backward()
                self.table.shift(self.window.rows, added)
        except Exception as exc:
            self._show_error(f"cannot read more streams: {error_text(exc)}")
        self._update_status()

    @work(exclusive=True, group="streams")
    async def jump(self, side: int) -> None:
        try:
            if side < 0:
                await self.window.load_first()
                self.table.set_rows(self.window.rows, cursor=0)
            else:
                await self.window.load_last()
                self.table.set_rows(self.window.rows, cursor=len(self.window.rows) - 1)
            self.rows_generation += 1
        except Exception as exc:
            self._show_error(f"cannot read streams: {error_text(exc)}")
        self._update_status()

    @work(exclusive=True, group="follow")
    async def follow_catalog(self) -> None:
        """Read the window again whenever the catalog changes."""
        while True:
            await self.store.wait_catalog_change(POLL_SECONDS)
            if not self.loaded or self.app.screen is not self:
                continue
            try:
                version = await self.store.catalog_version()
            except Exception:
                continue
            if version is not None and version == self._version:
                continue
            self._version = version
            await self.refresh_window()

    async def refresh_window(self) -> None:
        """The same stretch of the catalog, read again; the cursor stays on its stream."""
        selected = self.selected_stream_id
        try:
            await self.window.reload()
            total = await self.window.count()
        except Exception as exc:
            self._show_error(f"cannot list streams in {self.location}: {error_text(exc)}")
            return
        self._show_error(None)
        self.total = total
        self._counted = None
        index = self.window.index_of(selected) if selected is not None else None
        self.table.set_rows(self.window.rows, cursor=index if index is not None else None)
        self.rows_generation += 1
        self._update_status()

    def poll(self) -> None:
        """Look at the store now (tests and the reload key)."""
        self.run_worker(self.refresh_window(), group="streams", exclusive=True)

    @on(StreamTable.NearEdge, "#streams")
    def near_edge(self, event: StreamTable.NearEdge) -> None:
        if (event.side > 0 and not self.window.at_end) or (
                event.side < 0 and not self.window.at_start):
            self.extend(event.side)

    @on(StreamTable.Jump, "#streams")
    def jumped(self, event: StreamTable.Jump) -> None:
        if event.side < 0 and self.window.at_start:
            self.table.cursor = 0
        elif event.side > 0 and self.window.at_end:
            self.table.cursor = max(0, len(self.window.rows) - 1)
        else:
            self.jump(event.side)

    # ── drawing ──

    def _theme_changed(self, _theme: Theme) -> None:
        self._looks = self._build_looks()
        self.table.redraw()

    def _build_looks(self) -> dict[str, Style]:
        """Every style a row uses, resolved against the theme once (not per cell)."""
        variables = self.app.theme_variables
        looks = {f"status:{word}": theme_style(variables, look)
                 for word, look in STREAM_STATUS_LOOKS.items()}
        kinds = kind_styles(variables)
        looks.update(marked=theme_style(variables, MARKED),
                     error=theme_style(variables, Look(Role.ERROR)),
                     retry=kinds[K.RETRY], guardrail=kinds[K.GUARDRAIL],
                     fallback=kinds[K.FALLBACK], id=Style(bold=True))
        return looks

    def _cells(self, row: StreamSummary) -> Sequence[Cell]:
        looks = self._looks or self._build_looks()
        self._looks = looks
        mark: Cell = ("●" if row.stream_id in self.marked else " ", looks["marked"])
        status = row_status(row)
        status_cell: Cell = (status, looks.get(f"status:{status}", looks["status:empty"]))
        sid: Cell = (clean(row.stream_id, limit=None), looks["id"])
        if row.read_status in ("unreadable", "other_stream"):
            why: Cell = (clean(row.read_note, limit=80), looks["error"])
            return [mark, sid, status_cell, why, *(("", None) for _ in range(7))]
        retries = f"{row.retry_attempts}" + (
            f"+{row.network_retry_count}n" if row.network_retry_count else "")
        return [
            mark, sid, status_cell,
            (clean(row.model or "—", limit=40), None),
            (format_ts_compact(row.start_ts), None),
            (format_duration(row.duration_ms, compact=True) if row.duration_ms > 0 else "—",
             None),
            (format_count(row.event_count), None),
            (format_count(row.token_count), None),
            (retries, looks["retry"] if row.retry_attempts else None),
            (f"{row.violation_count}", looks["guardrail"] if row.violation_count else None),
            (f"{row.fallback_index}", looks["fallback"] if row.fallback_index else None),
        ]

    def _show_error(self, message: str | None) -> None:
        self.load_error = message
        banner = self.query_one("#browser-error", Static)
        banner.display = message is not None
        if message is not None:
            banner.update(Text(clean(message, limit=400)))
            self.notify(clean(message, limit=400), title="store", severity="error")

    def _update_status(self) -> None:
        bits: list[str] = []
        if self.scan_progress is not None and self.scan_progress[0] < self.scan_progress[1]:
            done, total = self.scan_progress
            bits.append(f"reading {done:,}/{total:,} streams (no summaries kept)")
        elif self.total is None:
            bits.append(f"{len(self.window.rows):,}+ streams, counting…")
        else:
            filtered = not self.window.query.filter.is_empty()
            bits.append(f"{self.total:,} matching" if filtered else f"{self.total:,} streams")
        arrow = "↓" if self.sort_reverse else "↑"
        bits.append(f"sort {self.sort_column}{arrow}")
        if self.marked:
            bits.append("marked " + ", ".join(clean(m, limit=30) for m in self.marked))
        text = Text(" · ".join(bits))
        if self.filter_error:
            text = Text(clean(self.filter_error, limit=200),
                        style=theme_style(self.app.theme_variables, Look(Role.ERROR)))
        if text != self._status_shown:
            # an update lays the whole screen out again: not on every page fetched
            self._status_shown = text
            self.query_one("#browser-status", Static).update(text)

    # ── filter and sort ──

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        try:
            flt = parse_filter(self.filter_text) if self.filter_text else SummaryFilter()
        except FilterSyntaxError as exc:
            self.filter_error = str(exc)
            self._update_status()
            return
        self.filter_error = None
        self.window.set_query(flt=flt)
        self.load_first()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        filt = self.query_one("#filter", Input)
        if filt.has_focus:
            self.table.focus()
        elif filt.value:
            filt.value = ""

    def _resort(self) -> None:
        self.table.sort_key = self.sort_column
        self.table.sort_descending = self.sort_reverse
        self.window.set_query(order=self.sort_column, descending=self.sort_reverse)
        self.load_first()

    def action_sort_next(self) -> None:
        i = SORTABLE.index(self.sort_column) if self.sort_column in SORTABLE else -1
        self.sort_column = SORTABLE[(i + 1) % len(SORTABLE)]
        self._resort()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort()

    @on(StreamTable.HeaderClicked, "#streams")
    def header_clicked(self, event: StreamTable.HeaderClicked) -> None:
        column = event.column.key
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = column
            self.sort_reverse = column not in ("stream_id", "model", "status")
        self._resort()

    # ── selection ──

    @property
    def selected_stream_id(self) -> str | None:
        row = self.table.selected
        return None if row is None else row.stream_id

    @property
    def shown_ids(self) -> list[str]:
        """Stream ids of the rows on hand, in order (for tests and the palette)."""
        return self.table.shown_ids

    @on(StreamTable.Opened, "#streams")
    def row_opened(self, event: StreamTable.Opened) -> None:
        self.post_message(OpenStream(self, event.stream_id))

    def action_mark(self) -> None:
        stream_id = self.selected_stream_id
        if stream_id is None:
            return
        if stream_id in self.marked:
            self.marked.remove(stream_id)
        else:
            self.marked.append(stream_id)
            if len(self.marked) > 2:
                self.marked.pop(0)
        self.table.redraw()
        self._update_status()

    def action_diff(self) -> None:
        if len(self.marked) != 2:
            self.notify("Mark two streams (m or space) to compare them.", title="diff")
            return
        self.post_message(OpenDiff(self, self.store, self.marked[0], self.store, self.marked[1]))

    def action_reload(self) -> None:
        async def again() -> None:
            await self.store.refresh_catalog(self._scan_progressed)
            await self.refresh_window()

        self.run_worker(again(), group="streams", exclusive=True)

