"""Opening the diff screen from the stream browser (mark two + d) and the debugger's palette."""

from __future__ import annotations

from textual.pilot import Pilot

from l0core import InMemoryEventStore
from l0tui.app import L0TuiApp
from l0tui.screens.diff import DiffScreen
from tests.cli.streams import fill
from tests.tui.conftest import settle


async def _pair() -> InMemoryEventStore:
    store = InMemoryEventStore()
    await fill(store, ("good_run", "bad_run"))
    return store


async def _diff_screen(pilot: Pilot[object]) -> DiffScreen:
    for _ in range(100):
        await pilot.pause()
        screen = pilot.app.screen
        if isinstance(screen, DiffScreen) and screen.ready:
            return screen
    raise AssertionError(f"no diff screen, at {pilot.app.screen!r}")


async def test_mark_two_streams_in_the_browser_and_press_d() -> None:
    store = await _pair()
    app = L0TuiApp(store, location="memory://")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m", "down", "m", "d")
        screen = await _diff_screen(pilot)
        assert set(screen.ids.values()) == {"good_run", "bad_run"}
        await pilot.press("f")
        assert screen.difference_index == 0
        await pilot.press("question_mark")
        await pilot.pause()
        from l0tui.screens.help import HelpScreen

        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "lock / unlock the cursors" in help_screen.pane
        assert any(row[2] == "diff.lock" for row in help_screen.keys)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, DiffScreen)


async def test_compare_with_from_the_debugger_palette() -> None:
    store = await _pair()
    app = L0TuiApp(store, location="memory://", stream_id="good_run")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press(*"bad_run")
        await pilot.pause(0.3)
        await pilot.press("enter")
        screen = await _diff_screen(pilot)
        assert screen.ids == {"a": "good_run", "b": "bad_run"}


async def test_compare_with_from_the_command_palette() -> None:
    store = await _pair()
    app = L0TuiApp(store, location="memory://", stream_id="bad_run")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"compare with")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press(*"good_run")
        await pilot.pause(0.3)
        await pilot.press("enter")
        screen = await _diff_screen(pilot)
        assert screen.ids == {"a": "bad_run", "b": "good_run"}
        await pilot.press("f")
        assert screen.difference_index == 0
