"""Shared fixtures for the TUI tests: fixed stores, a fake clock, a quiet environment."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from l0core.stores.memory import InMemoryEventStore
from tests.tui.streams import make_store

os.environ["TZ"] = "UTC"
if hasattr(time, "tzset"):
    time.tzset()
os.environ["L0TUI_KEYMAP"] = os.path.join(os.path.dirname(__file__), "no-such-keymap.toml")


class FakeClock:
    """A monotonic clock the tests move by hand (seconds)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store() -> InMemoryEventStore:
    return await make_store()


@pytest.fixture(autouse=True)
def _no_user_keymap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("L0TUI_KEYMAP", os.path.join(os.path.dirname(__file__),
                                                    "no-such-keymap.toml"))
    yield


async def settle(pilot: object, *, limit: int = 200) -> None:
    """Wait until the current screen finished loading (debugger or browser)."""
    from textual.pilot import Pilot

    from l0tui.screens.browser import BrowserScreen
    from l0tui.screens.debugger import DebuggerScreen

    assert isinstance(pilot, Pilot)
    app = pilot.app
    for _ in range(limit):
        await pilot.pause()
        screen = app.screen
        if isinstance(screen, DebuggerScreen) and screen.loaded:
            break
        if isinstance(screen, BrowserScreen) and screen.loaded and screen.total is not None \
                and all(w.is_finished for w in screen.workers if w.group == "streams"):
            break
        if not isinstance(screen, BrowserScreen | DebuggerScreen):
            break
    await pilot.pause()
