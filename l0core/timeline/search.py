"""Text search over a timeline: literal or regex, case-sensitive or not, per scope.

A keystroke-speed search on a million-event stream cannot run a regex per token:
these functions search the content texts (one per content version) and map match
offsets back to seqs with bisect over the change arrays; payloads are searched
as compact UTF-8 JSON. :class:`~l0core.timeline.Timeline.search` documents the
scopes and calls them.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable

SEARCH_SCOPES = ("token", "content", "payload", "all")


def search_tokens(
    matcher: Matcher, text: str, use_find: bool, base_len: int,
    seqs: array[int], lengths: array[int], lo: int, hi: int, out: set[int],
) -> None:
    """Add to ``out`` the tokens of one content version where a match starts.

    ``text, use_find`` come from :meth:`Matcher.haystack`; the version's change
    entries are ``seqs[lo:hi]`` / ``lengths[lo:hi]``; its first ``base_len``
    characters came from the event that started it, not from tokens.
    """
    pos = base_len
    while pos < len(text):
        span = matcher.search(text, pos, use_find)
        if span is None or span[0] >= len(text):
            break  # (an empty match at the very end belongs to no token)
        k = bisect_right(lengths, span[0], lo, hi)  # the token holding the start
        out.add(seqs[k])
        pos = lengths[k]


def search_content(
    matcher: Matcher, text: str, use_find: bool,
    seqs: array[int], lengths: array[int], lo: int, hi: int, out: set[int],
) -> None:
    """Add to ``out`` the seqs at which a match is first complete in this version."""
    # a literal's matches all have one length (also lower-cased: offsets are kept)
    fixed = len(matcher.literal) if matcher.literal is not None else None
    pos = 0
    while pos <= len(text):
        span = matcher.search(text, pos, use_find)
        if span is None:
            break
        k = bisect_left(lengths, max(span[1], 1), lo, hi)
        pos = span[0] + 1
        if k < hi:
            out.add(seqs[k])
            if fixed is not None:
                # a literal's later matches end later: skip those ending in lengths[k]
                pos = max(pos, lengths[k] - fixed + 1)


def search_payloads(matcher: Matcher, payloads: Iterable[tuple[int, bytes]]) -> list[int]:
    """Seqs whose UTF-8 JSON payload matches."""
    out = []
    raw_needle = matcher.raw_needle
    for seq, payload in payloads:
        if raw_needle is not None and payload.isascii():
            hit = raw_needle in (payload if matcher.case_sensitive else payload.lower())
        elif matcher.literal is None:
            hit = matcher.search(payload.decode(), 0, False) is not None
        else:
            text = payload.decode()
            low = text.lower() if matcher.lowered_literal else text
            hit = (matcher.literal in low if len(low) == len(text)
                   else matcher.search(text, 0, False) is not None)
        if hit:
            out.append(seq)
    return out


class Matcher:
    """Find a literal or a regex from a position, by the fastest exact method.

    A case-sensitive literal uses ``str.find``; a case-insensitive literal uses
    ``str.find`` on the lower-cased text when lower-casing keeps offsets (it
    nearly always does), else ``re.IGNORECASE`` like a regex. ``raw_needle`` is
    the UTF-8 needle for ASCII payloads (lower-cased when case does not matter,
    which is exact on ASCII text).
    """

    __slots__ = ("case_sensitive", "compiled", "literal", "lowered_literal", "raw_needle")

    def __init__(self, pattern: str, *, regex: bool, case_sensitive: bool) -> None:
        flags = 0 if case_sensitive else re.IGNORECASE
        try:
            self.compiled = re.compile(pattern if regex else re.escape(pattern), flags)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        self.case_sensitive = case_sensitive
        self.literal: str | None = None
        self.lowered_literal = False
        if not regex:
            if case_sensitive:
                self.literal = pattern
            elif len(pattern.lower()) == len(pattern):
                self.literal = pattern.lower()
                self.lowered_literal = True
        self.raw_needle: bytes | None = None
        if not regex and pattern.isascii():
            self.raw_needle = (pattern if case_sensitive else pattern.lower()).encode()

    def haystack(self, text: str, lowered: Callable[[], str | None]) -> tuple[str, bool]:
        """The text to search (same offsets as ``text``), and whether ``find`` applies.

        ``lowered`` gives ``text`` lower-cased, or None when that moves offsets.
        """
        if self.literal is None:
            return text, False
        if not self.lowered_literal:
            return text, True
        low = lowered()
        return (low, True) if low is not None else (text, False)

    def search(self, text: str, pos: int, use_find: bool) -> tuple[int, int] | None:
        """``(start, end)`` of the leftmost match starting at or after ``pos``."""
        if use_find and self.literal is not None:
            i = text.find(self.literal, pos)
            return None if i < 0 else (i, i + len(self.literal))
        m = self.compiled.search(text, pos)
        return None if m is None else m.span()
