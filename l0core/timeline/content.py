"""Content versions: how the timeline keeps the fold's ``content`` at every seq.

Between two events that replace the content (CONTINUATION, COMPLETE) the content
only grows by tokens, so each such stretch is one :class:`ContentVersion`: a base
string plus the tokens appended since. The timeline records, per content change,
its seq and the content length after it; the content at seq N is then a prefix
of one version, and a token's text is a slice between two lengths. Memory grows
with the events, never with events x content length.
"""

from __future__ import annotations


class ContentVersion:
    """One content buffer: a base string plus the tokens appended to it since."""

    __slots__ = ("base_len", "lowered", "parts", "text")

    def __init__(self, base: str) -> None:
        self.text = base
        self.base_len = len(base)
        self.parts: list[str] = []
        self.lowered: str | None = None

    def full(self) -> str:
        """The whole text, joining the tokens appended since the last call."""
        parts = self.parts
        if parts:
            n = len(parts)  # parts appended meanwhile stay for the next call
            self.text = self.text + "".join(parts[:n])
            del parts[:n]
            self.lowered = None
        return self.text

    def compact(self) -> None:
        """Join the pending tokens into the text once they would cost more than it.

        The pending strings are the decoded events' own (~60 bytes each, scattered
        between objects already freed); joining them whenever their count reaches
        1/64 of the text's length keeps them few and copies each character O(1)
        times on average, whatever the batch size.
        """
        if len(self.parts) * 64 >= len(self.text):
            self.full()

    def lower(self) -> str | None:
        """The text lower-cased, if that keeps every character's offset (else None).

        Made on the first case-insensitive literal search and kept until the text
        grows: one more copy of the content buys a ~20x faster search.
        """
        text = self.full()
        if self.lowered is None:
            low = text.lower()
            self.lowered = low if len(low) == len(text) else ""
        return self.lowered if len(self.lowered) == len(text) else None
