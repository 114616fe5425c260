"""The collector policy of l0tui/heap.py: off inside frames, run between them, restored."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import SupportsIndex

import orjson
import pytest

from l0core import gcpolicy
from l0core.stores.jsonl import decode_block
from l0core.stores.memory import InMemoryEventStore
from l0tui import heap
from l0tui.app import L0TuiApp
from l0tui.screens.debugger import DebuggerScreen
from tests.tui.conftest import settle


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    assert not heap.settled() and gc.isenabled()
    yield
    while heap.settled():  # a failed test must not leave the collector off for the rest
        heap.release()
    while gcpolicy.held():
        gcpolicy.release()
    gc.enable()


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def _cyclic_garbage() -> weakref.ref[_Node]:
    node = _Node()
    return weakref.ref(node)


def test_settle_freezes_and_turns_the_collector_off_until_the_last_release() -> None:
    heap.settle()
    assert not gc.isenabled() and gc.get_freeze_count() > 0
    heap.settle()  # a second screen
    heap.release()
    assert heap.settled() and not gc.isenabled()
    heap.release()
    assert not heap.settled() and gc.isenabled() and gc.get_freeze_count() == 0
    heap.release()  # one too many: ignored
    assert gc.isenabled()


def test_a_settled_collector_is_left_off_when_it_was_off_before() -> None:
    gc.disable()
    heap.settle()
    heap.release()
    assert not gc.isenabled()


def _allocate(keep: list[object]) -> None:
    """Enough new tracked objects (kept alive) for the youngest collection to be due:
    twice the threshold, because objects that other threads free meanwhile (threads
    earlier tests left behind, on a loaded machine) take the count down again."""
    keep.append([[i] for i in range(2 * gc.get_threshold()[0])])


def test_collections_between_frames_free_cyclic_garbage() -> None:
    heap.settle()
    assert heap.collect_between_frames(idle=0.0) == -1  # nothing allocated yet
    ref = _cyclic_garbage()
    keep: list[object] = []
    gens = []
    for _ in range(heap.MIDDLE_EVERY):
        _allocate(keep)
        gens.append(heap.collect_between_frames(idle=0.0))
    assert gens == [0] * (heap.MIDDLE_EVERY - 1) + [1]
    assert ref() is None


def test_a_full_collection_waits_for_the_user_to_stop_unless_it_is_overdue() -> None:
    heap.settle()
    keep: list[object] = []

    def run(times: int, idle: float = 0.0) -> list[int]:
        out = []
        for _ in range(times):
            _allocate(keep)
            out.append(heap.collect_between_frames(idle=idle))
        return out

    moving = run(heap.MIDDLE_EVERY * heap.FULL_AFTER)
    assert 2 not in moving and -1 not in moving  # the cursor is moving
    assert heap.collect_between_frames(idle=heap.IDLE_SECONDS) == 2  # it stopped
    gens = run(heap.MIDDLE_EVERY * heap.FULL_FORCE + 1)
    assert gens.count(2) == 1 and gens[-1] == 2  # overdue: runs even while it moves


def test_nothing_runs_unless_settled() -> None:
    assert heap.collect_between_frames(idle=10.0) == -1


async def test_the_browser_and_the_debugger_hold_the_collector_off_while_open(
    store: InMemoryEventStore,
) -> None:
    """The browser settles once its first rows are shown (the store's index and client
    live as long as it does); a debugger over it holds too, until it is closed."""
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert heap.holders() == 1 and not gc.isenabled()  # the browser
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DebuggerScreen) and app.screen.loaded
        assert heap.holders() == 2 and not gc.isenabled()
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, DebuggerScreen)
        assert heap.holders() == 1 and not gc.isenabled()
        await pilot.press("enter")
        await settle(pilot)
        assert heap.holders() == 2
    assert not heap.settled() and gc.isenabled()  # quitting the app released both


# ── the screen's hold and the library's decode pause share one owner ──


class _BlockingLines(list[bytes]):
    """JSONL lines whose second line is handed out only once ``proceed`` is set, so a
    decode can be caught in the middle of its block (inside its collector pause)."""

    def __init__(self, lines: list[bytes]) -> None:
        super().__init__(lines)
        self.entered = threading.Event()
        self.proceed = threading.Event()

    def __getitem__(self, index: SupportsIndex | slice) -> bytes:  # type: ignore[override]
        if index == 1:
            self.entered.set()
            assert self.proceed.wait(timeout=10)
        return super().__getitem__(index)  # type: ignore[return-value]


def _token_lines(n: int) -> list[bytes]:
    return [orjson.dumps({"streamId": "s", "seq": i,
                          "event": {"type": "TOKEN", "ts": 1, "value": f"t{i}", "index": i}})
            for i in range(n)]


def _decode_on_a_thread(lines: list[bytes]) -> threading.Thread:
    def run() -> None:
        decode_block(lines, stream_id="s", first_seq=0, base_offset=0, path="s.jsonl",
                     final_at_eof=True)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@contextmanager
def _decode_in_flight() -> Iterator[None]:
    """A file-store decode on another thread, inside its collector pause for the block."""
    lines = _BlockingLines(_token_lines(5))
    thread = _decode_on_a_thread(lines)
    try:
        assert lines.entered.wait(timeout=10)
        yield
    finally:
        lines.proceed.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_decode_on_another_thread_does_not_turn_a_settled_collector_back_on() -> None:
    heap.settle()
    _decode_on_a_thread(_token_lines(100)).join(timeout=10)
    assert heap.settled() and not gc.isenabled()
    heap.release()
    assert gc.isenabled()


def test_a_screen_that_settles_during_a_decode_keeps_the_collector_off_after_it() -> None:
    with _decode_in_flight():
        assert not gc.isenabled()  # the decode's pause
        heap.settle()
    assert heap.settled() and not gc.isenabled()  # the decode ended; the screen still holds
    heap.release()
    assert gc.isenabled()  # and the last holder gave it back


def test_a_screen_released_during_a_decode_leaves_it_to_the_decode_to_restore() -> None:
    heap.settle()
    with _decode_in_flight():
        heap.release()
        assert not gc.isenabled()  # the decode still holds it
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_collector_the_app_turned_off_stays_off_through_screen_and_decode() -> None:
    gc.disable()
    with _decode_in_flight():
        heap.settle()
    heap.release()
    assert not gc.isenabled()
