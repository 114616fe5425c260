"""The minimap: the most important event kind in each cell of a seq range.

The scrubber asks for a row of cells on every redraw, over the whole stream or a
zoomed window, so a cell cannot scan its seqs. Two shortcuts answer it: a cell
with few landmarks (non-TOKEN events) takes the maximum over their ranks, found
by bisect; a cell with many uses a pyramid of block maxima (level k holds the
maximum rank of each block of 64 entries of level k-1), so any range costs
O(64 log n) byte comparisons. The pyramid grows with each batch the timeline
indexes, rebuilding only the blocks the batch touched.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

from l0core.events import RecordedEventType
from l0core.timeline.ranks import IMPORTANCE, TOKEN_RANK

BLOCK = 64
"""Fan-out of the pyramid: entries per block of the level below."""


class Minimap:
    """Block-maximum pyramid over a timeline's per-seq ranks.

    It holds the timeline's own arrays (``ranks``, one byte per seq, and the
    landmarks' seqs and ranks), which the timeline extends in place; call
    :meth:`extend` after each batch.
    """

    __slots__ = ("_lm_rank", "_lm_seq", "_pyramid", "_ranks")

    def __init__(
        self, ranks: bytearray, landmark_seqs: array[int], landmark_ranks: bytearray
    ) -> None:
        self._ranks = ranks
        self._lm_seq = landmark_seqs
        self._lm_rank = landmark_ranks
        self._pyramid: list[bytearray] = [ranks]  # level 0 is the ranks themselves

    def extend(self, start: int) -> None:
        """Bring the pyramid up to date after the ranks grew from seq ``start``."""
        pyramid = self._pyramid
        level, lo = 0, start
        while len(pyramid[level]) > BLOCK:
            below = pyramid[level]
            if level + 1 == len(pyramid):
                pyramid.append(bytearray())
            above = pyramid[level + 1]
            first = lo // BLOCK
            del above[first:]
            above.extend(
                max(below[j * BLOCK : (j + 1) * BLOCK])
                for j in range(first, (len(below) + BLOCK - 1) // BLOCK)
            )
            level, lo = level + 1, first

    def _range_max(self, level: int, lo: int, hi: int) -> int:
        """Maximum rank over ``[lo, hi)`` of pyramid ``level`` (hi > lo)."""
        data = self._pyramid[level]
        if hi - lo <= 2 * BLOCK or level + 1 >= len(self._pyramid):
            return max(data[lo:hi])
        first = -(-lo // BLOCK)
        last = hi // BLOCK
        best = -1
        if lo < first * BLOCK:
            best = max(data[lo : first * BLOCK])
        if last * BLOCK < hi:
            best = max(best, max(data[last * BLOCK : hi]))
        if first < last:
            best = max(best, self._range_max(level + 1, first, last))
        return best

    def cells(self, cells: int, start: int, stop: int | None) -> list[RecordedEventType | None]:
        """See :meth:`l0core.timeline.Timeline.minimap`."""
        if cells <= 0:
            return []
        stop = len(self._ranks) if stop is None else min(stop, len(self._ranks))
        start = max(0, start)
        n = max(0, stop - start)
        lm = self._lm_seq
        lm_rank = self._lm_rank
        out: list[RecordedEventType | None] = []
        lo = start
        for i in range(cells):
            hi = start + (i + 1) * n // cells
            if hi <= lo:
                out.append(None)
                continue
            a = bisect_left(lm, lo)
            b = bisect_left(lm, hi, a)
            if a == b:
                rank = TOKEN_RANK
            elif b - a <= 4 * BLOCK:
                rank = max(lm_rank[a:b])
            else:
                rank = self._range_max(0, lo, hi)
            out.append(IMPORTANCE[rank])
            lo = hi
        return out
