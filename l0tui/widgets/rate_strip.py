"""The rate strip: tokens per time bucket as a sparkline, with the first token and stalls.

Top row: one bar per time bucket (``▁``..``█``), the cursor's bucket reversed.
Bottom row: ``T`` under the bucket of the first token, ``!`` under each stall (a gap
between tokens over the stall threshold), and a summary on the right.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from l0core.timeline import Timeline, Timing
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
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rate-strip--bars", "rate-strip--cursor", "rate-strip--marks",
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
        self.timing: Timing | None = None

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
        self._bars = sparkline(list(tl.rate_buckets(width)))
        self.timing = tl.timing(stall_ms=STALL_MS)
        marks = [" "] * width
        for seq, _gap in self.timing.stalls:
            marks[self._bucket_of_ms(tl.relative_ms(seq), width)] = "!"
        if self.timing.time_to_first_token_ms is not None:
            marks[self._bucket_of_ms(self.timing.time_to_first_token_ms, width)] = "T"
        summary = f" {timing_summary(self.timing)} "
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
            if cursor_cell < 0:
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
