"""Exports from the debugger: JSONL slices in the wire format, the Markdown report, SVG."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from l0core import encode_envelope
from l0core.stores.memory import InMemoryEventStore
from l0tui.app import L0TuiApp
from l0tui.screens.debugger import DebuggerScreen
from tests.tui.conftest import settle


async def _choose(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("x")
    await pilot.pause()
    await pilot.press(*text)
    for _ in range(10):
        await pilot.pause()
    await pilot.press("enter")
    for _ in range(3):
        await pilot.pause()


async def test_export_keys_write_each_format(store: InMemoryEventStore, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    expected = [encode_envelope(e) for e in await store.get_events("retry-run")]
    app = L0TuiApp(store, stream_id="retry-run")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DebuggerScreen)
        screen.goto(6)
        await pilot.pause()
        await _choose(pilot, "up to the cursor")
        sliced = (tmp_path / "retry-run-0-6.jsonl").read_text().splitlines()
        assert [orjson.loads(line) for line in sliced] == expected[:7]

        await _choose(pilot, "whole stream as JSONL")
        whole = (tmp_path / "retry-run.jsonl").read_text().splitlines()
        assert [orjson.loads(line) for line in whole] == expected

        await _choose(pilot, "Markdown report")
        report = (tmp_path / "retry-run.md").read_text()
        assert report.startswith("#") and "retry-run" in report and "RETRY" in report.upper()

        await _choose(pilot, "SVG screenshot")
        svg = (tmp_path / "retry-run-6.svg").read_text()
        assert svg.lstrip().startswith("<svg") and "retry-run" in svg
