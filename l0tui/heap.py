"""Keep garbage collection out of the frames while a big stream is on screen.

Two costs, measured with a 1M-event stream open (``benchmarks/bench_tui.py``):

- CPython's full collections walk every live object. Once a stream is loaded its
  index and the widgets showing it live as long as their screen, yet each full
  collection walked them again: 16–25 ms on the benchmark machine, longer than a
  frame. ``gc.freeze()`` moves what is alive after the load out of the collector's
  sight.
- Drawing a frame allocates a few thousand small objects (Textual builds several
  strips, each with its own caches, per line), so the automatic collector ran a
  young collection or two inside nearly every frame and an older one every few
  frames, and those pauses made the slowest frames twice as slow as the typical one.

Most of that garbage is cyclic (Textual's strips cache themselves), so reference
counting never frees it and the collector has real work to do. While a settled
screen is open the automatic collector is off and the screen calls
:func:`collect_between_frames` from a timer instead: the young generations are
collected every :data:`COLLECT_SECONDS` once enough was allocated (a few ms,
between frames rather than inside one), and everything that is not frozen once the
user has stopped moving for :data:`IDLE_SECONDS`, or after :data:`FULL_FORCE` young
collections whatever happens, so nothing piles up. :func:`release` puts the
collector back as it was.

The switch itself belongs to :mod:`l0core.gcpolicy`, which the library's decode
loops use too: this module takes a hold there, and counts its own screens only to
know whether collections between frames are its job.
"""

from __future__ import annotations

import gc

from l0core import gcpolicy

COLLECT_SECONDS = 0.1
"""How often a settled screen offers to collect."""

MIDDLE_EVERY = 10
"""Every this many youngest-generation collections, collect the middle one too (as
CPython does): what the youngest kept alive for a few frames usually dies there."""

FULL_AFTER = 10
"""Middle-generation collections before a full one is worth running."""

IDLE_SECONDS = 0.5
"""A full collection waits until the cursor has been still this long..."""

FULL_FORCE = 40
"""... or until this many middle-generation collections have run."""

_holders = 0  # screens that called settle(); each also holds l0core.gcpolicy
_youngest = 0  # youngest-generation collections since the last middle one
_middle = 0  # middle-generation collections since the last full one


def settle() -> None:
    """Collect once, freeze what survives and turn the automatic collector off until
    the matching :func:`release` (call when a big load has finished)."""
    global _holders, _youngest, _middle
    gcpolicy.hold()
    _holders += 1
    gcpolicy.freeze()
    _youngest = _middle = 0


def release() -> None:
    """Undo one :func:`settle`; the last one out gives the collector back (it is on
    again once no decode holds it either) and collects what the screens left."""
    global _holders
    if _holders <= 0:
        return
    _holders -= 1
    gcpolicy.release()
    if _holders == 0:
        gc.collect()


def settled() -> bool:
    """Whether some screen holds the automatic collector off."""
    return _holders > 0


def holders() -> int:
    """How many screens hold the automatic collector off."""
    return _holders


def collect_between_frames(idle: float) -> int:
    """Run the collection that is due, if any; ``idle``: seconds since the cursor moved.

    Returns the generation collected, or -1 when nothing was due. Cheap to call
    often: it does nothing until enough objects were allocated.
    """
    global _youngest, _middle
    if _holders == 0:
        return -1
    if _middle >= FULL_AFTER and (idle >= IDLE_SECONDS or _middle >= FULL_FORCE):
        gc.collect(2)
        _youngest = _middle = 0
        return 2
    if gc.get_count()[0] < gc.get_threshold()[0]:
        return -1
    _youngest += 1
    if _youngest >= MIDDLE_EVERY:
        gc.collect(1)
        _youngest = 0
        _middle += 1
        return 1
    gc.collect(0)
    return 0
