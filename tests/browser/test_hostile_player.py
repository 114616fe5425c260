"""A recording whose text is HTML and script: the player shows it literally, runs none of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.player_page import open_player
from tests.browser.recordings import export_html, show_state

pytestmark = pytest.mark.timeout(120)

STREAM = "hostile-tokens"
PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    '<a href="javascript:window.__pwned=3">click</a>',
    "javascript:window.__pwned=4",
    '</script><script>window.__pwned=5</script><!--',
    '<svg onload="window.__pwned=6"></svg>',
    '<iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>',
    "&lt;b&gt; \u2028 \u2029 ]]> `${window.__pwned=8}`",
    '<style>body{display:none}</style><link rel=stylesheet href="http://127.0.0.1:9/x.css">',
]


def _write_stream(directory: Path) -> str:
    """A file store with one stream carrying the payloads in every text field it has."""
    ts = 1_772_440_000_000
    events: list[dict[str, Any]] = [
        {"type": "START", "ts": ts, "options": {"prompt": PAYLOADS[0], "model": PAYLOADS[1]}},
    ]
    for i, text in enumerate(PAYLOADS):
        events.append({"type": "TOKEN", "ts": ts + 10 * (i + 1), "value": text, "index": i})
    joined = "".join(PAYLOADS)
    events += [
        {"type": "CHECKPOINT", "ts": ts + 200, "at": len(PAYLOADS) - 1, "content": joined},
        {"type": "GUARDRAIL", "ts": ts + 210, "at": len(PAYLOADS) - 1, "result": {
            "violations": [{"rule": PAYLOADS[5], "message": PAYLOADS[2], "severity": "error",
                            "recoverable": True}],
            "shouldRetry": True, "shouldHalt": False}},
        {"type": "RETRY", "ts": ts + 220, "reason": PAYLOADS[3], "attempt": 1,
         "countsTowardLimit": True},
        {"type": "CONTINUATION", "ts": ts + 230, "checkpoint": joined, "at": len(PAYLOADS) - 1},
        {"type": "TOKEN", "ts": ts + 240, "value": PAYLOADS[4], "index": len(PAYLOADS)},
        {"type": "ERROR", "ts": ts + 250, "error": {"name": PAYLOADS[6], "message": PAYLOADS[7]},
         "failureType": "unknown", "recoveryStrategy": "halt", "policy": {}},
    ]
    lines = [json.dumps({"streamId": STREAM, "seq": seq, "event": event})
             for seq, event in enumerate(events)]
    (directory / f"{STREAM}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return STREAM


def test_hostile_text_shows_literally_and_runs_nothing(page: Any, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    stream_id = _write_stream(store)
    html_path = export_html(store, stream_id, tmp_path / "hostile.html")
    source = html_path.read_text(encoding="utf-8")
    data = source.split('id="l0-recording">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and ">" not in data and "&" not in data

    player = open_player(page, html_path)
    last = player.count - 1
    for seq in range(player.count):
        player.drag_to(seq)
        expected = show_state(store, stream_id, seq)
        shown = player.shown_state()
        assert shown["content"]["text"] == expected["content"]
        assert json.loads(shown["checkpoint"]["text"]) == expected["checkpoint"]
        assert json.loads(shown["violations"]["text"]) == expected["violations"]
        assert json.loads(shown["error"]["text"]) == expected["error"]
    # the event list and detail show each payload as text
    page.keyboard.press("Home")
    summaries = page.locator(".events .row .sum").all_inner_texts()
    for text in PAYLOADS:
        assert any(json.dumps(text, ensure_ascii=False) in s for s in summaries), text
    player.drag_to(last)
    assert page.locator(".attempt .own").first.inner_text() == "".join(PAYLOADS)
    # play it through too, so every row and view has drawn the payloads
    page.select_option("select.speed", "64")
    page.keyboard.press("Home")
    page.click("button.play")
    page.wait_for_function("(n) => window.l0player.seq === n", arg=last, timeout=10_000)

    assert page.evaluate("window.__pwned") is None, "no payload ran"
    assert page.locator("img, iframe, svg, a, link, object, embed").count() == 0
    assert page.locator("script").count() == 2, "only the data block and the player"
    assert player.requests == [player.url], "nothing was fetched"
    assert player.csp_violations() == [], "nothing even tried to run or load"
    assert player.errors == []
