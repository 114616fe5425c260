"""Pilot tests of the stream browser: rows, sort, filter, marks, open, refresh, palette."""

from __future__ import annotations

from pathlib import Path

from textual import on

import l0tui.app
from l0core.events import StartEvent, TokenEvent
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
        row = b.table.get_row("retry-run")
        cells = [str(c) for c in row]
        assert "retry-run" in cells and "gpt-4o" in cells and "completed" in cells
        assert "01-01 00:00:00" in cells  # started, UTC
        assert b.table.get_row("error-run")[2].plain == "error"
        assert b.table.get_row("running-run")[2].plain == "running"
        status = b.query_one("#browser-status")
        assert "6 streams" in str(status.render()) and status.size.width > 10


async def test_sort_keys_and_header_click(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        await pilot.press("s")  # next sortable column after "started": duration
        assert b.sort_column == "duration"
        while b.sort_column != "id":
            await pilot.press("s")
        assert b.shown_ids == sorted(STREAMS, reverse=True)
        await pilot.press("S")
        assert b.shown_ids == sorted(STREAMS)
        await pilot.click("#streams", offset=(45, 0))  # the "model" header
        await pilot.pause()
        assert b.sort_column in ("status", "model")


async def test_filter_as_you_type(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        b = browser(app)
        await pilot.press("slash", "e", "r", "r")
        assert set(b.shown_ids) == {"error-run", "hostile-run"}  # id or status "error"
        await pilot.press("backspace", "backspace", "backspace", *"mini")
        assert b.shown_ids == ["violation-run"]  # by model gpt-4o-mini
        await pilot.press("escape")  # back to the table, filter kept
        assert b.table.has_focus and b.shown_ids == ["violation-run"]
        await pilot.press("escape")  # clears it
        assert len(b.shown_ids) == len(STREAMS)


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
        assert b.table.get_row(first)[0].plain == "●"
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
        b.poll()
        for _ in range(50):
            await pilot.pause()
            if len(b.shown_ids) == 2:
                break
        assert set(b.shown_ids) == {"first", "second"}


async def test_thousands_of_streams_load_in_background() -> None:
    store = InMemoryEventStore()
    for i in range(1500):
        await store.append_many(f"s{i:04d}", [StartEvent(ts=T0 + i),
                                               TokenEvent(ts=T0 + i + 1, value="x", index=0)])
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        b = browser(app)
        await pilot.press("down")  # the screen answers keys while rows arrive
        await settle(pilot, limit=2000)
        assert len(b.shown_ids) == 1500
        assert b.shown_ids[0] == "s1499"


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
        async def list_streams(self) -> list[str]:
            raise OSError("disk on fire")

    app = L0TuiApp(Broken())
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(10):
            await pilot.pause()
        b = browser(app)
        assert b.load_error is not None and "disk on fire" in b.load_error
