"""The clock a paced replay waits on: the real one, or one a test moves by sleeping.

``speed=`` replays the recorded gaps between chunks, for code whose behaviour
depends on them (timeouts, stall detection). A test of that code passes a
:class:`ReplayClock` to the replay and to the code: each sleep returns at once
and moves the clock, so a 30-second stall takes no time and the test never
measures real time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Pacer(Protocol):
    """What a paced replay needs: the time, and a way to wait (sync and async)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def async_sleep(self, seconds: float) -> None: ...


class RealClock:
    """``time.monotonic``, ``time.sleep`` and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ReplayClock:
    """A clock that moves only when something sleeps on it; ``sleeps`` lists each wait."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # still let other tasks run, as a real sleep would
