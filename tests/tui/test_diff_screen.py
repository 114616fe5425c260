"""Pilot tests of the diff screen: lock/unlock, stepping either side, differences, highlights."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from l0core import InMemoryEventStore
from l0tui.screens.diff import DiffApp, DiffScreen
from l0tui.widgets.diff_content import LEFT_STYLE, RIGHT_STYLE
from tests.cli.streams import bad_run, fill, good_run

SNAPSHOT_SIZE = (140, 40)


async def make_pair() -> InMemoryEventStore:
    store = InMemoryEventStore()
    await fill(store, ("good_run", "bad_run"))
    return store


async def ready(pilot: Pilot[object]) -> DiffScreen:
    for _ in range(100):
        await pilot.pause()
        screen = pilot.app.screen
        if isinstance(screen, DiffScreen) and (screen.ready or screen.error):
            break
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DiffScreen)
    return screen


def app_for(store: InMemoryEventStore, a: str = "good_run", b: str = "bad_run") -> DiffApp:
    return DiffApp((store, a), (store, b))


async def test_locked_stepping_moves_both_sides_by_the_alignment() -> None:
    store = await make_pair()
    async with app_for(store).run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.locked and screen.side == "a"
        assert screen.cursors == {"a": 0, "b": 0}
        assert screen.alignment is not None
        await pilot.press("j", "j", "j")
        assert screen.cursors["a"] == 3
        assert screen.cursors["b"] == screen.alignment.other("a", 3)
        # The two sides' START and first tokens are the same events: aligned one to one.
        assert screen.cursors["b"] == 3
        await pilot.press("G")
        assert screen.cursors["a"] == len(good_run()) - 1
        assert screen.cursors["b"] == screen.alignment.other("a", len(good_run()) - 1)
        await pilot.press("g")
        assert screen.cursors == {"a": 0, "b": 0}


async def test_unlocked_each_side_steps_alone_and_relocking_realigns() -> None:
    store = await make_pair()
    async with app_for(store).run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("l")
        assert not screen.locked
        await pilot.press("j", "j")
        assert screen.cursors == {"a": 2, "b": 0}
        await pilot.press("tab")
        assert screen.side == "b"
        assert screen.panes["b"].has_class("-active") and not screen.panes["a"].has_class(
            "-active")
        await pilot.press("J")
        assert screen.cursors == {"a": 2, "b": 10}
        await pilot.press("left", "k")
        assert screen.cursors == {"a": 1, "b": 10}
        await pilot.press("l")
        assert screen.locked
        assert screen.cursors["b"] == screen.alignment.other("a", 1)  # type: ignore[union-attr]
        assert "unlocked" not in str(screen.header.render())


async def test_a_click_on_a_side_moves_that_side() -> None:
    """The panes do not know their side: the screen tells them apart by the pane the
    scrubber's message comes from (``@on(Scrubber.Seek, "#diff-b Scrubber")``)."""
    store = await make_pair()
    async with app_for(store).run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("l")  # unlocked: only the clicked side moves
        right = screen.panes["b"].scrubber
        await pilot.click(right, offset=(right.size.width - 1, 0))
        await pilot.pause()
        assert screen.side == "b" and screen.cursors == {"a": 0, "b": len(bad_run()) - 1}
        left = screen.panes["a"].scrubber
        await pilot.click(left, offset=(left.size.width - 1, 0))
        await pilot.pause()
        assert screen.side == "a"
        assert screen.cursors == {"a": len(good_run()) - 1, "b": len(bad_run()) - 1}


async def test_first_next_previous_difference() -> None:
    store = await make_pair()
    async with app_for(store).run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.diff is not None
        kinds = [d.kind for d in screen.diff.differences]
        # good: 7 tokens, CHECKPOINT, COMPLETE; bad: 6 tokens, GUARDRAIL, RETRY, 7 tokens, COMPLETE
        assert kinds[:4] == ["extra", "token", "event", "missing"]
        assert set(kinds[4:]) == {"state"}
        await pilot.press("f")
        # "only in B #6..#13": A waits on its last aligned event (#5) while B shows #6
        assert screen.cursors == {"a": 5, "b": 6}
        header = str(screen.header.render())
        assert f"difference 1/{len(kinds)}: extra: only in B #6..#13" in header
        await pilot.press("n")
        assert screen.cursors == {"a": 7, "b": 15}  # '.' vs '!'
        assert "difference 2/" in str(screen.header.render())
        await pilot.press("n")
        assert screen.cursors == {"a": 8, "b": 16}
        await pilot.press("N", "N")
        assert screen.cursors == {"a": 5, "b": 6}
        await pilot.press("N")  # nothing before the first: stays
        assert screen.cursors == {"a": 5, "b": 6} and screen.difference_index == 0
        await pilot.press("g")
        assert screen.difference_index is None
        await pilot.press("n")  # from the cursor, not from a remembered difference
        assert screen.cursors == {"a": 5, "b": 6}
        await pilot.press("tab", "G")
        assert screen.cursors["b"] == len(bad_run()) - 1
        await pilot.press("N")  # the last difference that starts before B #16: '.' vs '!'
        assert screen.difference_index == 1 and screen.cursors == {"a": 7, "b": 15}


async def test_differing_fields_and_tokens_are_highlighted() -> None:
    store = await make_pair()
    async with app_for(store).run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("l", "G", "tab", "G")
        assert screen.cursors == {"a": len(good_run()) - 1, "b": len(bad_run()) - 1}
        # good: no retry, no violation, "Paris."; bad: a retry after a violation, "Paris!"
        assert {"retry_attempts", "violations", "content", "checkpoint"} <= screen.marked
        assert "token_count" not in screen.marked and "completed" not in screen.marked
        for side in ("a", "b"):
            assert screen.panes[side].state_panel.marked == screen.marked
        left = screen.panes["a"].content._text
        right = screen.panes["b"].content._text
        lit_left = [left.plain[s.start:s.end] for s in left.spans if s.style == LEFT_STYLE]
        lit_right = [right.plain[s.start:s.end] for s in right.spans if s.style == RIGHT_STYLE]
        assert lit_left == ["."] and lit_right == ["!"]
        assert "retried: guardrail: fact-check" in right.plain  # the earlier attempt, listed
        summary = str(screen.summary.render())
        assert "retries" in summary and "0 → 1" in summary


async def test_missing_stream_is_a_message_not_a_crash() -> None:
    store = await make_pair()
    async with app_for(store, "good_run", "nope").run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.error is not None and "nope" in screen.error
        await pilot.press("j", "f", "n")  # keys do nothing harmful
        assert not screen.ready


async def test_q_leaves_the_standalone_diff() -> None:
    store = await make_pair()
    app = app_for(store)
    async with app.run_test(size=SNAPSHOT_SIZE) as pilot:
        await ready(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


def test_snapshot_at_the_first_difference(snap_compare: object, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot)
        await pilot.press("f")
        await pilot.pause()

    import asyncio

    store = asyncio.run(make_pair())
    assert snap_compare(app_for(store), terminal_size=SNAPSHOT_SIZE,  # type: ignore[operator]
                        run_before=run_before)


def test_snapshot_unlocked_at_the_ends(snap_compare: object) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot)
        await pilot.press("l", "G", "tab", "G")
        await pilot.pause()

    import asyncio

    store = asyncio.run(make_pair())
    assert snap_compare(app_for(store), terminal_size=SNAPSHOT_SIZE,  # type: ignore[operator]
                        run_before=run_before)


async def test_svg_screenshot_of_the_diff(tmp_path: Path) -> None:
    from l0tui.export import save_svg

    store = await make_pair()
    app = app_for(store)
    async with app.run_test(size=SNAPSHOT_SIZE) as pilot:
        await ready(pilot)
        written = save_svg(app, tmp_path / "diff.svg")
    with open(written, encoding="utf-8") as fh:  # noqa: ASYNC230
        svg = fh.read()
    assert written == str(tmp_path / "diff.svg")
    assert svg.startswith("<svg") and "good_run" in svg and "bad_run" in svg


def test_strip_cells_mark_difference_positions() -> None:
    from l0tui.widgets.diff_strip import strip_cells

    assert strip_cells([0, 5, 9], 10, 10) == [True] + [False] * 4 + [True] + [False] * 3 + [True]
    assert strip_cells([0, 99], 100, 4) == [True, False, False, True]
    assert strip_cells([3], 0, 5) == [False] * 5


async def test_difference_strips_follow_the_sides() -> None:
    store = await make_pair()
    async with app_for(store).run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("f")
        strip_a = screen.panes["a"].strip
        line = "".join(seg.text for seg in strip_a.render_line(0))
        assert line.count("≠") >= 3 and len(line) == strip_a.size.width
        assert strip_a._current == 5 and screen.panes["b"].strip._current == 6


def test_differing_tokens_is_bounded_and_exact_on_small_middles() -> None:
    from l0tui.widgets.diff_content import MATCH_LIMIT, differing_tokens

    assert differing_tokens(list("abcXdef"), list("abcYYdef")) == ({3}, {3, 4})
    assert differing_tokens(["a", "b"], ["a", "b"]) == (set(), set())
    assert differing_tokens([], ["a"]) == (set(), {0})
    assert differing_tokens(["x", "a", "b"], ["a", "b", "y"]) == ({0}, {2})
    big_left = ["p"] + ["l"] * (MATCH_LIMIT + 1) + ["s"]
    big_right = ["p"] + ["r"] * (MATCH_LIMIT + 5) + ["s"]
    only_left, only_right = differing_tokens(big_left, big_right)
    assert only_left == set(range(1, MATCH_LIMIT + 2))
    assert only_right == set(range(1, MATCH_LIMIT + 6))


async def test_hostile_and_giant_tokens_render_literally() -> None:
    from l0core import StartEvent, TokenEvent
    from tests.cli.streams import HOSTILE

    store = InMemoryEventStore()
    giant = "A" * 1_000_000
    await store.append_many("h1", [StartEvent(ts=1.0), TokenEvent(ts=2.0, value=HOSTILE, index=0),
                                   TokenEvent(ts=3.0, value=giant, index=1)])
    await store.append_many("h2", [StartEvent(ts=1.0), TokenEvent(ts=2.0, value=HOSTILE, index=0),
                                   TokenEvent(ts=3.0, value="small", index=1)])
    async with app_for(store, "h1", "h2").run_test(size=SNAPSHOT_SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("G")
        left = screen.panes["a"].content._text.plain
        right = screen.panes["b"].content._text.plain
        for text in (left, right):
            assert "[bold red]boom[/]" in text
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
        assert "(+998,000 chars)" in left and len(left) < 10_000
        assert "small" in right


def test_snapshot_demo_pair_at_the_first_content_difference(snap_compare: object) -> None:
    """The committed demo pair (07a good, 07b bad), read from the file store."""
    import asyncio

    from l0core import create_event_store

    demo = Path(__file__).resolve().parents[2] / "demo_streams"
    store = asyncio.run(create_event_store(str(demo), read_only=True))

    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot)
        await pilot.press("f", "n")  # 1: the START options differ; 2: the first tokens that do
        await pilot.pause()

    app = DiffApp((store, "07a-compare-good"), (store, "07b-compare-bad"))
    try:
        assert snap_compare(app, terminal_size=SNAPSHOT_SIZE,  # type: ignore[operator]
                            run_before=run_before)
    finally:
        asyncio.run(store.close())
