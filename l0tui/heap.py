"""Keep the garbage collector off a loaded stream while the user scrubs it.

A loaded stream and the widgets showing it live as long as their screen. CPython's
full collections still walk every one of those objects each time: on this project's
benchmark machine one took 16–25 ms with a 1M-event stream open, longer than a
whole frame, and they land at random while scrubbing. ``gc.freeze()`` moves the
objects alive at that moment out of the collector's sight; collections then only
walk what was created since. The screen that froze the heap thaws it when it goes
away, so what it held can be collected again.
"""

from __future__ import annotations

import gc

_holders = 0


def settle() -> None:
    """Collect once, then freeze what survives (call when a big load has finished)."""
    global _holders
    _holders += 1
    gc.collect()
    gc.freeze()


def release() -> None:
    """Undo one :func:`settle`; the last one out hands the objects back to the collector."""
    global _holders
    if _holders <= 0:
        return
    _holders -= 1
    if _holders == 0:
        gc.unfreeze()
