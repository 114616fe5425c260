"""l0core.gcpolicy: holds of the collector are counted, and only the last one restores."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from l0core import gcpolicy


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    assert not gcpolicy.held() and gc.isenabled()
    yield
    while gcpolicy.held():  # a failed test must not leave the collector off for the rest
        gcpolicy.release()
    gc.enable()


def test_nested_holds_restore_on_the_last_release() -> None:
    with gcpolicy.paused():
        assert not gc.isenabled()
        with gcpolicy.paused():
            assert not gc.isenabled()
        assert gcpolicy.held() and not gc.isenabled()
    assert not gcpolicy.held() and gc.isenabled()


def test_a_collector_the_application_turned_off_stays_off() -> None:
    gc.disable()
    with gcpolicy.paused():
        pass
    assert not gc.isenabled()


def test_an_exception_inside_a_pause_still_restores() -> None:
    with pytest.raises(ZeroDivisionError), gcpolicy.paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_release_without_hold_and_freeze_outside_a_hold_are_errors() -> None:
    with pytest.raises(RuntimeError):
        gcpolicy.release()
    with pytest.raises(RuntimeError):
        gcpolicy.freeze()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_freeze_lasts_until_the_last_release() -> None:
    gcpolicy.hold()
    gcpolicy.freeze()
    assert gc.get_freeze_count() > 0
    with gcpolicy.paused():
        pass
    assert gc.get_freeze_count() > 0 and not gc.isenabled()
    gcpolicy.release()
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_pauses_on_many_threads_leave_the_collector_as_it_was() -> None:
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait(timeout=10)
        for _ in range(200):
            with gcpolicy.paused():
                assert not gc.isenabled()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not gcpolicy.held() and gc.isenabled()
