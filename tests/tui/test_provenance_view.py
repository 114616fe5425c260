"""Where the text came from, in the TUI: the content view's text cursor and provenance
line, the attempt lineage screen, the gap view of the rate strip, following the tail,
and the word diff (keys and mouse, checked against what is shown)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from l0core import InMemoryEventStore, create_event_store
from l0core.events import CompleteEvent, RetryEvent, StartEvent, TokenEvent
from l0core.stores.base import BaseEventStore
from l0tui.app import L0TuiApp
from l0tui.screens.debugger import DebuggerScreen
from l0tui.screens.diff import DiffApp, DiffScreen
from l0tui.screens.lineage import LineageScreen
from l0tui.widgets.content_view import UNPRODUCED_STYLE
from tests.tui.conftest import FakeClock, settle

DEMO = Path(__file__).resolve().parents[2] / "demo_streams"
SIZE = (120, 40)
Snap = Callable[..., bool]


@asynccontextmanager
async def demo_app(stream_id: str) -> AsyncIterator[tuple[L0TuiApp, Pilot[Any], DebuggerScreen]]:
    store = await create_event_store(str(DEMO), read_only=True)
    app = L0TuiApp(store, location=str(DEMO), stream_id=stream_id)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DebuggerScreen)
            yield app, pilot, app.screen
    finally:
        await store.close()


async def focus_content(pilot: Pilot[Any], dbg: DebuggerScreen) -> None:
    for _ in range(4):
        if pilot.app.focused is dbg.content_view:
            return
        await pilot.press("tab")
    assert pilot.app.focused is dbg.content_view


async def test_text_cursor_on_a_restored_character_and_the_jump_to_its_token() -> None:
    async with demo_app("02-network-retry-continuation") as (_app, pilot, dbg):
        view = dbg.content_view
        await pilot.press("colon", *"104", "enter")  # just after the CONTINUATION (#99)
        await focus_content(pilot, dbg)
        assert view.text_cursor is None and view.provenance_line == ""
        await pilot.press("up")  # the first key puts the cursor on the last character
        assert view.text_cursor == dbg.timeline.content_length_at(104) - 1
        await pilot.press("up", "up", "up", "left")  # into the resumed checkpoint
        p = view.provenance
        assert p is not None and p.offset < len(dbg.timeline.attempts()[1].resumed_from)
        assert p.restored_by == 99 and p.attempt == 1 and p.token_seq is not None
        line = view.provenance_line
        assert f"TOKEN #{p.token_seq}" in line and "restored by CONTINUATION #99" in line
        assert "attempt 1" in line
        char, token = p.char, p.token_seq
        await pilot.press("o")
        await pilot.pause()
        assert dbg.cursor == token, "o moves the main cursor to the TOKEN"
        q = view.provenance
        assert q is not None and q.token_seq == token and q.char == char
        assert q.restored_by is None and "arrived as a token" in view.provenance_line


async def test_click_puts_the_text_cursor_under_the_mouse() -> None:
    async with demo_app("02-network-retry-continuation") as (app, pilot, dbg):
        await pilot.press("G")
        view = dbg.content_view
        height = view.content_region.height
        row = view._lines[len(view._lines) - height + 2].text  # the tail is shown
        await pilot.click("#content", offset=(3, 2))
        await pilot.pause()
        assert app.focused is view and view.text_cursor is not None
        p = view.provenance
        assert p is not None
        assert p.char == row[3 - 1]  # the view has one cell of padding on the left
        await pilot.press("right")
        assert view.text_cursor == p.offset + 1


async def test_characters_no_token_wrote_are_marked() -> None:
    store = InMemoryEventStore()
    await store.append_many("s", [
        StartEvent(ts=1.0), TokenEvent(ts=2.0, value="Hel", index=0),
        RetryEvent(ts=3.0, reason="network_error", attempt=1, counts_toward_limit=False),
        TokenEvent(ts=4.0, value="Hello ", index=0), TokenEvent(ts=5.0, value="wrld", index=1),
        CompleteEvent(ts=6.0, content="Hello world!", token_count=2),
    ])
    app = L0TuiApp(store, stream_id="s")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dbg = app.screen
        assert isinstance(dbg, DebuggerScreen)
        await pilot.press("G")
        text = dbg.content_view._text
        marked = [text.plain[s.start:s.end] for s in text.spans if s.style == UNPRODUCED_STYLE]
        assert marked == ["orld!"]
        await focus_content(pilot, dbg)
        await pilot.press("left")  # on "!"
        assert "no TOKEN wrote this: COMPLETE #5" in dbg.content_view.provenance_line
        await pilot.press("o")
        await pilot.pause()
        assert dbg.cursor == 5


async def test_lineage_screen_lists_attempts_and_enter_jumps() -> None:
    async with demo_app("04-fallback-after-two-failures") as (app, pilot, dbg):
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LineageScreen)
        assert screen.table.row_count == 3
        rows = [" ".join(str(c) for c in screen.table.get_row_at(i)) for i in range(3)]
        assert "start (gpt-4o)" in rows[0] and "retried: server_error" in rows[0]
        assert "fell back" in rows[1]
        assert "fallback #1 → llama" in rows[2] and "782 ms" in rows[2]
        await pilot.press("down", "down")
        assert "llama-3.1-70b-instruct" in str(screen.detail.render())
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dbg and dbg.cursor == 25


async def test_lineage_detail_shows_the_carried_over_text() -> None:
    async with demo_app("02-network-retry-continuation") as (app, pilot, dbg):
        await pilot.press("G", "a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LineageScreen) and screen.highlighted == 1
        detail = str(screen.detail.render())
        assert "carried over by CONTINUATION #99: 349 chars from attempt 1" in detail
        assert "without an index on `orders.created_at`" in detail.lower()
        await pilot.press("escape")
        assert app.screen is dbg and dbg.cursor == dbg.timeline.last_seq


async def test_gap_view_marks_percentiles_and_stalls() -> None:
    async with demo_app("02-network-retry-continuation") as (_app, pilot, dbg):
        strip = dbg.rate_strip
        assert not strip.show_gaps and "ttft" in strip._marks
        await pilot.press("w")
        await pilot.pause()
        assert strip.show_gaps
        assert "p50 " in strip._marks and "p95 " in strip._marks and "1 stall" in strip._marks
        assert "!" in strip._heat, "the 4.5 s wait before the RETRY is a stall"
        await pilot.press("w")
        assert not strip.show_gaps


async def test_a_stream_being_written_is_followed_until_the_user_moves(
    clock: FakeClock,
) -> None:
    store = InMemoryEventStore()
    await store.append_many("live", [StartEvent(ts=0.0), *(
        TokenEvent(ts=float(i), value=f"t{i} ", index=i) for i in range(37))])
    app = L0TuiApp(store, stream_id="live", clock=clock)

    async def grow(n: int) -> None:
        start = await store.get_last_seq("live")
        for i in range(n):
            await store.append("live", TokenEvent(ts=100.0 + i, value="x", index=start + i))
        screen = app.screen
        assert isinstance(screen, DebuggerScreen)
        for _ in range(100):
            await pilot.pause()
            screen.tick()
            if screen.timeline.last_seq == start + n:
                break

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dbg = app.screen
        assert isinstance(dbg, DebuggerScreen)
        assert dbg.cursor == 37 == dbg.timeline.last_seq, "opens on the newest event"
        assert "tail" in dbg.title_text
        await grow(60)
        assert dbg.cursor == dbg.timeline.last_seq == 97, "the cursor stays on the newest"
        await pilot.press("k")
        assert dbg.cursor == 96 and "held (G: tail)" in dbg.title_text
        await grow(5)
        assert dbg.cursor == 96, "moved by the user: stays"
        await pilot.press("G")
        assert dbg.cursor == dbg.timeline.last_seq and "tail" in dbg.title_text
        assert "held" not in dbg.title_text
        await grow(3)
        assert dbg.cursor == dbg.timeline.last_seq == 105


async def diff_ready(pilot: Pilot[Any]) -> DiffScreen:
    for _ in range(200):
        await pilot.pause()
        screen = pilot.app.screen
        if isinstance(screen, DiffScreen) and screen.ready and screen.words is not None:
            return screen
    raise AssertionError("the diff never finished")


async def test_word_diff_names_the_first_word_and_w_goes_there() -> None:
    store = await create_event_store(str(DEMO), read_only=True)
    try:
        app = DiffApp((store, "07a-compare-good"), (store, "07b-compare-bad"))
        async with app.run_test(size=SIZE) as pilot:
            screen = await diff_ready(pilot)
            header = str(screen.header.render())
            assert "words: o.created_at A#41 → EXTRACT(YEAR B#41" in header
            await pilot.press("w")
            assert screen.cursors == {"a": 41, "b": 41}
            right = screen.panes["b"].content._text
            lit = [right.plain[s.start:s.end] for s in right.spans if "underline" in str(s.style)]
            assert any("EXTRACT" in piece for piece in lit)
    finally:
        await store.close()


async def test_word_diff_ignores_token_boundaries() -> None:
    store = InMemoryEventStore()
    await store.append_many("a", [StartEvent(ts=1.0), TokenEvent(ts=2.0, value="The cap", index=0),
                                  TokenEvent(ts=3.0, value="ital.", index=1)])
    await store.append_many("b", [StartEvent(ts=1.0), TokenEvent(ts=2.0, value="The", index=0),
                                  TokenEvent(ts=3.0, value=" capital.", index=1)])
    app = DiffApp((store, "a"), (store, "b"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await diff_ready(pilot)
        await pilot.press("G")
        assert screen.differing_tokens == 0
        assert "same words" in str(screen.header.render())


# ───────────── snapshots (looked at as PNGs before they were kept) ─────────────


def _demo_app(stream_id: str) -> L0TuiApp:
    store: BaseEventStore = asyncio.run(create_event_store(str(DEMO), read_only=True))
    return L0TuiApp(store, location="demo_streams", stream_id=stream_id)


def _run(*steps: str | tuple[str, ...]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for step in steps:
            if step == "focus-content":
                screen = pilot.app.screen
                assert isinstance(screen, DebuggerScreen)
                await focus_content(pilot, screen)
            else:
                await pilot.press(*step)
        await pilot.pause()

    return run


def test_snapshot_provenance_of_a_restored_character(snap_compare: Snap) -> None:
    assert snap_compare(_demo_app("02-network-retry-continuation"), terminal_size=SIZE,
                        run_before=_run(("colon", "1", "0", "4", "enter"), "focus-content",
                                        ("up", "up", "up", "up", "left", "left", "left")))


def test_snapshot_lineage_of_the_fallback_demo(snap_compare: Snap) -> None:
    assert snap_compare(_demo_app("04-fallback-after-two-failures"), terminal_size=SIZE,
                        run_before=_run(("a", "down", "down")))


def test_snapshot_word_diff_of_the_demo_pair(snap_compare: Snap) -> None:
    store = asyncio.run(create_event_store(str(DEMO), read_only=True))

    async def run_before(pilot: Pilot[Any]) -> None:
        await diff_ready(pilot)
        await pilot.press("w")
        await pilot.pause()

    app = DiffApp((store, "07a-compare-good"), (store, "07b-compare-bad"))
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        asyncio.run(store.close())
