"""``l0tui serve`` in a real browser: the TUI in a page, and the token that guards it."""

from __future__ import annotations

import http.client
import io
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from l0tui.cli import run
from l0tui.serve import ServeSettings, is_loopback
from tests.browser.chromium import (
    DEMO_STREAMS,
    expose_terminal,
    require_chromium,
    screen_text,
    serve,
    wait_for_screen,
)
from tests.browser.recordings import in_thread

pytestmark = pytest.mark.timeout(180)


def _get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), response
    finally:
        conn.close()


_UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def _press_until(page: Any, key: str, needle: str, tries: int = 3) -> str:
    """Press ``key`` until the screen shows ``needle`` (focus can move a moment late)."""
    for attempt in range(tries):
        time.sleep(0.5)
        page.keyboard.press(key)
        try:
            return wait_for_screen(page, needle, timeout=8.0)
        except AssertionError:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def test_a_token_is_made_off_loopback_only() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7")
    assert ServeSettings.create("s").token is None
    assert ServeSettings.create("s", "127.0.0.1", force_token=True).token
    off = ServeSettings.create("s", "0.0.0.0")
    assert off.token and len(off.token) >= 32 and off.token in off.url(8000)
    assert ServeSettings.create("s", "0.0.0.0").token != off.token


def demo_stream_count() -> int:
    return sum(1 for p in DEMO_STREAMS.glob("*.jsonl") if not p.name.endswith(".snapshots.jsonl"))


def test_the_served_app_opens_a_stream_and_steps_with_keys(page: Any) -> None:
    require_chromium()
    with serve(DEMO_STREAMS) as served:
        assert served.url == served.base, "no token on loopback"
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        expose_terminal(page)
        page.goto(served.url)
        # 09-long-stream exists only where ./dev tui wrote it: count what is there
        wait_for_screen(page, f"{demo_stream_count()} streams · sort")
        page.focus(".xterm-helper-textarea")
        page.keyboard.press("/")
        time.sleep(0.5)
        page.keyboard.type("03-guardrail", delay=40)
        page.keyboard.press("Enter")
        wait_for_screen(page, "1 matching · sort")
        opened = _press_until(page, "Enter", "▲ 0/205")
        assert "03-guardrail-retry" in opened and "START" in opened
        for _ in range(5):
            page.keyboard.press("j")
        stepped = wait_for_screen(page, "▲ 5/205")
        assert "token_count         5" in stepped
        page.keyboard.press("r")  # the next RETRY
        retried = wait_for_screen(page, "▲ 69/205")
        assert "retry_attempts      1" in retried
        assert all(r.startswith(served.base) for r in requests), "only this server is asked"
    assert served.process.returncode == 0
    assert "Traceback" not in "".join(served.output)
    assert "l0tui: stopping" in "".join(served.output)


def test_with_a_token_a_wrong_or_missing_one_gets_403(page: Any) -> None:
    require_chromium()
    with serve(DEMO_STREAMS, "--token") as served:
        token = urlsplit(served.url).query.removeprefix("token=")
        assert token and served.url != served.base
        for path in ("/", "/?token=wrong", "/static/js/textual.js", "/ws", "/download/x",
                     f"/?token={token[:-1]}"):
            status, body, _ = _get(served.base, path)
            assert status == 403, path
            assert "403" in body and "terminal" not in body, path
        status, _, _ = _get(served.base, "/ws", _UPGRADE)
        assert status == 403, "the websocket upgrade needs the token too"
        status, _, response = _get(served.base, f"/?token={token}")
        assert status == 200
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        assert "HttpOnly" in response.getheader("Set-Cookie")
        status, _, _ = _get(served.base, "/static/js/textual.js", {"Cookie": cookie})
        assert status == 200, "the cookie the page got carries the token"
        host = urlsplit(served.base).netloc
        status, _, _ = _get(served.base, "/ws", {**_UPGRADE, "Cookie": cookie,
                                                  "Origin": "http://evil.example"})
        assert status == 403, "a websocket from another site is refused"

        page.goto(served.base + "?token=wrong")
        assert "403 Forbidden" in page.content()
        assert page.locator("#terminal").count() == 0

        expose_terminal(page)
        page.goto(served.url)
        assert "03-guardrail-retry" in wait_for_screen(page, "03-guardrail-retry")
        assert host in served.base
    assert served.process.returncode == 0


def test_loopback_answers_only_requests_addressed_to_loopback() -> None:
    with serve(DEMO_STREAMS) as served:
        assert _get(served.base, "/")[0] == 200
        status, _, _ = _get(served.base, "/", {"Host": "rebound.example:8000"})
        assert status == 403, "a DNS-rebinding page cannot talk to the server"


def test_a_store_that_does_not_exist_fails_before_serving(tmp_path: Any) -> None:
    err = io.StringIO()
    status = in_thread(lambda: run(["serve", str(tmp_path / "nope"), "--port", "0"],
                                   stdout=io.StringIO(), stderr=err))
    assert status == 2
    assert "no such file or directory" in err.getvalue()


def test_screen_text_reader_is_empty_without_a_terminal(page: Any) -> None:
    page.set_content("<p>no terminal</p>")
    assert screen_text(page) == ""
