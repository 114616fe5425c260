"""What the SQLite writer knows about the streams of its open transaction.

One group commit runs many requests in one transaction, each in a savepoint. Per
stream, the writer remembers the last seq and the summary as they are inside the
transaction, so the ``streams`` and ``summaries`` rows are read once and written
once per group, not per request; and, while no other connection writes, from one
transaction to the next. A request that fails is rolled back to its
savepoint; :meth:`GroupState.undo` rolls this memory back with it, from a journal
of what the request changed (cheaper than copying every map per request).
"""

from __future__ import annotations

from typing import Any

from l0core.catalog.summary import StreamSummary

_MISSING = object()


class GroupState:
    """Per-stream state of the writer's open transaction (writer thread only)."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}
        """Last seq per stream touched."""
        self.summary: dict[str, StreamSummary | None] = {}
        """The stream's summary now (None: it has none). Replaced, never mutated."""
        self.stored: dict[str, tuple[Any, ...] | None] = {}
        """The stream's summary row as the group first read it (None: it had none)."""
        self.dirty: dict[str, None] = {}
        """Streams whose ``streams`` and ``summaries`` rows the group end writes."""
        self.moved: dict[str, None] = {}
        """Dirty streams whose ``summaries`` row may have to be written (the others only
        moved on with TOKENs while running: their ``streams`` row holds all that changed)."""
        self.content: dict[str, str] = {}
        """Searchable final content to write at the group end."""
        self.counts: dict[str, int] = {"dropped": 0}
        """Summary rows deleted."""
        self._journal: list[tuple[dict[Any, Any], Any, Any]] = []

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        old = table.get(key, _MISSING)
        if old is not value:
            self._journal.append((table, key, old))
            table[key] = value

    def remove(self, table: dict[Any, Any], key: Any) -> None:
        if key in table:
            self._journal.append((table, key, table[key]))
            del table[key]

    def add(self, counter: str, n: int = 1) -> None:
        self.put(self.counts, counter, self.counts[counter] + n)

    def mark(self) -> int:
        """A point to :meth:`undo` back to (taken before each request)."""
        return len(self._journal)

    def undo(self, mark: int) -> None:
        journal = self._journal
        while len(journal) > mark:
            table, key, old = journal.pop()
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old

    def clear(self) -> None:
        """Forget everything: a new transaction starts."""
        self.last.clear()
        self.summary.clear()
        self.stored.clear()
        self.dirty.clear()
        self.moved.clear()
        self.content.clear()
        self.counts["dropped"] = 0
        self._journal.clear()

    def begin(self) -> None:
        """A new transaction (or its rows were written): nothing is pending; what is
        known of each stream stays."""
        if self.dirty:
            self.dirty.clear()
            self.moved.clear()
        if self.content:
            self.content.clear()
        self.counts["dropped"] = 0
        self._journal.clear()
