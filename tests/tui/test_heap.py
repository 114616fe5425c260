"""The collector policy of l0tui/heap.py: off inside frames, run between them, restored."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

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
    """Enough new tracked objects (kept alive) for the youngest collection to be due."""
    keep.append([[i] for i in range(gc.get_threshold()[0] + 1)])


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

    assert 2 not in run(heap.MIDDLE_EVERY * heap.FULL_AFTER)  # the cursor is moving
    assert heap.collect_between_frames(idle=heap.IDLE_SECONDS) == 2  # it stopped
    gens = run(heap.MIDDLE_EVERY * heap.FULL_FORCE + 1)
    assert gens.count(2) == 1 and gens[-1] == 2  # overdue: runs even while it moves


def test_nothing_runs_unless_settled() -> None:
    assert heap.collect_between_frames(idle=10.0) == -1


async def test_the_debugger_holds_the_collector_off_while_it_is_open(
    store: InMemoryEventStore,
) -> None:
    app = L0TuiApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert gc.isenabled()  # the browser: nothing settled
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DebuggerScreen) and app.screen.loaded
        assert heap.settled() and not gc.isenabled()
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, DebuggerScreen)
        assert not heap.settled() and gc.isenabled()
        await pilot.press("enter")
        await settle(pilot)
        assert heap.settled()
    assert not heap.settled() and gc.isenabled()  # quitting the app released it too
