"""The rate strip: tokens per time bucket as a sparkline, with the first token and stalls.

Top row: one bar per time bucket (``▁``..``█``), the cursor's bucket reversed.
Bottom row: ``T`` under the bucket of the first token, ``!`` under each stall (a gap
between tokens over the stall threshold), and a summary on the right.

The gap view (:meth:`RateStrip.toggle_gaps`, ``w`` in the debugger) draws instead the
longest wait between two tokens in each bucket, on a log scale; buckets whose wait
reaches the p95 gap are drawn as warnings, stalls as errors, and the summary says
which bar heights p50 and p95 are.
"""

from __future__ import annotations

import math
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from l0core.timeline import Timeline, Timing
from l0tui.display.formatting import format_duration
from l0tui.widgets.lines import StyleCache

BARS = " ▁▂▃▄▅▆▇█"
STALL_MS = 2000.0


def sparkline(values: list[int]) -> str:
    """``values`` as bar characters scaled to the largest (blank for zero)."""
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    out = []
    for v in values:
        if v <= 0:
            out.append(" ")
        else:
            out.append(BARS[max(1, round(v / top * (len(BARS) - 1)))])
    return "".join(out)


def log_level(value: float, top: float) -> int:
    """The bar (0..8) for ``value`` on a log scale up to ``top`` (0 only for 0)."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, min(len(BARS) - 1, round(math.log1p(value) / math.log1p(top)
                                            * (len(BARS) - 1))))


def gap_sparkline(gaps: list[float]) -> str:
    top = max(gaps, default=0.0)
    return "".join(BARS[log_level(g, top)] for g in gaps)


def timing_summary(timing: Timing) -> str:
    ttft = timing.time_to_first_token_ms
    bits = ["ttft " + ("—" if ttft is None else f"{ttft / 1000:.2f}s")]
    bits.append(f"p95 gap {timing.p95_gap_ms:.0f}ms")
    bits.append(f"{len(timing.stalls)} stall{'s' if len(timing.stalls) != 1 else ''}")
    return " · ".join(bits)


class RateStrip(StyleCache, Widget):
    """Token rate over time for one stream.

    Public API: :meth:`set_timeline`, :meth:`timeline_grew`, the ``cursor`` reactive
    (seq), and :attr:`timing` (the last :class:`~l0core.timeline.Timing` computed).
    """

    HELP = """\
## Rate strip

Tokens per time bucket over the whole stream. **T** marks the time to first token,
**!** marks stalls (no token for 2 s or more). The reversed bar is the cursor's time.
**w** switches to the gaps between tokens (log scale): yellow bars reach the p95 gap,
red ones are stalls; the summary shows the p50 and p95 bar heights.
"""

    DEFAULT_CSS = """
    RateStrip {
        height: 2;
    }
    RateStrip > .rate-strip--bars {
        color: $success;
    }
    RateStrip > .rate-strip--cursor {
        text-style: reverse;
    }
    RateStrip > .rate-strip--marks {
        color: $warning;
        text-style: bold;
    }
    RateStrip > .rate-strip--slow {
        color: $warning;
    }
    RateStrip > .rate-strip--stall {
        color: $error;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rate-strip--bars", "rate-strip--cursor", "rate-strip--marks",
        "rate-strip--slow", "rate-strip--stall",
    }

    # repaint=False: watch_cursor repaints just the row that changed
    cursor: reactive[int] = reactive(0, init=False, repaint=False)

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._timeline: Timeline | None = None
        self._key: tuple[int, int] = (-1, -1)
        self._bars = ""
        self._marks = ""
        self._heat = ""  # per cell in the gap view: " " normal, "s" slow (>= p95), "!" stall
        self.timing: Timing | None = None
        self.show_gaps = False
        """Draw the inter-token gaps instead of the token rate."""

    def toggle_gaps(self) -> None:
        """Switch between the token rate and the inter-token gap view."""
        self.show_gaps = not self.show_gaps
        self.timeline_grew()

    def set_timeline(self, timeline: Timeline) -> None:
        self._timeline = timeline
        self.timeline_grew()

    def timeline_grew(self) -> None:
        self._key = (-1, -1)
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        # Only the bars row shows the cursor, and only if it moved to another bucket.
        width = self.size.width
        if width > 0 and self._cursor_cell(old, width) != self._cursor_cell(new, width):
            self.refresh(Region(0, 0, width, 1))

    def _cursor_cell(self, seq: int, width: int) -> int:
        tl = self._timeline
        if tl is None or len(tl) == 0:
            return -1
        return self._bucket_of_ms(tl.relative_ms(min(max(0, seq), tl.last_seq)), width)

    def _duration(self) -> float:
        tl = self._timeline
        if tl is None or len(tl) == 0:
            return 0.0
        return tl.relative_ms(tl.last_seq)

    def _bucket_of_ms(self, ms: float, width: int) -> int:
        duration = self._duration()
        if duration <= 0:
            return 0
        return max(0, min(width - 1, int(ms / duration * width)))

    def _compute(self, width: int) -> None:
        tl = self._timeline
        key = (width, len(tl) if tl is not None else 0)
        if key == self._key:
            return
        self._key = key
        if tl is None or len(tl) == 0 or width <= 0:
            self._bars = " " * max(0, width)
            self._marks = ""
            self.timing = None
            return
        self.timing = tl.timing(stall_ms=STALL_MS)
        self._heat = ""
        if self.show_gaps:
            gaps = tl.gap_buckets(width)
            self._bars = gap_sparkline(gaps)
            p95 = self.timing.p95_gap_ms
            self._heat = "".join("!" if g >= STALL_MS else ("s" if p95 > 0 and g >= p95
                                                            else " ") for g in gaps)
        else:
            self._bars = sparkline(list(tl.rate_buckets(width)))
        marks = [" "] * width
        for seq, _gap in self.timing.stalls:
            marks[self._bucket_of_ms(tl.relative_ms(seq), width)] = "!"
        if self.timing.time_to_first_token_ms is not None:
            marks[self._bucket_of_ms(self.timing.time_to_first_token_ms, width)] = "T"
        summary = f" {timing_summary(self.timing)} "
        if self.show_gaps:
            summary = f" {gap_summary(self.timing, tl.gap_buckets(width))} "
        if len(summary) + 4 < width:
            # the summary goes in the rightmost gap wide enough for it; marks are never
            # hidden by it
            n = len(summary)
            start = next((i for i in range(width - n, -1, -1)
                          if all(m == " " for m in marks[i:i + n])), width - n)
            line = [" "] * width
            line[start:start + len(summary)] = list(summary)
            marks = [m if m != " " else c for m, c in zip(marks, line, strict=True)]
        self._marks = "".join(marks)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.base_style
        if width <= 0:
            return Strip.blank(0)
        self._compute(width)
        if y == 0:
            cursor_cell = self._cursor_cell(self.cursor, width)
            bars = base + self.component("rate-strip--bars")
            cursor = self.component("rate-strip--cursor")
            segs: list[Segment] = []
            if self._heat:
                segs = self._heat_segments(bars, cursor_cell)
            elif cursor_cell < 0:
                segs.append(Segment(self._bars, bars))
            else:
                segs.append(Segment(self._bars[:cursor_cell], bars))
                ch = self._bars[cursor_cell] if cursor_cell < len(self._bars) else " "
                segs.append(Segment(ch if ch != " " else "▏", bars + cursor))
                segs.append(Segment(self._bars[cursor_cell + 1:], bars))
            # every character here is one cell wide: tell the Strip, skip measuring
            return Strip(segs, len(self._bars)).crop_extend(0, width, base)
        if y == 1:
            style = base + self.component("rate-strip--marks")
            marks = self._marks.ljust(width)[:width]
            return Strip([Segment(marks, style)], width)
        return Strip.blank(width, base)

    def _heat_segments(self, bars: Style, cursor_cell: int) -> list[Segment]:
        """The gap view's bars: runs of one heat, the cursor's cell reversed."""
        styles = {" ": bars, "s": bars + self.component("rate-strip--slow"),
                  "!": bars + self.component("rate-strip--stall")}
        cursor = self.component("rate-strip--cursor")
        segs: list[Segment] = []
        i = 0
        n = len(self._bars)
        while i < n:
            if i == cursor_cell:
                ch = self._bars[i] if self._bars[i] != " " else "▏"
                segs.append(Segment(ch, styles[self._heat[i]] + cursor))
                i += 1
                continue
            j = i
            while j < n and self._heat[j] == self._heat[i] and j != cursor_cell:
                j += 1
            segs.append(Segment(self._bars[i:j], styles[self._heat[i]]))
            i = j
        return segs


def gap_summary(timing: Timing, gaps: list[float]) -> str:
    """``gaps · p50 39ms ▂ · p95 78ms ▄ · max 6.0s``: the percentiles and their bar."""
    top = max(gaps, default=0.0)
    p50, p95 = timing.median_gap_ms, timing.p95_gap_ms
    return (f"gaps · p50 {format_duration(p50, compact=True)} {BARS[log_level(p50, top)]}"
            f" · p95 {format_duration(p95, compact=True)} {BARS[log_level(p95, top)]}"
            f" · max {format_duration(timing.max_gap_ms, compact=True)}"
            f" · {len(timing.stalls)} stall{'s' if len(timing.stalls) != 1 else ''}")
