"""The stream browser: every stream of the store in a sortable, filterable table.

Stream ids come from ``list_streams``; each stream's metadata is computed in a worker
and its row appears as soon as it is known, so thousands of streams never freeze the
screen. The list is polled every few seconds for new streams (and for streams still
running). Enter opens the debugger; mark two streams and press ``d`` to diff them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.widgets.data_table import RowKey

from l0core.events import RecordedEventType as K
from l0core.stores.base import BaseEventStore
from l0tui.display.escape import clean
from l0tui.display.formatting import format_count, format_duration, format_ts_compact
from l0tui.display.theme import kind_styles, theme_style
from l0tui.display.vocabulary import MARKED, STREAM_STATUS_LOOKS, Look, Role
from l0tui.loading import StreamRow, error_text, iter_stream_rows
from l0tui.messages import OpenDiff, OpenStream

POLL_SECONDS = 3.0

COLUMNS: tuple[tuple[str, str], ...] = (
    ("mark", " "),
    ("id", "id"),
    ("status", "status"),
    ("model", "model"),
    ("started", "started UTC"),
    ("duration", "dur."),
    ("events", "events"),
    ("tokens", "tokens"),
    ("retries", "retry"),
    ("violations", "viol."),
    ("fallback", "fallbk"),
)
ID_WIDTH = 28
SORTABLE = [key for key, _ in COLUMNS if key != "mark"]

def row_status(row: StreamRow) -> str:
    if row.meta is None:
        return "unreadable" if row.error and row.error != "empty stream" else "empty"
    return "damaged" if row.note else row.meta.status


def sort_value(row: StreamRow, column: str) -> Any:
    """A value to sort ``row`` by ``column`` (unknown metadata sorts first)."""
    meta = row.meta
    if column == "id":
        return row.stream_id
    if column == "status":
        return row_status(row)
    if meta is None:
        return (0, "")
    values: dict[str, Callable[[], Any]] = {
        "model": lambda: meta.model,
        "started": lambda: meta.start_ts,
        "duration": lambda: meta.duration_ms,
        "events": lambda: meta.event_count,
        "tokens": lambda: meta.token_count,
        "retries": lambda: meta.retry_attempts + meta.network_retry_count,
        "violations": lambda: meta.violation_count,
        "fallback": lambda: meta.fallback_index,
    }
    return (1, values[column]())


class BrowserScreen(Screen[None]):
    """The streams of one store.

    ``rows`` maps stream id to its :class:`~l0tui.loading.StreamRow`; ``marked`` is the
    ordered list of marked stream ids; ``sort_column``/``sort_reverse`` the order.
    """

    HELP = """\
## Stream browser

Every stream of the store. Metadata is read in the background; rows appear as they
are ready. The list refreshes every few seconds when new streams are written.

- **enter**: open the stream in the debugger
- **/**: filter as you type (matches id, model and status); **escape** back to the table
- **s / S**: sort by the next column / reverse the order (or click a column header)
- **m** or **space**: mark a stream; mark two and press **d** to compare them
- **r**: reload now
"""

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
        self.rows: dict[str, StreamRow] = {}
        self.marked: list[str] = []
        self.sort_column = "started"
        self.sort_reverse = True
        self.filter_text = ""
        self.loading_total = 0
        self.loading_done = 0
        self.load_error: str | None = None
        self._known: set[str] = set()
        self._first_load = True

    # ── layout ──

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="browser-bar"):
            yield Input(placeholder="filter: id, model or status  (/)", id="filter")
            yield Static("", id="browser-status")
        yield Static("", id="browser-error", classes="banner")
        yield DataTable(id="streams", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#streams", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.query_one("#browser-error", Static).display = False
        self.query_one("#filter", Input).cursor_blink = not self.app.is_headless
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self._started = False
        if self.app.screen is self:
            self._start()

    def on_screen_resume(self) -> None:
        if not self._started and self.app.screen is self:
            self._start()

    def _start(self) -> None:
        """Read the store once the browser is shown (not while a debugger covers it)."""
        self._started = True
        self.load_streams()
        self.set_interval(POLL_SECONDS, self.poll)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#streams", DataTable)

    # ── loading ──

    def poll(self) -> None:
        if not self.workers or all(w.is_finished for w in self.workers):
            self.load_streams()

    @work(exclusive=True, group="streams")
    async def load_streams(self) -> None:
        try:
            ids = sorted(await self.store.list_streams())
        except Exception as exc:
            self._show_error(f"cannot list streams in {self.location}: {error_text(exc)}")
            return
        self._show_error(None)
        new = [i for i in ids if i not in self._known]
        running = [i for i in ids if i in self.rows and row_status(self.rows[i]) == "running"]
        todo = new + running
        gone = self._known - set(ids)
        if gone:
            for stream_id in gone:
                self.rows.pop(stream_id, None)
            self._known -= gone
            self.rebuild()
        if not todo:
            self._update_status()
            return
        self.loading_total = len(todo)
        self.loading_done = 0
        self._update_status()
        async for chunk in iter_stream_rows(self.store, todo):
            self.add_rows(chunk)

    def add_rows(self, chunk: list[StreamRow]) -> None:
        """Show ``chunk`` (new or updated streams) in the table."""
        table = self.table
        for row in chunk:
            self._known.add(row.stream_id)
            existed = row.stream_id in self.rows
            self.rows[row.stream_id] = row
            self.loading_done += 1
            if existed and row.stream_id in table.rows:
                for key, value in zip([k for k, _ in COLUMNS], self._cells(row), strict=True):
                    table.update_cell(row.stream_id, key, value)
            elif self._matches(row):
                table.add_row(*self._cells(row), key=row.stream_id)
        if self.loading_done >= self.loading_total:
            self._sort()
            if self._first_load:
                self._first_load = False
                table.move_cursor(row=0)
        self._update_status()

    def _theme_changed(self, _theme: Theme) -> None:
        """The cells hold colours resolved from the theme: draw them again in the new one."""
        self.rebuild()

    def _style(self, look: Look) -> Style:
        """``look`` in the current theme's colours."""
        return theme_style(self.app.theme_variables, look)

    def _cells(self, row: StreamRow) -> list[Text]:
        mark = Text("●" if row.stream_id in self.marked else " ", style=self._style(MARKED))
        sid = Text(clean(row.stream_id, limit=None), style="bold", no_wrap=True,
                   overflow="ellipsis")
        sid.truncate(ID_WIDTH, overflow="ellipsis")
        status = row_status(row)
        status_text = Text(status, style=self._style(
            STREAM_STATUS_LOOKS.get(status, STREAM_STATUS_LOOKS["empty"])))
        meta = row.meta
        if meta is None:
            why = Text(clean(row.error or "", limit=60), style=self._style(Look(Role.ERROR)))
            return [mark, sid, status_text, why, *(Text("") for _ in range(7))]
        kinds = kind_styles(self.app.theme_variables)
        retries = f"{meta.retry_attempts}" + (
            f"+{meta.network_retry_count}n" if meta.network_retry_count else "")
        return [
            mark,
            sid,
            status_text,
            Text(clean(meta.model or "—", limit=24)),
            Text(format_ts_compact(meta.start_ts)),
            Text(format_duration(meta.duration_ms, compact=True) if meta.duration_ms > 0 else "—",
                 justify="right"),
            Text(format_count(meta.event_count), justify="right"),
            Text(format_count(meta.token_count), justify="right"),
            Text(retries, justify="right", style=kinds[K.RETRY] if meta.retry_attempts else ""),
            Text(f"{meta.violation_count}", justify="right",
                 style=kinds[K.GUARDRAIL] if meta.violation_count else ""),
            Text(f"{meta.fallback_index}", justify="right",
                 style=kinds[K.FALLBACK] if meta.fallback_index else ""),
        ]

    def _show_error(self, message: str | None) -> None:
        self.load_error = message
        banner = self.query_one("#browser-error", Static)
        banner.display = message is not None
        if message is not None:
            banner.update(Text(clean(message, limit=400)))
            self.notify(clean(message, limit=400), title="store", severity="error")

    def _update_status(self) -> None:
        shown = self.table.row_count
        total = len(self.rows)
        bits = [f"{shown}/{total} streams" if shown != total else f"{total} streams"]
        if self.loading_done < self.loading_total:
            bits.append(f"reading {self.loading_done}/{self.loading_total}")
        arrow = "↓" if self.sort_reverse else "↑"
        bits.append(f"sort {self.sort_column}{arrow}")
        if self.marked:
            bits.append("marked " + ", ".join(clean(m, limit=30) for m in self.marked))
        self.query_one("#browser-status", Static).update(Text(" · ".join(bits)))

    # ── filter and sort ──

    def _matches(self, row: StreamRow) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.lower()
        hay = [row.stream_id, row_status(row)]
        if row.meta is not None:
            hay.append(row.meta.model)
        return any(needle in h.lower() for h in hay)

    def rebuild(self) -> None:
        """Refill the table from ``rows`` with the current filter and order."""
        table = self.table
        selected = self.selected_stream_id
        table.clear()
        rows = sorted((r for r in self.rows.values() if self._matches(r)),
                      key=lambda r: (sort_value(r, self.sort_column), r.stream_id),
                      reverse=self.sort_reverse)
        for row in rows:
            table.add_row(*self._cells(row), key=row.stream_id)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        self._update_status()

    def _sort(self) -> None:
        self.rebuild()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.rebuild()

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

    def action_sort_next(self) -> None:
        i = SORTABLE.index(self.sort_column) if self.sort_column in SORTABLE else -1
        self.sort_column = SORTABLE[(i + 1) % len(SORTABLE)]
        self.rebuild()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.rebuild()

    @on(DataTable.HeaderSelected)
    def header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        if column not in SORTABLE:
            return
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = column
            self.sort_reverse = False
        self.rebuild()

    # ── selection ──

    @property
    def selected_stream_id(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        try:
            key: RowKey = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return None if key.value is None else str(key.value)

    @property
    def shown_ids(self) -> list[str]:
        """Stream ids in table order (for tests and the palette)."""
        return [str(k.value) for k in self.table.rows]

    @on(DataTable.RowSelected, "#streams")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenStream(self, str(event.row_key.value)))

    def action_mark(self) -> None:
        stream_id = self.selected_stream_id
        if stream_id is None:
            return
        if stream_id in self.marked:
            self.marked.remove(stream_id)
        else:
            self.marked.append(stream_id)
            if len(self.marked) > 2:
                dropped = self.marked.pop(0)
                if dropped in self.table.rows:
                    self.table.update_cell(dropped, "mark", Text(" "))
        mark = "●" if stream_id in self.marked else " "
        self.table.update_cell(stream_id, "mark", Text(mark, style=self._style(MARKED)))
        self._update_status()

    def action_diff(self) -> None:
        if len(self.marked) != 2:
            self.notify("Mark two streams (m or space) to compare them.", title="diff")
            return
        self.post_message(OpenDiff(self, self.store, self.marked[0], self.store, self.marked[1]))

    def action_reload(self) -> None:
        self.load_streams()
