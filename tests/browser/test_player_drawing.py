"""How the HTML player draws a seek: cheap enough for a frame on a long recording.

The figures are in ``benchmarks/bench_html_player.py``; these tests pin the
properties behind them: a drag redraws once per frame, nodes are kept and only
their text changes, and long text reaches the page only as the tail that shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import DEMO_STREAMS
from tests.browser.player_page import open_player
from tests.browser.recordings import export_html, js_length, show_state, timeline

pytestmark = pytest.mark.timeout(120)

DRAG_JS = """async (seqs) => {
  const slider = document.querySelector("input.slider");
  const shown = () => document.querySelector(".seq-now").textContent;
  slider.dispatchEvent(new PointerEvent("pointerdown", {bubbles: true}));
  const before = shown();
  for (const seq of seqs) {
    slider.value = String(seq);
    slider.dispatchEvent(new Event("input", {bubbles: true}));
  }
  const sameTask = shown();
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 0));
  const nextFrame = shown();
  slider.value = String(seqs[0]);
  slider.dispatchEvent(new Event("input", {bubbles: true}));
  window.dispatchEvent(new PointerEvent("pointerup", {bubbles: true}));
  return [before, sameTask, nextFrame, shown()];
}"""


def test_a_drag_draws_once_a_frame_and_the_end_of_it_at_once(
    page: Any, tmp_path: Path
) -> None:
    player = open_player(page, export_html(DEMO_STREAMS, "03-guardrail-retry",
                                           tmp_path / "run.html"))
    before, same_task, next_frame, released = page.evaluate(DRAG_JS, [5, 9, 14])
    assert before == same_task == "0", "inputs in one task wait for the frame"
    assert next_frame == "14", "the frame draws the last of them"
    assert released == "5", "letting go draws at once"
    assert player.errors == []


def test_a_seek_keeps_the_nodes_and_earlier_attempts_as_they_were(
    page: Any, tmp_path: Path
) -> None:
    stream_id = "02-network-retry-continuation"
    player = open_player(page, export_html(DEMO_STREAMS, stream_id, tmp_path / "run.html"))
    attempts = timeline(DEMO_STREAMS, stream_id).attempts()
    last = attempts[-1]
    assert last.end_seq > last.start_seq + 2
    player.drag_to(last.start_seq + 1)
    page.evaluate("""() => {
      window.__kept = {
        first: document.querySelector(".attempt .own").firstChild,
        firstText: document.querySelector(".attempt .own").textContent,
        own: document.querySelector(".attempt.current .own").firstChild,
        rows: document.querySelectorAll(".events .row").length,
        content: document.querySelector("tr[data-field=content] .v").firstChild,
      };
    }""")
    player.drag_to(last.end_seq)
    kept = page.evaluate("""() => {
      const k = window.__kept;
      return {
        first: k.first === document.querySelector(".attempt .own").firstChild,
        firstText: k.firstText === document.querySelector(".attempt .own").textContent,
        own: k.own === document.querySelector(".attempt.current .own").firstChild,
        rows: k.rows === document.querySelectorAll(".events .row").length,
        content: k.content === document.querySelector("tr[data-field=content] .v").firstChild,
      };
    }""")
    assert kept == {"first": True, "firstText": True, "own": True, "rows": True,
                    "content": True}
    assert player.errors == []


def test_long_text_reaches_the_page_as_its_tail(page: Any, tmp_path: Path) -> None:
    stream_id = "08-hostile-content"
    player = open_player(page, export_html(DEMO_STREAMS, stream_id, tmp_path / "run.html"))
    last = player.count - 1
    page.keyboard.press("End")
    want = show_state(DEMO_STREAMS, stream_id, last)["content"]
    assert js_length(want) > 20_000
    shown = player.shown_state()["content"]
    assert int(shown["length"]) == js_length(want)
    assert want.endswith(shown["text"])
    assert 100 < len(shown["text"]) <= 600, "the state table draws what its box shows"
    drawn = page.evaluate("""() => Array.from(document.querySelectorAll(
        ".attempts .own, .final pre"), (n) => n.textContent.length)""")
    assert drawn and max(drawn) <= 4002, "the content pane draws at most a pane of text"
    assert player.errors == []
