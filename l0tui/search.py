"""The debugger's search: what was asked, the seqs that matched, and walking through them.

Kept apart from the screen (and from Textual) so that the rules (``re:`` for a
regular expression, wrapping around at either end, the ``3/7`` position) are plain
code with plain tests. The matching itself is :meth:`l0core.timeline.Timeline.search`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from l0core.timeline import Timeline

REGEX_PREFIX = "re:"
"""A query starting with this is a regular expression (the rest of it)."""


class StreamSearch:
    """The last query run over a timeline and the seqs it matched (ascending, no repeats)."""

    def __init__(self) -> None:
        self.text = ""
        self.matches: list[int] = []

    def run(self, timeline: Timeline, text: str) -> None:
        """Search ``timeline`` for ``text``; an empty text clears the search.

        Raises ``ValueError`` for a bad regular expression; the query is kept (the
        title still shows it) and nothing matches.
        """
        self.text = text
        self.matches = []
        if not text:
            return
        regex = text.startswith(REGEX_PREFIX)
        pattern = text[len(REGEX_PREFIX):] if regex else text
        self.matches = timeline.search(pattern, regex=regex)

    def position(self, cursor: int) -> int:
        """How many matches are at or before ``cursor`` (the 3 of ``3/7``)."""
        return bisect_right(self.matches, cursor)

    def target(self, cursor: int, direction: int, *, inclusive: bool = False) -> int | None:
        """The match to move to from ``cursor``: the next one (``direction > 0``; the
        cursor's own seq counts when ``inclusive``) or the previous one, wrapping
        around at either end; None when nothing matched."""
        matches = self.matches
        if not matches:
            return None
        if direction > 0:
            i = (bisect_left if inclusive else bisect_right)(matches, cursor)
            return matches[i] if i < len(matches) else matches[0]
        i = bisect_left(matches, cursor)
        return matches[i - 1] if i > 0 else matches[-1]
