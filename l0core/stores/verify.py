"""The result of checking a store's files or tables: one line per stream.

Store-independent, so ``l0tui verify STORE [--repair]`` prints the same report for
the file store and SQLite. A store's ``verify(repair=...)`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

StreamStatus = Literal["ok", "torn_tail", "corrupt", "legacy", "damaged"]
"""``damaged``: every event reads, but the stored seqs are not ``0..n-1`` (:class:`SeqDamage`)."""


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


@dataclass(slots=True, frozen=True)
class SeqDamage:
    """Where a stream's stored seqs differ from ``0..n-1``.

    Stores without a unique ``(stream_id, seq)`` (the spec's example layouts) let
    racing writers store one seq twice, and deletes or expiry leave holes. Such a
    stream still reads: its events come in a fixed order and are numbered by their
    position (``docs/format.md`` gives each store's order); this says what was found.
    """

    stream_id: str
    events: int
    duplicates: tuple[tuple[int, int], ...] = ()
    """(stored seq, how many events carry it), for each seq stored more than once."""
    missing: tuple[tuple[int, int], ...] = ()
    """(first, last) of each run of seqs below the highest that no event carries."""
    other_stream: int = 0
    """Envelopes whose own ``streamId`` names another stream."""
    unnumbered: int = 0
    """Events stored without a usable seq (NULL, negative, not a number)."""

    def __bool__(self) -> bool:
        return bool(self.duplicates or self.missing or self.other_stream or self.unnumbered)

    def describe(self) -> str:
        """One line, e.g. ``seq 3 stored 2 times; seqs 7-8 missing``."""
        parts: list[str] = []
        dups = [f"seq {s} stored {n} times" for s, n in self.duplicates[:5]]
        if len(self.duplicates) > 5:
            dups.append(f"{len(self.duplicates) - 5} more seqs stored twice or more")
        parts.extend(dups)
        gaps = [f"seq {lo} missing" if lo == hi else f"seqs {lo}-{hi} missing"
                for lo, hi in self.missing[:5]]
        if len(self.missing) > 5:
            gaps.append(f"{len(self.missing) - 5} more gaps")
        parts.extend(gaps)
        if self.other_stream:
            parts.append(f"{self.other_stream} envelope(s) name another stream")
        if self.unnumbered:
            parts.append(f"{self.unnumbered} event(s) without a seq")
        text = "; ".join(parts) or "seqs 0..n-1 as expected"
        return f"{text} (read in stored order, numbered 0..{self.events - 1})" if self else text

    def check(self, path: str) -> StreamCheck:
        """This damage as a ``verify`` line."""
        if not self:
            return StreamCheck(self.stream_id, path, "ok", self.events)
        return StreamCheck(self.stream_id, path, "damaged", self.events, self.describe())


def seq_damage_of(
    stream_id: str, stored: list[int | None], *, other_stream: int = 0
) -> SeqDamage:
    """The damage in ``stored`` (each event's stored seq, in read order)."""
    counts: dict[int, int] = {}
    unnumbered = 0
    for seq in stored:
        if seq is None or seq < 0:
            unnumbered += 1
        else:
            counts[seq] = counts.get(seq, 0) + 1
    return damage_from_counts(stream_id, counts, other_stream=other_stream,
                              unnumbered=unnumbered)


def damage_from_counts(
    stream_id: str, counts: dict[int, int], *, other_stream: int = 0, unnumbered: int = 0
) -> SeqDamage:
    """The damage given how many events carry each stored seq."""
    dups = tuple((s, n) for s, n in sorted(counts.items()) if n > 1)
    missing: list[tuple[int, int]] = []
    expect = 0
    for seq in sorted(counts):
        if seq > expect:
            missing.append((expect, seq - 1))
        expect = seq + 1
    return SeqDamage(stream_id, sum(counts.values()) + unnumbered, dups, tuple(missing),
                     other_stream, unnumbered)
