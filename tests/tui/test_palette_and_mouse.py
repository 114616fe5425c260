"""The command palette in the debugger, compare-with, mouse seeking, loading progress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from l0core.events import EventEnvelope
from l0core.stores.memory import InMemoryEventStore
from l0tui.app import L0TuiApp
from l0tui.screens.debugger import DebuggerScreen
from tests.tui.conftest import settle
from tests.tui.streams import long_events


def debugger(app: L0TuiApp) -> DebuggerScreen:
    screen = app.screen
    assert isinstance(screen, DebuggerScreen)
    return screen


async def run_palette(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*text)
    for _ in range(10):
        await pilot.pause()
    await pilot.press("enter")
    for _ in range(3):
        await pilot.pause()


async def test_palette_jump_to_first_error(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="error-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await run_palette(pilot, "jump to first error")
        assert debugger(app).cursor == 8


async def test_palette_go_to_seq(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await run_palette(pilot, "go to seq")
        await pilot.press("1", "2", "enter")
        assert debugger(app).cursor == 12


async def test_compare_with_opens_diff_of_chosen_stream(store: InMemoryEventStore) -> None:
    opened: list[tuple[str, str]] = []
    app = L0TuiApp(store, stream_id="retry-run")

    def fake_diff(ls: object, left: str, rs: object, right: str) -> None:
        opened.append((left, right))

    app.open_diff = fake_diff  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await run_palette(pilot, "compare with")
        for _ in range(5):
            await pilot.pause()
        await pilot.press(*"error-run")
        for _ in range(10):
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert opened == [("retry-run", "error-run")]


async def test_d_key_offers_other_streams(store: InMemoryEventStore) -> None:
    opened: list[tuple[str, str]] = []
    app = L0TuiApp(store, stream_id="retry-run")
    app.open_diff = lambda ls, a, rs, b: opened.append((a, b))  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        for _ in range(5):
            await pilot.pause()
        await pilot.press(*"violation")
        for _ in range(10):
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert opened == [("retry-run", "violation-run")]


async def test_click_and_drag_on_scrubber_seeks() -> None:
    store = InMemoryEventStore()
    await store.append_many("long", long_events(1000))
    app = L0TuiApp(store, stream_id="long")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        width = dbg.scrubber.size.width
        await pilot.click("#scrubber", offset=(width // 2, 0))
        await pilot.pause()
        assert abs(dbg.cursor - 500) <= 1000 // width + 1
        await pilot.click("#scrubber", offset=(width - 1, 0))
        await pilot.pause()
        assert dbg.cursor == 999
        await pilot.click("#scrubber", offset=(0, 0))
        await pilot.pause()
        assert dbg.cursor == 0
        # drag: press at a quarter, move to three quarters, release
        await pilot.mouse_down("#scrubber", offset=(width // 4, 0))
        await pilot.hover("#scrubber", offset=(3 * width // 4, 0))
        await pilot.mouse_up("#scrubber", offset=(3 * width // 4, 0))
        await pilot.pause()
        assert abs(dbg.cursor - 750) <= 2 * (1000 // width + 1)


async def test_click_on_event_row_moves_cursor(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#events", offset=(10, 5))
        await pilot.pause()
        assert debugger(app).cursor == 5


class SlowStore(InMemoryEventStore):
    """Hands out batches only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def iter_batches(self, stream_id: str, *, from_seq: int = 0,
                           batch_size: int = 20_000) -> AsyncIterator[list[EventEnvelope]]:
        events = await self.read_events(stream_id, from_seq=from_seq)
        for i in range(0, len(events), batch_size):
            if i > 0 or from_seq > 0:
                await self.gate.wait()
            yield events[i:i + batch_size]


async def test_usable_while_loading_with_progress() -> None:
    store = SlowStore()
    await store.append_many("big", long_events(5000))
    app = L0TuiApp(store, stream_id="big")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(20):
            await pilot.pause()
        dbg = debugger(app)
        assert not dbg.loaded and len(dbg.timeline) == 2000  # the first batch only
        assert "loading 40%" in dbg.title_text
        await pilot.press("G")
        assert dbg.cursor == 1999
        await pilot.press("k")
        assert dbg.cursor == 1998 and dbg.state_panel.state is not None
        store.gate.set()
        await settle(pilot)
        assert dbg.loaded and len(dbg.timeline) == 5000
        assert "loading" not in dbg.title_text
        await pilot.press("G")
        assert dbg.cursor == 4999
