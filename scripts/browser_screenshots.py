"""Regenerate docs/served-app.png and docs/html-player.png in headless Chromium.

    .venv/bin/python scripts/browser_screenshots.py

Needs Debian's chromium and Playwright for Python (no browser download). Both shots
show demo_streams/03-guardrail-retry: the served TUI stepped to its RETRY, and the
exported HTML player at the same seq.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.chromium import (  # noqa: E402
    DEMO_STREAMS,
    expose_terminal,
    launch,
    serve,
    unavailable_reason,
    wait_for_screen,
)
from tests.browser.recordings import export_html  # noqa: E402

STREAM = "03-guardrail-retry"
VIEWPORT = {"width": 1500, "height": 900}


def served_app(browser: object, target: Path) -> None:
    with serve(DEMO_STREAMS) as served:
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
        expose_terminal(page)
        page.goto(served.url)
        wait_for_screen(page, "10 streams · sort")
        page.focus(".xterm-helper-textarea")
        page.keyboard.press("/")
        time.sleep(0.5)
        page.keyboard.type(STREAM, delay=40)
        page.keyboard.press("Enter")
        wait_for_screen(page, "1/10 streams")
        for _ in range(3):
            time.sleep(0.5)
            page.keyboard.press("Enter")
            try:
                wait_for_screen(page, "▲ 0/", timeout=8)
                break
            except AssertionError:
                continue
        page.keyboard.press("r")  # to the RETRY
        wait_for_screen(page, "retry_attempts      1")
        for _ in range(12):
            page.keyboard.press("j")
        time.sleep(1.0)
        page.screenshot(path=str(target))
        page.close()


def html_player(browser: object, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = export_html(DEMO_STREAMS, STREAM, Path(tmp) / "run.html")
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
        page.goto(path.as_uri())
        page.wait_for_function("() => document.documentElement.dataset.ready === '1'")
        page.evaluate("() => window.l0player.seek(81)")
        time.sleep(0.3)
        page.screenshot(path=str(target))
        page.close()


def main() -> int:
    reason = unavailable_reason()
    if reason is not None:
        print(f"browser_screenshots: {reason}", file=sys.stderr)
        return 2
    docs = REPO / "docs"
    with launch() as browser:
        served_app(browser, docs / "served-app.png")
        html_player(browser, docs / "html-player.png")
    print("wrote docs/served-app.png and docs/html-player.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
