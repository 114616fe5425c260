"""Snapshot tests of the look (pytest-textual-snapshot). Fixed streams, UTC, no blink.

Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at every
changed SVG before committing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from l0tui.app import L0TuiApp
from tests.tui.conftest import settle
from tests.tui.streams import make_store

Snap = Callable[..., bool]


def app_for(stream_id: str | None = None) -> L0TuiApp:
    store = asyncio.run(make_store())
    return L0TuiApp(store, location="memory://fixtures", stream_id=stream_id)


def keys(*presses: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
        await pilot.pause()

    return run


def test_browser(snap_compare: Snap) -> None:
    assert snap_compare(app_for(), terminal_size=(120, 30), run_before=keys())


def test_debugger_at_retry(snap_compare: Snap) -> None:
    assert snap_compare(app_for("retry-run"), terminal_size=(120, 40),
                        run_before=keys("r", "j", "j"))


def test_debugger_at_guardrail_violation(snap_compare: Snap) -> None:
    assert snap_compare(app_for("violation-run"), terminal_size=(120, 40),
                        run_before=keys("v"))


def test_debugger_at_error(snap_compare: Snap) -> None:
    assert snap_compare(app_for("error-run"), terminal_size=(120, 40), run_before=keys("e"))


def test_debugger_small_terminal(snap_compare: Snap) -> None:
    assert snap_compare(app_for("fallback-run"), terminal_size=(80, 24),
                        run_before=keys("colon", "1", "3", "enter"))


def test_help_panel(snap_compare: Snap) -> None:
    assert snap_compare(app_for("retry-run"), terminal_size=(120, 40),
                        run_before=keys("question_mark"))


def test_hostile_content(snap_compare: Snap) -> None:
    assert snap_compare(app_for("hostile-run"), terminal_size=(120, 40),
                        run_before=keys("colon", "9", "enter"))


def test_hostile_event_detail(snap_compare: Snap) -> None:
    assert snap_compare(app_for("hostile-run"), terminal_size=(120, 40),
                        run_before=keys("colon", "4", "enter", "enter"))
