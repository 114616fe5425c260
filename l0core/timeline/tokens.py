"""TOKEN events kept as columns rather than as objects.

A decoded TOKEN is two Python objects (envelope and event); a million of them
would cost hundreds of megabytes for what is a float, an int and a short string.
The timeline keeps every seq's ``ts`` in one float64 array and, for a TOKEN, its
``index`` in an int64 column and a flag byte saying how to give the ``ts`` back
exactly; the text is a slice of a content version (:mod:`.content`). A TOKEN
whose values a column cannot hold exactly (a NaN or non-number ``ts``, an int
``ts`` beyond 2**53, an ``index`` that is not an int64) keeps its envelope
as it was. :meth:`TokenColumns.envelope` rebuilds an envelope equal to the one
indexed.
"""

from __future__ import annotations

from array import array

from l0core.events import EventEnvelope, TokenEvent

TS_FLOAT = 0
"""The ts was a float (the float64 array holds it exactly)."""
TS_INT = 1
"""The ts was an int that a float64 holds exactly: given back with ``int()``."""
TS_KEPT = 2
"""Anything else: the envelope is kept in :attr:`TokenColumns.kept`."""
EXACT_INT = 2**53
"""Ints within ``±EXACT_INT`` survive a round trip through a float64."""


class TokenColumns:
    """Per-seq flag and index of the TOKEN events, and the envelopes kept as-is.

    ``flags`` and ``index`` have one entry per seq (0 for other kinds); the
    timeline appends to them while it indexes a batch.
    """

    __slots__ = ("flags", "index", "kept")

    def __init__(self) -> None:
        self.flags = bytearray()
        self.index = array("q")
        self.kept: dict[int, EventEnvelope] = {}

    def envelope(self, stream_id: str, seq: int, ts: float, value: str) -> EventEnvelope:
        """The TOKEN envelope at ``seq``, given its ``ts`` array entry and its text."""
        flag = self.flags[seq]
        if flag:
            if flag == TS_KEPT:
                return self.kept[seq]
            ts = int(ts)
        return EventEnvelope(stream_id, seq, TokenEvent(ts=ts, value=value,
                                                        index=self.index[seq]))
