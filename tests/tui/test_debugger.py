"""Pilot tests of the debugger: navigation, state shown, search, event detail, follow."""

from __future__ import annotations

import pytest

from l0core.events import CompleteEvent, TokenEvent
from l0core.stores.memory import InMemoryEventStore
from l0tui.app import L0TuiApp
from l0tui.screens.debugger import DebuggerScreen
from l0tui.screens.event_detail import EventDetailScreen
from l0tui.screens.help import HelpScreen
from tests.tui.conftest import FakeClock, settle
from tests.tui.streams import T0


def debugger(app: L0TuiApp) -> DebuggerScreen:
    screen = app.screen
    assert isinstance(screen, DebuggerScreen)
    return screen


async def test_step_keys_move_every_pane(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        assert dbg.cursor == 0 and len(dbg.timeline) == 15
        await pilot.press("j", "j", "j")
        assert dbg.cursor == 3
        assert dbg.event_list.cursor == 3 and dbg.scrubber.cursor == 3
        assert dbg.state_panel.state is not None
        assert dbg.state_panel.state.content == "Hello Bob, your"
        assert dbg.state_panel.changed == {"content", "token_count"}
        assert "Hello Bob, your" in dbg.content_view.plain
        await pilot.press("k")
        assert dbg.cursor == 2
        await pilot.press("J")
        assert dbg.cursor == 12
        await pilot.press("K")
        assert dbg.cursor == 2
        await pilot.press("G")
        assert dbg.cursor == 14
        await pilot.press("g")
        assert dbg.cursor == 0
        await pilot.press("end")
        assert dbg.cursor == 14
        await pilot.press("home")
        assert dbg.cursor == 0
        await pilot.press("down", "down")
        assert dbg.cursor == 2
        await pilot.press("k", "k", "k")  # clamps at 0
        assert dbg.cursor == 0


async def test_landmark_and_kind_jumps(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("right_square_bracket")
        assert dbg.cursor == 7  # GUARDRAIL
        await pilot.press("right_square_bracket")
        assert dbg.cursor == 8  # RETRY
        assert dbg.state_panel.state is not None
        assert dbg.state_panel.state.retry_attempts == 1
        assert "retry_attempts" in dbg.state_panel.changed
        await pilot.press("left_square_bracket")
        assert dbg.cursor == 7
        await pilot.press("g", "r")
        assert dbg.cursor == 8
        await pilot.press("G", "R")
        assert dbg.cursor == 8
        await pilot.press("g", "v")
        assert dbg.cursor == 7
        await pilot.press("g", "t", "o")  # kind picker: next COMPLETE
        assert dbg.cursor == 14
        await pilot.press("T", "s")  # previous START
        assert dbg.cursor == 0
        await pilot.press("e")  # no error in this stream: cursor stays
        assert dbg.cursor == 0


async def test_error_stream_jump_and_state(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="error-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("e")
        assert dbg.cursor == 8
        state = dbg.state_panel.state
        assert state is not None and state.error is not None
        assert state.network_retry_count == 1 and state.retry_attempts == 0
        assert "error" in dbg.state_panel.changed
        assert "TimeoutError" in dbg.content_view.plain
        assert "error" in dbg.title_text
        await pilot.press("E")
        assert dbg.cursor == 8  # no earlier error
        await pilot.press("g", "r")
        assert dbg.cursor == 3


async def test_goto_prompt_and_negative_seq(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("colon", "1", "1", "enter")
        assert dbg.cursor == 11
        await pilot.press("colon", "minus", "1", "enter")
        assert dbg.cursor == 14
        await pilot.press("colon", "x", "enter")  # not a number: stays
        assert dbg.cursor == 14
        await pilot.press("colon", "5", "escape")  # cancelled
        assert dbg.cursor == 14
        await pilot.press("colon", "9", "9", "9", "enter")  # clamped
        assert dbg.cursor == 14


async def test_search_and_next_previous_match(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("slash", *"Bob", "enter")
        assert dbg.matches, "Bob appears in tokens and content"
        first = dbg.cursor
        assert first == dbg.matches[0] and first > 0
        await pilot.press("n")
        assert dbg.cursor == dbg.matches[1]
        await pilot.press("N")
        assert dbg.cursor == first
        assert "/Bob" in dbg.title_text


async def test_field_history_jump_keys(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="fallback-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("G")
        panel = dbg.state_panel
        assert panel.last_changed("fallback_index") == 10
        assert panel.last_changed("checkpoint") == 4
        panel.selected = "fallback_index"
        await pilot.press("c")
        assert dbg.cursor == 10
        panel.selected = "checkpoint"
        await pilot.press("c")
        assert dbg.cursor == 4
        await pilot.press("g")
        await pilot.press("C")  # next change of checkpoint from seq 0
        assert dbg.cursor == 4
        # the panel itself: focus it, move the selection, enter jumps
        panel.focus()
        await pilot.press("G")
        await pilot.press("up")  # checkpoint -> token_count
        assert panel.selected == "token_count"
        await pilot.press("enter")
        assert dbg.cursor == panel.last_changed("token_count") == 16


async def test_attempts_told_apart_in_content(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="fallback-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("colon", "9", "enter")  # second token after the continuation
        text = dbg.content_view.plain
        assert "attempt 1" in text and "retried: zero tokens" in text
        assert "attempt 2 · after retry" in text
        assert "resumed from checkpoint: Step one." in text
        assert text.rstrip().endswith(" Step two")
        await pilot.press("colon", "1", "4", "enter")  # inside the fallback attempt
        text = dbg.content_view.plain
        assert "attempt 3 · after fallback" in text and "fell back" in text
        assert text.rstrip().endswith("Step one. Step")


async def test_enter_shows_whole_event_json(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon", "7", "enter", "enter")
        detail = app.screen
        assert isinstance(detail, EventDetailScreen)
        text = detail.json_text
        assert '"type": "GUARDRAIL"' in text and '"rule": "no-pii"' in text
        assert '"streamId": "retry-run"' in text
        await pilot.press("escape")
        assert isinstance(app.screen, DebuggerScreen)


async def test_help_panel_shows_focused_pane_and_keys(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "Event list" in help_screen.pane
        ids = {bid for _, _, bid in help_screen.keys}
        assert {"debugger.step_forward", "debugger.play", "debugger.search",
                "debugger.goto"} <= ids
        await pilot.press("escape")
        debugger(app).state_panel.focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "State panel" in app.screen.pane
        await pilot.press("question_mark")
        assert isinstance(app.screen, DebuggerScreen)


async def test_keymap_remaps_binding_by_id(store: InMemoryEventStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keys]\n"debugger.step_forward" = "l"\n', encoding="utf-8")
    app = L0TuiApp(store, stream_id="retry-run", keymap_path=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("l", "l")
        assert dbg.cursor == 2
        await pilot.press("j")  # no longer bound to stepping
        assert dbg.cursor == 2


async def test_q_goes_back_to_browser(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert type(app.screen).__name__ == "BrowserScreen"


async def test_follow_mode_appends_live_events(clock: FakeClock) -> None:
    store = InMemoryEventStore()
    await store.append_many("live", [TokenEvent(ts=T0, value="a", index=0)])
    app = L0TuiApp(store, stream_id="live", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        assert dbg.following, "no COMPLETE/ERROR: follow turns on by itself"
        assert "follow" in dbg.title_text
        await store.append("live", TokenEvent(ts=T0 + 10, value="b", index=1))
        for _ in range(50):
            await pilot.pause()
            dbg.tick()
            if len(dbg.timeline) == 2:
                break
        assert len(dbg.timeline) == 2
        assert dbg.cursor == 1, "the cursor follows the end"
        await store.append("live", CompleteEvent(ts=T0 + 20, content="ab", token_count=2))
        for _ in range(50):
            await pilot.pause()
            dbg.tick()
            if not dbg.following:
                break
        assert len(dbg.timeline) == 3 and not dbg.following
        assert dbg.cursor == 2
        await pilot.press("f")  # finished: follow stays off
        assert not dbg.following


async def test_follow_toggle_key(clock: FakeClock) -> None:
    store = InMemoryEventStore()
    await store.append_many("live", [TokenEvent(ts=T0, value="a", index=0)])
    app = L0TuiApp(store, stream_id="live", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        assert dbg.following
        await pilot.press("f")
        assert not dbg.following
        await pilot.press("f")
        assert dbg.following


async def test_missing_stream_shows_banner(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="no-such-stream")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        assert dbg.load_error is not None and "no events" in dbg.load_error
        await pilot.press("j", "G", "space", "right_square_bracket")  # nothing breaks
        assert dbg.cursor == 0


async def test_event_list_keeps_cursor_in_view() -> None:
    from tests.tui.streams import long_events

    store = InMemoryEventStore()
    await store.append_many("long", long_events(300))
    app = L0TuiApp(store, stream_id="long")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        events = dbg.event_list
        await pilot.press("colon", "1", "5", "0", "enter")
        top = int(events.scroll_y)
        height = events.scrollable_content_region.height
        assert top <= 150 < top + height
        await pilot.press("G")
        assert int(events.scroll_y) == events.max_scroll_y
        await pilot.press("g")
        assert int(events.scroll_y) == 0
        await pilot.press("pagedown")
        assert dbg.cursor == height - 1


async def test_short_state_panel_scrolls_to_changed_field(store: InMemoryEventStore) -> None:
    from l0core.fold import STATE_FIELDS

    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        await pilot.press("r")
        panel = dbg.state_panel
        visible = panel.scrollable_content_region.height - 1
        row = STATE_FIELDS.index("retry_attempts")
        top = int(panel.scroll_y)
        assert visible < len(STATE_FIELDS)
        assert top <= row < top + visible


async def test_rate_strip_marks_first_token_and_stall(store: InMemoryEventStore) -> None:
    app = L0TuiApp(store, stream_id="error-run")  # a 3.5 s gap before the last token
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        strip = debugger(app).rate_strip
        marks = strip.render_line(1).text
        assert strip.timing is not None and strip.timing.stalls == [(7, 3500.0)]
        assert "T" in marks[:3] and "!" in marks and "1 stall" in marks


@pytest.mark.parametrize("stream", ["retry-run", "long"])
async def test_partial_repaints_show_the_same_screen_as_a_full_repaint(
    store: InMemoryEventStore, stream: str,
) -> None:
    # The state panel, scrubber and rate strip repaint only the rows a step changed;
    # after any walk the screen must equal one where everything was redrawn. "long"
    # has more events than the minimap has cells, so steps often stay in one cell.
    from tests.tui.streams import long_events

    await store.append_many("long", long_events(3000))
    app = L0TuiApp(store, stream_id=stream)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = debugger(app)
        for keys in (["j"], ["j", "j", "j"], ["G"], ["k"], ["g"], ["r"],
                     ["colon", "7", "enter"], ["J"], ["J", "K", "k"]):
            await pilot.press(*keys)
            await pilot.pause()
            partial = app.export_screenshot()
            for widget in (dbg.state_panel, dbg.scrubber, dbg.rate_strip, dbg.event_list,
                           dbg.content_view):
                widget.refresh()
            await pilot.pause()
            assert app.export_screenshot() == partial, keys
