"""Debian's Chromium driven by Playwright for Python, with no browser download.

The browser is ``/usr/bin/chromium`` (``apt-get install chromium chromium-driver``;
``.ci/run`` installs them when missing); ``$L0_CHROMIUM`` points elsewhere. Without
it the browser tests skip, unless ``L0_REQUIRE_SERVICES=1``, when they fail. The
flags keep the browser from reaching any network on its own.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.services import services_required

CHROMIUM = os.environ.get("L0_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
DEMO_STREAMS = REPO / "demo_streams"


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def require_chromium() -> None:
    """Skip (or, with ``L0_REQUIRE_SERVICES=1``, fail) when there is no browser."""
    reason = unavailable_reason()
    if reason is None:
        return
    if services_required():
        pytest.fail(f"{reason} (L0_REQUIRE_SERVICES=1: the browser tests must not skip)",
                    pytrace=False)
    pytest.skip(reason)


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# ───────────────────────────── the served app ─────────────────────────────

_OPEN_RE = re.compile(r"l0tui: open (http://\S+)")


@dataclass
class Served:
    """A running ``l0tui serve``: its process and the URL it printed."""

    process: subprocess.Popen[str]
    url: str
    output: list[str]

    @property
    def base(self) -> str:
        return self.url.split("?", 1)[0]


@contextmanager
def serve(store: Path | str, *args: str, timeout: float = 30.0) -> Iterator[Served]:
    """Run ``l0tui serve STORE --port 0 ARGS`` until the block ends (then Ctrl-C it)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "l0tui", "serve", str(store), "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO,
        start_new_session=True,
    )
    output: list[str] = []
    url = None
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    try:
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            match = _OPEN_RE.search(line)
            if match:
                url = match.group(1)
        if url is None:
            raise AssertionError("l0tui serve printed no address:\n" + "".join(output))
        yield Served(process, url, output)
    finally:
        if process.poll() is None:
            process.send_signal(2)  # SIGINT, as Ctrl-C sends
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        rest = process.stdout.read()
        output.append(rest)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_TERMINAL_RE = re.compile(r"this\.terminal=new (\w+)\.Terminal\(")


def expose_terminal(page: Any) -> None:
    """Make textual-serve's xterm.js terminal readable as ``window.__l0term``.

    The page draws on a canvas, so there is no text in the DOM to read; the test
    patches the script as it loads (the product's files are not changed) so that
    the terminal's own buffer can be read.
    """

    def patch(route: Any) -> None:
        response = route.fetch()
        patched, count = _TERMINAL_RE.subn(
            lambda m: f"this.terminal=window.__l0term=new {m.group(1)}.Terminal(",
            response.text(), count=1)
        if count != 1:
            raise AssertionError("textual.js changed: cannot find where it makes the terminal")
        route.fulfill(response=response, body=patched)

    page.route("**/static/js/textual.js", patch)


READ_SCREEN_JS = """() => {
  const term = window.__l0term;
  if (!term) return "";
  const buf = term.buffer.active;
  const rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buf.getLine(buf.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""


def screen_text(page: Any) -> str:
    """The terminal's rows as text, as the browser holds them now."""
    return str(page.evaluate(READ_SCREEN_JS))


def wait_for_screen(page: Any, needle: str, timeout: float = 30.0) -> str:
    """Wait until the terminal shows ``needle``; the screen text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen_text(page)
        if needle in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"the terminal never showed {needle!r}; it shows:\n{text}")
