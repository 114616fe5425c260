"""Pilot tests of the stream browser: rows, sort, filter, marks, open, live updates,
a window over a big catalog, palette."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.widgets import Input

import l0tui.app
from l0core.catalog import SummaryPage, SummaryQuery
from l0core.events import CompleteEvent, StartEvent, TokenEvent
from l0core.stores.memory import InMemoryEventStore
from l0tui.app import L0TuiApp
from l0tui.messages import OpenDiff, OpenStream
from l0tui.screens.browser import BrowserScreen
from l0tui.screens.debugger import DebuggerScreen
from tests.tui.conftest import settle
from tests.tui.streams import STREAMS, T0


def browser(app: L0TuiApp) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


async def test_rows_show_metadata(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        assert sorted(b.shown_ids) == sorted(STREAMS)
        assert b.shown_ids[0] == "running-run", "newest first by default"
        cells = b.table.cells("retry-run")
        assert "retry-run" in cells and "gpt-4o" in cells and "completed" in cells
        assert "01-01 00:00:00" in cells  # started, UTC
        assert b.table.cells("error-run")[2] == "error"
        assert b.table.cells("running-run")[2] == "running"
        status = b.query_one("#browser-status")
        assert "6 streams" in str(status.render()) and status.size.width > 10


async def test_sort_keys_and_header_click(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        await pilot.press("s")  # next sortable column after "started": duration
        assert b.sort_column == "duration_ms"
        while b.sort_column != "stream_id":
            await pilot.press("s")
        await settle(pilot)
        assert b.shown_ids == sorted(STREAMS, reverse=True)
        await pilot.press("S")
        await settle(pilot)
        assert b.shown_ids == sorted(STREAMS)
        await pilot.click("#streams", offset=(45, 0))  # the "model" header
        await settle(pilot)
        assert b.sort_column == "model" and not b.sort_reverse
        models = [b.table.cells(i)[3] for i in b.shown_ids]
        assert models == sorted(models, key=lambda m: "" if m == "—" else m)


async def test_a_sort_change_keeps_the_count_and_a_filter_change_counts_again(
    store: InMemoryEventStore,
) -> None:
    """Counting a million matches costs more than a page: when only the order changed
    and the catalog version says nothing was written since, the total still holds."""
    counted: list[object] = []
    count = store.count_summaries

    async def counting(flt: object = None) -> int:
        counted.append(flt)
        return await count(flt)  # type: ignore[arg-type]

    store.count_summaries = counting  # type: ignore[method-assign]
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        before = len(counted)
        await pilot.press("s", "s")
        await settle(pilot)
        assert b.sort_column != "start_ts" and len(counted) == before
        assert f"{len(STREAMS)} streams" in str(b.query_one("#browser-status").render())
        await pilot.press("slash", *"status:error")
        await settle(pilot)
        errors = sum(b_status(e) == "error" for e in STREAMS.values())
        assert len(counted) > before and b.total == errors


async def test_filter_as_you_type(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        await pilot.press("slash", *"status:error")
        await settle(pilot)
        want = {sid for sid in STREAMS if b_status(STREAMS[sid]) == "error"}
        assert want and set(b.shown_ids) == want
        assert f"{len(want)} matching" in str(b.query_one("#browser-status").render())
        await pilot.press(*[ "backspace"] * len("status:error"), *"model:gpt-4o-mini")
        await settle(pilot)
        assert b.shown_ids == ["violation-run"]
        await pilot.press("escape")  # back to the table, filter kept
        assert b.table.has_focus and b.shown_ids == ["violation-run"]
        await pilot.press("escape")  # clears it
        await settle(pilot)
        assert len(b.shown_ids) == len(STREAMS)


async def test_a_bad_filter_says_why_and_keeps_the_rows(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        b.query_one("#filter", Input).value = "colour:red"  # pasted at once
        await settle(pilot)
        assert "unknown filter 'colour'" in str(b.query_one("#browser-status").render())
        assert len(b.shown_ids) == len(STREAMS)


def b_status(events: object) -> str:
    from l0core.fold import fold

    state = fold(events())  # type: ignore[operator]
    return "error" if state.error else "completed" if state.completed else "running"


async def test_enter_opens_debugger_and_q_returns(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        target = b.shown_ids[2]
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DebuggerScreen)
        assert app.screen.stream_id == target
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is b
        assert b.selected_stream_id == target


async def test_the_browser_asks_the_app_with_messages(store: InMemoryEventStore) -> None:
    """Opening a stream or a diff is a message from the screen, with the screen as its
    ``control``; the app's handlers do the navigation."""
    seen: list[OpenStream | OpenDiff] = []

    class WatchingApp(L0TuiApp):
        CSS_PATH = str(Path(l0tui.app.__file__).with_name("app.tcss"))

        @on(OpenStream, "BrowserScreen")
        @on(OpenDiff, "BrowserScreen")
        def record(self, message: OpenStream | OpenDiff) -> None:
            seen.append(message)

    app = WatchingApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        target = b.shown_ids[0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DebuggerScreen) and app.screen.stream_id == target
        assert [type(m) for m in seen] == [OpenStream] and seen[0].control is b
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("m", "down", "m", "d")
        await pilot.pause()
        assert [type(m) for m in seen] == [OpenStream, OpenDiff] and seen[1].control is b


async def test_mark_two_and_diff(store: InMemoryEventStore) -> None:
    opened: list[tuple[str, str]] = []
    app = L0TuiApp(store)

    def fake_diff(ls: object, left: str, rs: object, right: str) -> None:
        opened.append((left, right))

    app.open_diff = fake_diff  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        await pilot.press("d")  # nothing marked: a hint, no diff
        assert opened == []
        first, second = b.shown_ids[0], b.shown_ids[1]
        await pilot.press("m", "down", "space")
        assert b.marked == [first, second]
        assert b.table.cells(first)[0] == "●"
        await pilot.press("d")
        assert opened == [(first, second)]
        await pilot.press("space")  # unmark the second
        assert b.marked == [first]


async def test_new_streams_appear_on_refresh() -> None:
    store = InMemoryEventStore()
    await store.append_many("first", [StartEvent(ts=T0)])
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        assert b.shown_ids == ["first"]
        await store.append_many("second", [StartEvent(ts=T0 + 1),
                                           TokenEvent(ts=T0 + 2, value="x", index=0)])
        for _ in range(200):  # no poll() call: the catalog's wake-up brings it
            await pilot.pause(0.05)
            if len(b.shown_ids) == 2:
                break
        assert b.shown_ids == ["second", "first"]
        await store.append("second", CompleteEvent(ts=T0 + 3, content="x", token_count=1))
        for _ in range(200):
            await pilot.pause(0.05)
            if b.table.cells("second")[2] == "completed":
                break
        assert b.table.cells("second")[2] == "completed"


async def test_a_big_catalog_is_read_a_window_at_a_time() -> None:
    store = InMemoryEventStore()
    for i in range(5000):
        await store.append_many(f"s{i:04d}", [StartEvent(ts=T0 + i),
                                               TokenEvent(ts=T0 + i + 1, value="x", index=0)])
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        assert b.total == 5000 and "5,000 streams" in str(
            b.query_one("#browser-status").render())
        assert b.shown_ids[0] == "s4999" and len(b.shown_ids) <= 1000
        seen = {b.selected_stream_id}
        for _ in range(60):  # page down through 60 screens: pages are fetched on the way
            await pilot.press("pagedown")
            await pilot.pause()
            seen.add(b.selected_stream_id)
        await settle(pilot)
        assert len(b.shown_ids) <= 1000, "the window never holds the whole catalog"
        selected = b.selected_stream_id
        assert selected is not None and int(selected[1:]) < 5000 - 60 * 30
        await pilot.press("end")
        await settle(pilot)
        assert b.selected_stream_id == "s0000"
        await pilot.press("home")
        await settle(pilot)
        assert b.selected_stream_id == "s4999"
        for _ in range(3):
            await pilot.press("pagedown")
        await settle(pilot)
        moved = b.selected_stream_id
        assert moved is not None and moved < "s4999"


async def test_palette_opens_stream(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open stream error-run")
        for _ in range(20):
            await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DebuggerScreen)
        assert app.screen.stream_id == "error-run"


async def test_list_error_shows_banner() -> None:
    class Broken(InMemoryEventStore):
        async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
            raise OSError("disk on fire")

    app = L0TuiApp(Broken())
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(10):
            await pilot.pause()
        b = browser(app)
        assert b.load_error is not None and "disk on fire" in b.load_error
