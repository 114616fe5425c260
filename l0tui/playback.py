"""Playback: which seq should be on screen now, given a clock, a speed and a pacing.

The :class:`Player` holds no timer and never sleeps. A screen ticks it (a Textual
interval in the app, a direct call in tests) and the player answers the seq to show
from the clock's time. Tests inject a fake clock and advance it by hand, so playback
is exact and instant to test.

Two pacings: ``recorded`` follows the recorded ``ts`` of the events (times the
speed); ``uniform`` shows :data:`UNIFORM_EVENTS_PER_SECOND` events per second (times
the speed), for streams whose timing is not worth watching.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, Protocol

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""The playback speeds, doubling from 0.25x to 64x."""

UNIFORM_EVENTS_PER_SECOND = 20.0
"""Events per second at 1x in uniform pacing."""

Pacing = Literal["recorded", "uniform"]
Clock = Callable[[], float]
"""Returns seconds on a monotonic scale (``time.monotonic`` by default)."""


class TimedStream(Protocol):
    """What the player needs from a timeline."""

    @property
    def last_seq(self) -> int: ...

    def relative_ms(self, seq: int) -> float: ...


def format_speed(speed: float) -> str:
    """``0.25x``, ``1x``, ``64x``."""
    return f"{speed:g}x"


class Player:
    """Computes the seq to show from clock time; start, pause, speed and pacing.

    ``tick()`` returns the seq that should be on screen now (or None when not playing)
    and stops by itself at the last seq loaded.
    """

    def __init__(self, clock: Clock | None = None, *, speed: float = 1.0,
                 pacing: Pacing = "recorded") -> None:
        self.clock: Clock = clock or time.monotonic
        self.speed = speed if speed in SPEEDS else 1.0
        self.pacing: Pacing = pacing
        self.playing = False
        self.at_end = False
        self._timeline: TimedStream | None = None
        self._anchor_wall = 0.0
        self._anchor_seq = 0
        self._anchor_pos = 0.0
        self._last_seq = 0

    # ── controls ──

    def play(self, timeline: TimedStream, from_seq: int) -> None:
        """Start playing ``timeline`` from ``from_seq`` (from 0 when already at the end)."""
        if timeline.last_seq < 0:
            return
        if from_seq >= timeline.last_seq:
            from_seq = 0
        self._timeline = timeline
        self.playing = True
        self.at_end = False
        self._anchor_at_seq(from_seq)

    def pause(self) -> None:
        self.playing = False

    def seek(self, seq: int) -> None:
        """The user moved the cursor while playing: carry on from there."""
        if self.playing:
            self._anchor_at_seq(seq)

    def faster(self) -> float:
        return self._set_speed(min(len(SPEEDS) - 1, SPEEDS.index(self.speed) + 1))

    def slower(self) -> float:
        return self._set_speed(max(0, SPEEDS.index(self.speed) - 1))

    def toggle_pacing(self) -> Pacing:
        seq = self._last_seq
        if self.playing:
            seq = self.target_seq(self.clock())
        self.pacing = "uniform" if self.pacing == "recorded" else "recorded"
        if self.playing:
            self._anchor_at_seq(seq)
        return self.pacing

    # ── the clock ──

    def tick(self) -> int | None:
        """The seq to show now, or None when not playing. Pauses at the last seq."""
        if not self.playing or self._timeline is None:
            return None
        target = self.target_seq(self.clock())
        last = self._timeline.last_seq
        if target >= last:
            target = last
            self.playing = False
            self.at_end = True
        self._last_seq = target
        return target

    def _position(self, now: float) -> float:
        """Stream time (ms, recorded) or fractional seq (uniform) at clock time ``now``."""
        elapsed = max(0.0, now - self._anchor_wall) * self.speed
        if self.pacing == "uniform":
            return self._anchor_pos + elapsed * UNIFORM_EVENTS_PER_SECOND
        return self._anchor_pos + elapsed * 1000.0

    def target_seq(self, now: float) -> int:
        """The seq whose time has come at clock time ``now`` (never before the anchor)."""
        assert self._timeline is not None
        tl = self._timeline
        position = self._position(now)
        if self.pacing == "uniform":
            return int(position + 1e-9)
        # The last seq with relative_ms <= position (timestamps never go backwards in
        # a sane recording; a backwards one is simply shown a little early).
        lo, hi = self._anchor_seq, tl.last_seq
        if tl.relative_ms(hi) <= position:
            return hi
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if tl.relative_ms(mid) <= position + 1e-9:
                lo = mid
            else:
                hi = mid - 1
        return lo

    # ── internals ──

    def _set_speed(self, index: int) -> float:
        if self.playing:
            now = self.clock()
            self._anchor_pos = self._position(now)
            self._anchor_wall = now
        self.speed = SPEEDS[index]
        return self.speed

    def _anchor_at_seq(self, seq: int) -> None:
        self._anchor_wall = self.clock()
        self._anchor_seq = max(0, seq)
        self._last_seq = self._anchor_seq
        if self.pacing == "uniform":
            self._anchor_pos = float(self._anchor_seq)
        elif self._timeline is not None and self._timeline.last_seq >= 0:
            self._anchor_pos = self._timeline.relative_ms(
                min(self._anchor_seq, self._timeline.last_seq))
