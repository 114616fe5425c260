"""The exported HTML player in a real browser: what it shows is what ``l0tui show`` says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from l0core.codec import encode_state
from tests.browser.chromium import DEMO_STREAMS
from tests.browser.player_page import PlayerPage, open_player
from tests.browser.recordings import SNAKE, export_html, js_length, show_state, timeline

pytestmark = pytest.mark.timeout(240)

STREAMS = {
    "02-network-retry-continuation": "continuation",
    "03-guardrail-retry": "guardrail retry",
    "04-fallback-after-two-failures": "fallback",
    "06-error-zero-tokens": "error",
    "05-drift-mid-stream": "drift",
}
CONTENT_TAIL = 2000  # the player's state table shows this many chars of content


def _seqs_to_check(stream_id: str) -> list[int]:
    """Every non-TOKEN seq (retries, continuations, fallbacks, errors...), a few tokens."""
    tl = timeline(DEMO_STREAMS, stream_id)
    marks = list(tl.landmarks())
    picked = sorted({*marks[:12], marks[-1], 1 % len(tl), len(tl) // 2, len(tl) - 1})
    return picked


def _check_state(player: PlayerPage, stream_id: str, seq: int) -> None:
    expected = show_state(DEMO_STREAMS, stream_id, seq)
    tl = timeline(DEMO_STREAMS, stream_id)
    shown = player.shown_state()
    assert set(shown) == set(expected), "the player shows every ReplayedState field"
    for name, row in shown.items():
        want = expected[name]
        if name == "content":
            assert int(row["length"]) == js_length(want), (stream_id, seq, name)
            if js_length(want) <= CONTENT_TAIL:
                assert row["text"] == want, (stream_id, seq, name)
            else:
                assert want.endswith(row["text"]), (stream_id, seq, name)
        else:
            assert json.loads(row["text"]) == want, (stream_id, seq, name)
        last = tl.field_last_changed(SNAKE[name], seq)
        assert row["changed"] == ("never" if last is None else str(last)), (stream_id, seq, name)


@pytest.mark.parametrize("stream_id", sorted(STREAMS))
def test_dragging_to_a_seq_shows_the_state_show_reports(
    page: Any, tmp_path: Path, stream_id: str
) -> None:
    player = open_player(page, export_html(DEMO_STREAMS, stream_id, tmp_path / "run.html"))
    for seq in _seqs_to_check(stream_id):
        player.drag_to(seq)
        _check_state(player, stream_id, seq)
    assert player.requests == [player.url], "the page loads nothing but itself"
    assert player.csp_violations() == []
    assert player.errors == []


@pytest.mark.parametrize("stream_id", sorted(p.stem for p in DEMO_STREAMS.glob("0[1-8]*.jsonl")))
def test_the_javascript_fold_equals_the_python_fold_at_every_seq(
    page: Any, tmp_path: Path, stream_id: str
) -> None:
    player = open_player(page, export_html(DEMO_STREAMS, stream_id, tmp_path / "run.html"))
    tl = timeline(DEMO_STREAMS, stream_id)
    states = page.evaluate(
        "() => Array.from({length: window.l0player.count}, (_, s) => window.l0player.stateAt(s))")
    changed = page.evaluate("""(fields) => Array.from({length: window.l0player.count},
        (_, s) => fields.map((f) => window.l0player.lastChanged(f, s)))""", list(SNAKE))
    assert len(states) == len(tl) == player.count
    for seq, state in enumerate(states):
        assert state == encode_state(tl.state_at(seq)), (stream_id, seq)
        assert changed[seq] == [tl.field_last_changed(SNAKE[f], seq) for f in SNAKE], seq
    attempts = page.evaluate("window.l0player.attempts()")
    texts = page.evaluate("(n) => Array.from({length: n}, (_, i) => window.l0player"
                          ".attemptContent(i))", len(attempts))
    want = tl.attempts()
    assert len(attempts) == len(want)
    for got, text, attempt in zip(attempts, texts, want, strict=True):
        assert got == {
            "number": attempt.number, "startSeq": attempt.start_seq,
            "endSeq": attempt.end_seq, "startedBy": attempt.started_by,
            "resumedFrom": attempt.resumed_from, "tokenCount": attempt.token_count,
            "outcome": attempt.outcome, "reason": attempt.reason,
            "fallbackIndex": attempt.fallback_index,
        }
        assert text == attempt.content


def test_attempts_are_told_apart_in_the_content(page: Any, tmp_path: Path) -> None:
    stream_id = "02-network-retry-continuation"
    player = open_player(page, export_html(DEMO_STREAMS, stream_id, tmp_path / "run.html"))
    want = timeline(DEMO_STREAMS, stream_id).attempts()
    player.page.keyboard.press("End")
    blocks = page.locator(".attempt")
    assert blocks.count() == len(want) >= 2
    for i, attempt in enumerate(want):
        block = blocks.nth(i)
        head = block.locator(".head").inner_text()
        assert f"attempt {attempt.number}" in head
        assert attempt.outcome.replace("_", " ") in head
        if attempt.resumed_from:
            resumed = block.locator(".resumed")
            assert resumed.count() == 1
            assert attempt.resumed_from.endswith(resumed.inner_text())


def test_keys_minimap_and_playback_move_the_cursor(page: Any, tmp_path: Path) -> None:
    stream_id = "03-guardrail-retry"
    player = open_player(page, export_html(DEMO_STREAMS, stream_id, tmp_path / "run.html"))
    tl = timeline(DEMO_STREAMS, stream_id)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert player.seq == 2
    page.keyboard.press("]")
    assert player.seq == tl.next_landmark(2)
    page.keyboard.press("End")
    assert player.seq == len(tl) - 1
    page.keyboard.press("Home")
    assert player.seq == 0
    # drag across the minimap: the cursor follows the pointer
    box = page.locator(".minimap").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, y, steps=5)
    page.mouse.up()
    assert abs(player.seq - len(tl) // 2) <= 2
    # play, uniform pacing at 64x: 1280 events a second reach the end quickly
    page.select_option("select.speed", "64")
    page.select_option("select.pacing", "uniform")
    page.keyboard.press("Home")
    page.click("button.play")
    page.wait_for_function("(last) => window.l0player.seq === last", arg=len(tl) - 1,
                           timeout=10_000)
    assert page.inner_text("button.play").endswith("play"), "it pauses at the end"


def test_the_event_list_keeps_only_visible_rows_in_the_page(page: Any, tmp_path: Path) -> None:
    stream_id = "01-clean-completion"
    player = open_player(page, export_html(DEMO_STREAMS, stream_id, tmp_path / "run.html"))
    rows = page.locator(".events .row:not([hidden])").count()
    assert 10 < rows < 80 < player.count
    player.drag_to(player.count - 1)
    at = page.locator(".events .row.at")
    assert at.count() == 1 and at.get_attribute("data-seq") == str(player.count - 1)
    assert at.is_visible()
