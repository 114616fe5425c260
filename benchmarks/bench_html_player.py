"""HTML player benchmark: export size, time to interactive and seek latency in Chromium.

    .venv/bin/python benchmarks/bench_html_player.py [--stream 09-long-stream] [--seeks 200]
        [--html FILE]

Exports STREAM from demo_streams/ with ``l0tui export --format html`` (the 128k-event
demo stream by default; ``scripts/make_demo_streams.py --long`` writes it), opens it
from ``file://`` in headless Chromium (Debian's ``/usr/bin/chromium`` through
Playwright) and prints:

* the export's size and how long the export took;
* time to interactive: from navigation start to the player's first drawn state
  (``performance.now()`` when it marks the page ready), median of 3 loads;
* seek latency over N random seqs: a scrubber ``input`` event, the player's redraw,
  and the next animation frame (so layout and paint are included); median, p95, max.
  Each seek starts inside the previous frame's callback, so a seek that fits in one
  frame measures one frame interval (16.7 ms at 60 Hz) and this figure moves in
  whole frames;
* the main thread's work per seek over the same seeks, which does not: the mean
  time Chromium spent in tasks, and in script, layout and style of it (CDP
  ``Performance.getMetrics``, before and after).

``--html FILE`` measures a file exported before (another version of the player, say)
instead of exporting one. It prints numbers only and asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.chromium import DEMO_STREAMS, launch, unavailable_reason  # noqa: E402
from tests.browser.recordings import export_html  # noqa: E402

SEEK_JS = """async (seqs) => {
  const slider = document.querySelector("input.slider");
  const times = [];
  for (const seq of seqs) {
    const t0 = performance.now();
    slider.value = String(seq);
    slider.dispatchEvent(new Event("input", {bubbles: true}));
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    times.push(performance.now() - t0);
  }
  return times;
}"""


def _metrics(cdp: Any) -> dict[str, float]:
    """Chromium's cumulative page metrics, in seconds (``Performance.getMetrics``)."""
    return {m["name"]: float(m["value"]) for m in cdp.send("Performance.getMetrics")["metrics"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream", default="09-long-stream")
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--html", type=Path, help="measure this exported file instead")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason is not None:
        print(f"bench_html_player: {reason}", file=sys.stderr)
        return 2
    if args.html is None and not (DEMO_STREAMS / f"{args.stream}.jsonl").exists():
        print(f"bench_html_player: demo_streams/{args.stream}.jsonl is missing "
              "(scripts/make_demo_streams.py --long writes the long one)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        if args.html is not None:
            path = args.html.resolve()
        else:
            path = export_html(DEMO_STREAMS, args.stream, Path(tmp) / "run.html")
        export_s = time.perf_counter() - started
        size = path.stat().st_size
        with launch() as browser:
            ready: list[float] = []
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1500, "height": 900})
                page.goto(path.as_uri())
                page.wait_for_function(
                    "() => document.documentElement.dataset.ready === '1'", timeout=120_000)
                ready.append(float(page.evaluate("window.l0ReadyAt")))
                count = int(page.evaluate("window.l0player.count"))
                if len(ready) < 3:
                    page.close()
            rng = random.Random(args.seed)
            seqs = [rng.randrange(count) for _ in range(args.seeks)]
            page.evaluate(SEEK_JS, seqs[:10])  # warm up
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            before = _metrics(cdp)
            times = sorted(page.evaluate(SEEK_JS, seqs))
            after = _metrics(cdp)
    work = {name: (after[name] - before[name]) * 1000 / len(seqs)
            for name in ("TaskDuration", "ScriptDuration", "LayoutDuration",
                         "RecalcStyleDuration")}
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    print(f"stream            {args.html or args.stream} ({count:,} events)")
    took = "exported before" if args.html is not None else f"in {export_s:.2f} s"
    print(f"export            {size / 1e6:.2f} MB ({size:,} bytes) {took}")
    print(f"time to interactive  median {statistics.median(ready):.0f} ms "
          f"(runs: {', '.join(f'{r:.0f}' for r in ready)})")
    print(f"seek ({len(times)} random seqs, input event to next frame)  "
          f"median {statistics.median(times):.1f} ms  p95 {p95:.1f} ms  max {times[-1]:.1f} ms")
    print(f"main thread per seek  tasks {work['TaskDuration']:.1f} ms  (script "
          f"{work['ScriptDuration']:.1f}, layout {work['LayoutDuration']:.1f}, style "
          f"{work['RecalcStyleDuration']:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
