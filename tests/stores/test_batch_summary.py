"""The batch shortcuts the SQL stores use give exactly what ``advance_summary`` gives."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from l0core.catalog.summary import StreamSummary, advance_summary, final_content, summarize_wire
from l0core.codec import encode_event
from l0core.events import RecordedEvent
from l0core.stores.batch_summary import BatchDelta, advance, compose
from l0core.stores.catalog_text import content_from_batch
from tests.core.strategies import event_lists, runs


def _wire(events: list[RecordedEvent]) -> list[dict[str, Any]]:
    return [encode_event(e) for e in events]


def _chunks(data: st.DataObject, n: int) -> list[tuple[int, int]]:
    cuts = sorted(set(data.draw(st.lists(st.integers(0, n), max_size=6))))
    edges = [0, *cuts, n]
    return [(a, b) for a, b in pairwise(edges) if b > a]


@settings(max_examples=200, deadline=None)
@given(events=st.one_of(runs(), event_lists(max_size=30)), data=st.data())
def test_advance_and_compose_equal_the_fold(events: list[RecordedEvent],
                                            data: st.DataObject) -> None:
    wire = _wire(events)
    want = summarize_wire("s", wire)
    fast = StreamSummary(stream_id="s")
    composed: StreamSummary | None = None
    for lo, hi in _chunks(data, len(wire)):
        advance(fast, wire[lo:hi])
        composed = compose(composed, BatchDelta.of("s", wire[lo:hi]))
    if wire:
        assert fast == want
        assert composed == want


@settings(max_examples=200, deadline=None)
@given(events=st.one_of(runs(), event_lists(max_size=30)), data=st.data())
def test_content_from_a_batch_is_the_final_content_when_it_decides_it(
        events: list[RecordedEvent], data: st.DataObject) -> None:
    wire = _wire(events)
    cut = data.draw(st.integers(0, len(wire)))
    alone = content_from_batch(wire[cut:])
    if alone is not None:
        assert alone == final_content(wire)


def test_token_only_batches_take_the_shortcut_and_agree() -> None:
    wire = [{"type": "TOKEN", "ts": 10.0 + i, "value": "x", "index": i} for i in range(5)]
    start = summarize_wire("s", [{"type": "START", "ts": 1.0, "options": {"model": "m"}}])
    fast, slow = start.copy(), start.copy()
    advance(fast, wire)
    advance_summary(slow, wire)
    assert fast == slow and fast.duration_ms == 13.0
