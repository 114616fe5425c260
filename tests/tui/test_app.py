"""The app factory and ``run_tui``: read-only stores, one-line errors, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from l0core.errors import StoreConfigError
from l0tui.app import L0TuiApp, open_store_readonly, run_tui
from l0tui.screens.browser import BrowserScreen
from l0tui.screens.debugger import DebuggerScreen
from tests.tui.conftest import settle
from tests.tui.streams import retry_run


async def test_store_is_opened_read_only(tmp_path: Path) -> None:
    store = await open_store_readonly(str(tmp_path))
    try:
        with pytest.raises(StoreConfigError):
            await store.append_many("x", retry_run())
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("location", "stream_id", "needle"),
    [
        ("bogus://nowhere", None, "scheme"),
        ("postgresql://", None, ""),
        ("redis://127.0.0.1:1/0", None, ""),
        ("memory://", "no-such-stream", "no-such-stream"),
    ],
)
def test_run_tui_errors_are_one_line(location: str, stream_id: str | None, needle: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    status = run_tui(location, stream_id)
    err = capsys.readouterr().err
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("l0tui: "), err
    assert "Traceback" not in err
    assert needle in lines[0]


async def test_corrupt_file_is_reported_on_screen(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text(
        '{"streamId": "bad", "seq": 0, "event": {"type": "START", "ts": 1, "options": {}}}\n'
        '{"streamId": "bad", "seq": 1, "event": {"type": "TOK\x00 garbage\n'
        '{"streamId": "bad", "seq": 2, "event": {"type": "TOKEN", "ts": 3, "value": "x", '
        '"index": 0}}\n',
        encoding="utf-8",
    )
    store = await open_store_readonly(str(tmp_path))
    app = L0TuiApp(store, stream_id="bad")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = app.screen
        assert isinstance(dbg, DebuggerScreen)
        assert dbg.load_error is not None and "bad" in dbg.load_error
        await pilot.press("q")
        await settle(pilot)
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        cells = browser.table.cells("bad")
        assert cells[2] == "unreadable" and "bad.jsonl at byte" in cells[3], cells
    await store.close()
