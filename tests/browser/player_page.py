"""Driving the exported HTML player in Chromium as a person would: drag, keys, read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WATCH_JS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@dataclass
class PlayerPage:
    """An opened player, with what the page asked the network for and complained about."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return int(self.page.evaluate("window.l0player.count"))

    @property
    def seq(self) -> int:
        return int(self.page.inner_text(".seq-now"))

    def csp_violations(self) -> list[str]:
        return list(self.page.evaluate("window.__cspViolations"))

    def drag_to(self, seq: int) -> int:
        """Drag the scrubber's thumb to about ``seq``, then arrow-key to it exactly."""
        slider = self.page.locator("input.slider")
        box = slider.bounding_box()
        assert box is not None
        last = max(1, self.count - 1)
        pad = 8.0  # the thumb's half width: value 0 sits at x + pad

        def x_of(value: int) -> float:
            return float(box["x"] + pad + (box["width"] - 2 * pad) * value / last)

        y = box["y"] + box["height"] / 2
        mouse = self.page.mouse
        mouse.move(x_of(self.seq), y)
        mouse.down()
        mouse.move((x_of(self.seq) + x_of(seq)) / 2, y, steps=4)
        mouse.move(x_of(seq), y, steps=4)
        mouse.up()
        dragged = self.seq
        slider.focus()
        for _ in range(abs(seq - self.seq)):
            self.page.keyboard.press("ArrowRight" if seq > self.seq else "ArrowLeft")
        assert self.seq == seq, f"the player shows seq {self.seq}, wanted {seq}"
        return dragged

    def shown_state(self) -> dict[str, dict[str, Any]]:
        """Every state row as shown: its value text, content length, where it last changed."""
        rows: dict[str, dict[str, Any]] = self.page.evaluate("""() => {
          const out = {};
          for (const tr of document.querySelectorAll("table.state tr[data-field]")) {
            const v = tr.querySelector(".v");
            out[tr.dataset.field] = {
              text: v.textContent, length: v.dataset.length ?? null,
              changed: tr.querySelector("td.changed").dataset.seq,
            };
          }
          return out;
        }""")
        return rows


def open_player(page: Any, path: Path) -> PlayerPage:
    url = path.resolve().as_uri()
    player = PlayerPage(page, url)
    page.on("request", lambda request: player.requests.append(request.url))
    page.on("console", lambda msg: player.errors.append(msg.text)
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: player.errors.append(str(exc)))
    page.add_init_script(WATCH_JS)
    page.goto(url)
    # (a function, not a string: the page's CSP forbids eval, for the tests' scripts too)
    page.wait_for_function("() => document.documentElement.dataset.ready === '1'",
                           timeout=60_000)
    return player
