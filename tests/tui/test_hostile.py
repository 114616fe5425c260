"""Hostile content renders literally: markup, escape sequences, controls, huge tokens."""

from __future__ import annotations

import html

from l0core.events import CompleteEvent, StartEvent, TokenEvent
from l0core.stores.memory import InMemoryEventStore
from l0tui.app import L0TuiApp
from l0tui.screens.debugger import DebuggerScreen
from l0tui.screens.event_detail import EventDetailScreen
from tests.tui.conftest import settle
from tests.tui.streams import T0

FORBIDDEN = ["\x1b", "\x07", "\x00", "\x08", "\x7f", "\x9b", "\u202e"]


def screen_text(app: L0TuiApp) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def test_hostile_stream_never_emits_controls(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="hostile-run")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        dbg = app.screen
        assert isinstance(dbg, DebuggerScreen)
        for _ in range(len(dbg.timeline)):
            text = screen_text(app)
            for bad in FORBIDDEN:
                assert bad not in text, f"{bad!r} reached the screen at seq {dbg.cursor}"
            await pilot.press("j")
        text = screen_text(app)
        assert "[bold red]not bold[/]" in dbg.content_view.plain
        assert "␛[31mANSI red" in dbg.content_view.plain
        assert "مرحبا بالعالم" in dbg.content_view.plain
        assert "<U+202E>evil-rtl-override" in dbg.content_view.plain
        assert "🎉" in dbg.content_view.plain
        assert "[red]Err[/red]" in text  # the error name, literally
        await pilot.press("g", "j", "enter")
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        shown = screen_text(app)
        for bad in FORBIDDEN:
            assert bad not in shown
        assert "[bold red]not bold[/]" in detail.json_text


async def test_megabyte_token_is_capped() -> None:
    store = InMemoryEventStore()
    big = "A" * 1_000_000 + "\x1b[2J"
    await store.append_many("big", [
        StartEvent(ts=T0),
        TokenEvent(ts=T0 + 1, value=big, index=0),
        TokenEvent(ts=T0 + 2, value="tail", index=1),
        CompleteEvent(ts=T0 + 3, content=big + "tail", token_count=2),
    ])
    app = L0TuiApp(store, stream_id="big")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = app.screen
        assert isinstance(dbg, DebuggerScreen)
        await pilot.press("j")
        assert len(dbg.content_view.plain) < 20_000
        assert "earlier chars" in dbg.content_view.plain
        await pilot.press("j", "j")
        assert "\x1b" not in screen_text(app)
        await pilot.press("k", "k", "enter")
        assert isinstance(app.screen, EventDetailScreen)
        assert len(app.screen.json_text) < 250_000
