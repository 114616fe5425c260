"""The TUI on a 1M-event stream: first paint, scrub latency, resident memory.

    .venv/bin/python benchmarks/bench_tui.py [--events 1000000] [--seeks 1000] [--rounds 3]

Writes a synthetic stream (``benchmarks/synthetic.py``) to a JSONL file store in a
temporary directory, opens it read-only and runs the app headless through Pilot at
120x40:

- first paint: from starting the app to the first frame that shows events (the
  debugger is usable from then on while the rest loads in a worker);
- full load: until every event is indexed;
- first paint: ``DebuggerScreen.first_paint_at``, set by a callback that runs after
  the refresh that first shows events;
- scrub step: 1,000 random seeks, repeated ``--rounds`` times; each is the time to
  move the cursor and update every pane (``goto``) plus the time the screen then
  spends in layout and in the compositor rendering the changed regions (timed
  around ``_refresh_layout`` and ``_compositor_refresh``). Waiting for the next
  frame tick (at most 1/60 s) and writing to the terminal are not included. The
  table gives each round's p50/p95 and their medians;
- garbage collection: the debugger turns the automatic collector off once the
  stream is loaded and collects between frames (``l0tui/heap.py``). Every
  collection during the seeks is timed, wherever it ran, and reported per seek, so
  the work moved out of the frames is still on the table;
- provenance: the content view's text cursor at random seqs; one arrow-key move
  (the character's provenance looked up, the cursor drawn, the pane repainted), the
  lookup alone, and the scrub step while the text cursor is on (it then cuts every
  line of the pane, not only the tail);
- resident memory of the process after the load (the stream itself included);
- machine: p95/p50 of a fixed pure-Python loop, timed before the app starts, so a
  reader can tell how much of the scrub tail is the machine's own jitter.

Targets: first paint <= 2 s, scrub step p95 <= 16 ms, memory <= 400 MB. No
assertions: the table reports, the reader judges.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RenderTimer, median_of, percentile, rss_mb, table
from benchmarks.synthetic import make_stream
from l0core.codec import encode_envelope_line
from l0tui.app import L0TuiApp, open_store_readonly
from l0tui.screens.debugger import DebuggerScreen


def write_stream(directory: Path, n: int) -> None:
    envelopes = make_stream(n, stream_id="bench")
    with open(directory / "bench.jsonl", "wb") as fh:
        for i in range(0, len(envelopes), 50_000):
            fh.write(b"".join(encode_envelope_line(e) for e in envelopes[i:i + 50_000]))
    del envelopes
    gc.collect()


async def measure(directory: Path, seeks: int, rounds: int) -> dict[str, Any]:
    store = await open_store_readonly(str(directory))
    rss_before = rss_mb()
    app = L0TuiApp(store, stream_id="bench")
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        while not (isinstance(screen, DebuggerScreen) and screen.loaded):
            await pilot.pause(0.01)
            screen = app.screen
        out["full load (s)"] = time.perf_counter() - t0
        painted = screen.first_paint_at
        out["first paint (s)"] = (painted - t0) if painted is not None else float("nan")
        out["events"] = float(len(screen.timeline))
        gc.collect()
        out["RSS after load (MB)"] = rss_mb()
        out["RSS before app (MB)"] = rss_before

        rng = random.Random(1)
        last = screen.timeline.last_seq
        render = RenderTimer(screen)
        pauses: list[float] = []
        started: list[float] = []

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                started.append(time.perf_counter())
            elif started:
                pauses.append((time.perf_counter() - started.pop()) * 1000)

        gc.callbacks.append(on_gc)
        p50s: list[float] = []
        p95s: list[float] = []
        for round_ in range(rounds):
            handler: list[float] = []
            frame: list[float] = []
            total: list[float] = []
            for _ in range(seeks):
                seq = rng.randint(0, last)
                render.spent = 0.0
                t = time.perf_counter()
                screen.goto(seq)
                t_handler = (time.perf_counter() - t) * 1000
                await pilot.pause()  # deliver the refresh messages (may already paint)
                screen._on_timer_update()  # paint whatever is still dirty, now
                handler.append(t_handler)
                frame.append(render.spent * 1000)
                total.append(t_handler + render.spent * 1000)
            p50s.append(median_of(total))
            p95s.append(percentile(total, 95))
            out[f"round {round_ + 1}: scrub step p50 / p95 (ms)"] = (
                f"{p50s[-1]:.1f} / {p95s[-1]:.1f}")
            if round_ == 0:
                out["goto: panes updated p50 / p95 (ms)"] = (
                    f"{median_of(handler):.2f} / {percentile(handler, 95):.2f}")
                out["frame: layout+render p50 / p95 (ms)"] = (
                    f"{median_of(frame):.2f} / {percentile(frame, 95):.2f}")
        gc.callbacks.remove(on_gc)
        out["scrub step p50 (ms), median of rounds"] = median_of(p50s)
        out["scrub step p95 (ms), median of rounds"] = median_of(p95s)
        n = rounds * seeks
        out["GC: collections per seek"] = len(pauses) / n
        out["GC: ms per seek"] = sum(pauses) / n
        out["GC: longest pause (ms)"] = max(pauses, default=0.0)
        render.restore()

        keys: list[float] = []
        for _ in range(200):
            t = time.perf_counter()
            await pilot.press("j")
            keys.append((time.perf_counter() - t) * 1000)
        out["key 'j' via Pilot p50 (ms)"] = median_of(keys)
        out["key 'j' via Pilot p95 (ms)"] = percentile(keys, 95)
        out.update(await measure_provenance(screen, pilot, rng, min(seeks, 200)))
        out["RSS at end (MB)"] = rss_mb()
    await store.close()
    return out


async def measure_provenance(screen: DebuggerScreen, pilot: Any, rng: random.Random,
                             moves: int) -> dict[str, Any]:
    """The text cursor at random seqs: one arrow-key move (the provenance lookup, the
    cursor drawn, the pane repainted) and the scrub step while the text cursor is on."""
    view = screen.content_view
    view.focus()
    await pilot.pause()
    render = RenderTimer(screen)
    last = screen.timeline.last_seq
    move: list[float] = []
    lookup: list[float] = []
    scrub: list[float] = []
    for _ in range(moves):
        seq = rng.randint(0, last)
        render.spent = 0.0
        t = time.perf_counter()
        screen.goto(seq)
        t_handler = (time.perf_counter() - t) * 1000
        await pilot.pause()
        screen._on_timer_update()
        scrub.append(t_handler + render.spent * 1000)
        if view.text_cursor is None:
            view.action_move_text(-1, 0)  # the first key puts the cursor on the end
        render.spent = 0.0
        t = time.perf_counter()
        view.action_move_text(-1, 0)
        t_move = (time.perf_counter() - t) * 1000
        await pilot.pause()
        screen._on_timer_update()
        move.append(t_move + render.spent * 1000)
        if view.text_cursor is not None:
            t = time.perf_counter()
            screen.timeline.provenance(seq, view.text_cursor)
            lookup.append((time.perf_counter() - t) * 1000)
    render.restore()
    return {
        "provenance move p50 / p95 (ms)": f"{median_of(move):.2f} / {percentile(move, 95):.2f}",
        "provenance move p95 (ms)": percentile(move, 95),
        "provenance lookup p95 (ms)": percentile(lookup, 95) if lookup else float("nan"),
        "scrub step with text cursor p95 (ms)": percentile(scrub, 95),
    }


def machine_jitter(samples: int = 500) -> float:
    """p95/p50 of a fixed pure-Python loop timed ``samples`` times: how much this
    machine alone spreads a constant amount of work (1.0 would be a quiet machine)."""
    def work() -> int:
        total = 0
        for i in range(40_000):
            total += i * i
        return total

    times = []
    for _ in range(samples):
        t = time.perf_counter()
        work()
        times.append(time.perf_counter() - t)
    return percentile(times, 95) / median_of(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seeks", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="l0tui-bench-"))
    try:
        t = time.perf_counter()
        write_stream(directory, args.events)
        print(f"wrote {args.events:,} events in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        jitter = machine_jitter()
        results = asyncio.run(measure(directory, args.seeks, args.rounds))
        results["machine: p95/p50 of a fixed loop"] = jitter
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    targets = {"first paint (s)": "<= 2", "scrub step p95 (ms), median of rounds": "<= 16",
               "provenance move p95 (ms)": "<= 16",
               "RSS after load (MB)": "<= 400"}
    print(table(["measure", "value", "target"],
                [[k, v, targets.get(k, "")] for k, v in results.items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
