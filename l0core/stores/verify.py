"""The result of checking a store's files or tables: one line per stream.

Store-independent, so ``l0tui verify STORE [--repair]`` prints the same report for
the file store and SQLite. A store's ``verify(repair=...)`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

StreamStatus = Literal["ok", "torn_tail", "corrupt", "legacy"]


@dataclass(slots=True, frozen=True)
class StreamCheck:
    """The state of one stream as found on disk."""

    stream_id: str
    path: str
    status: StreamStatus
    events: int
    """Events that read back intact (before a corrupt line, if any)."""
    detail: str = ""
    offset: int | None = None
    """Byte offset of the damage (torn tail start or bad line), when there is one."""
    repaired: bool = False
    """True when ``verify(repair=True)`` cut a torn tail off."""

    @property
    def healthy(self) -> bool:
        return self.status in ("ok", "legacy") or self.repaired

    def describe(self) -> str:
        where = f" at byte {self.offset}" if self.offset is not None else ""
        text = f"{self.stream_id}: {self.status}{where}, {self.events} events"
        if self.detail:
            text += f" ({self.detail})"
        if self.repaired:
            text += " [repaired]"
        return text


@dataclass(slots=True)
class VerifyReport:
    """Every stream's check, plus problems that belong to no stream (stray files)."""

    store: str
    streams: list[StreamCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.healthy for check in self.streams)

    def problems(self) -> list[StreamCheck]:
        return [check for check in self.streams if not check.healthy]

    def summary(self) -> str:
        bad = self.problems()
        head = (f"{self.store}: {len(self.streams)} streams, "
                + ("all intact" if not bad else f"{len(bad)} damaged"))
        return "\n".join([head, *(c.describe() for c in self.streams), *self.notes])
