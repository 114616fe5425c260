"""A hostile string shows the same visible text in ``l0tui show`` / ``l0tui events`` and in the TUI.

Both surfaces describe events with :func:`l0tui.display.vocabulary.describe_event` and
escape with :mod:`l0tui.display.escape`; these tests run the real command line and
the real app on one recording and compare what each prints.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
from pathlib import Path

from l0core import create_event_store
from l0core.events import ErrorEvent, RecordedEvent, SerializedError, StartEvent, TokenEvent
from l0core.stores.memory import InMemoryEventStore
from l0tui.app import L0TuiApp
from l0tui.cli import run
from tests.tui.conftest import settle
from tests.tui.streams import T0

PRINTABLE = "[bold red]not bold[/] \u202eevil\u202c مرحبا 🎉"
"""Markup, a bidi override and RTL text: no control characters."""

CONTROLS = "\x1b[31mred \x1b]0;t\x07 \x9b2J a\tb\nc"
"""ANSI/OSC escapes, a C1 CSI, BEL, a tab and a newline."""


def _events(message: str) -> list[RecordedEvent]:
    return [
        StartEvent(ts=T0),
        TokenEvent(ts=T0 + 1, value="hi", index=0),
        ErrorEvent(ts=T0 + 2, error=SerializedError(name="Boom", message=message),
                   failure_type="timeout", recovery_strategy="halt", policy="default"),
    ]


def _cli(*argv: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(list(argv), stdout=stdout, stderr=stderr, isatty=False) == 0, stderr.getvalue()
    return stdout.getvalue()


def _screen_text(app: L0TuiApp) -> str:
    svg = app.export_screenshot()
    return "".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)
                   ).replace("\xa0", " ")


async def _same_text(tmp_path: Path, message: str) -> None:
    events = _events(message)
    location = str(tmp_path / "store")
    file_store = await create_event_store(location)
    await file_store.append_many("hostile", events)
    await file_store.close()

    show = await asyncio.to_thread(_cli, "show", location, "hostile", "--plain")
    error_line = next(line for line in show.splitlines() if line.startswith("error: "))
    shown_error = error_line.removeprefix("error: ")
    listing = await asyncio.to_thread(_cli, "events", location, "hostile", "--plain")
    shown_summary = listing.splitlines()[-1].split("\t")[-1]
    assert shown_error.startswith("Boom: ") and shown_summary.startswith(shown_error + " [")

    memory = InMemoryEventStore()
    await memory.append_many("hostile", events)
    app = L0TuiApp(memory, stream_id="hostile")
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        screen = _screen_text(app)
    # the state panel's error field, the event list's row (and the content view's error line)
    assert screen.count(shown_error) >= 2, (shown_error, screen)


async def test_printable_hostile_text_is_the_same_on_both_surfaces(tmp_path: Path) -> None:
    await _same_text(tmp_path, PRINTABLE)


async def test_control_characters_are_shown_the_same_on_both_surfaces(tmp_path: Path) -> None:
    await _same_text(tmp_path, CONTROLS)
