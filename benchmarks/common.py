"""Shared helpers for the benchmarks: timing, medians, resident memory, ratio tables.

Benchmarks report medians and ratios against the anchor measured in the same run;
they never assert on time (this machine is noisy).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def median_of(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return median_of(samples)


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc)."""
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table (Markdown-compatible) for the closing notes."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class RenderTimer:
    """Adds up the time the screen spends in layout and compositor refreshes."""

    def __init__(self, screen: Any) -> None:
        self.screen = screen
        self.spent = 0.0
        self._layout = screen._refresh_layout
        self._refresh = screen._compositor_refresh
        screen._refresh_layout = self._wrap(self._layout)  # type: ignore[method-assign]
        screen._compositor_refresh = self._wrap(self._refresh)  # type: ignore[method-assign]

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - t

        return timed

    def restore(self) -> None:
        self.screen._refresh_layout = self._layout  # type: ignore[method-assign]
        self.screen._compositor_refresh = self._refresh  # type: ignore[method-assign]
