"""The one owner of the process's garbage-collector switch (``gc.enable``/``disable``/``freeze``).

The collector is process-wide state shared by the application and every library in
it, so nothing in l0core or l0tui flips it directly; both ask here instead:

- the library's decode loops hold a short pause (:func:`paused`): a million fresh
  objects otherwise trigger collections that cost more than the parse itself;
- the TUI holds the collector off while a big stream is on screen
  (:func:`hold` / :func:`release`, see ``l0tui/heap.py``), and may freeze what
  is alive after a load (:func:`freeze`).

The rule: the first hold remembers whether the application had the collector on,
every hold keeps it off, and only the last release puts back what the
application had (and unfreezes). So a decode on another thread can neither turn
the collector back on under the TUI, nor leave it off after everyone is done,
and a collector the application switched off stays off. Holds are counted, not
owned, and are thread-safe. An application that changes the collector itself
while l0core holds it should do so through :func:`hold` and :func:`release` too.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.RLock()  # re-entrant: a finalizer run by a collection may pause too
_holds = 0
_app_had_it_enabled = True  # what the last release restores
_frozen = False


def hold() -> None:
    """Keep the automatic collector off until the matching :func:`release`."""
    global _holds, _app_had_it_enabled
    with _lock:
        if _holds == 0:
            _app_had_it_enabled = gc.isenabled()
        _holds += 1
        gc.disable()


def release() -> None:
    """Give back one :func:`hold`; the last one restores what the application had."""
    global _holds, _frozen
    with _lock:
        if _holds <= 0:
            raise RuntimeError("gcpolicy.release() without a matching hold()")
        _holds -= 1
        if _holds:
            return
        if _frozen:
            gc.unfreeze()
            _frozen = False
        if _app_had_it_enabled:
            gc.enable()


def held() -> bool:
    """Whether anything holds the collector off right now."""
    return _holds > 0


def freeze() -> None:
    """Collect once, then move every object still alive out of the collector's sight.

    Only while held (the caller's hold keeps it frozen); the last :func:`release`
    unfreezes. Worth it after a big load whose objects live as long as the screen
    showing them: full collections no longer walk them again and again.
    """
    global _frozen
    with _lock:
        if _holds == 0:
            raise RuntimeError("gcpolicy.freeze() outside a hold()")
        gc.collect()
        gc.freeze()
        _frozen = True


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the ``with`` block (nesting- and thread-safe)."""
    hold()
    try:
        yield
    finally:
        release()
