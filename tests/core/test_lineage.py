"""Attempt lineage, per-attempt timing and the attempt's visible text."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l0core.codec import decode_envelope, loads
from l0core.events import (
    CompleteEvent,
    ContinuationEvent,
    RecordedEvent,
    SerializedOptions,
    TokenEvent,
)
from l0core.timeline import Timeline, attempt_lineage
from l0core.timeline.lineage import lineage_rows, model_names
from l0core.timeline.timing import PERCENTILES, percentile
from tests.core.strategies import batch_bounds, envelopes, runs

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DEMO = Path(__file__).resolve().parents[2] / "demo_streams"


def _demo(name: str) -> Timeline:
    lines = (DEMO / f"{name}.jsonl").read_bytes().splitlines()
    envs = [decode_envelope(loads(line)) for line in lines if line.strip()]
    return Timeline(envs[0].stream_id, envs)


def _timeline(evs: list[RecordedEvent], bounds: list[tuple[int, int]]) -> Timeline:
    envs = envelopes(evs)
    tl = Timeline("s1")
    for lo, hi in bounds:
        tl.extend(envs[lo:hi])
    return tl


def test_lineage_of_the_fallback_demo_names_the_model_and_the_backoff() -> None:
    tl = _demo("04-fallback-after-two-failures")
    one, two, three = attempt_lineage(tl)
    assert (one.started_by, one.model, one.outcome) == ("start", "gpt-4o", "retried")
    assert one.reason is not None and one.reason.startswith("server_error: 503")
    assert (two.started_by, two.trigger_seq, two.counts_toward_limit) == ("retry", 24, False)
    assert two.token_count == 0 and two.backoff_ms is None and two.outcome == "fell_back"
    assert (three.started_by, three.fallback_index, three.model) == (
        "fallback", 1, "llama-3.1-70b-instruct")
    assert three.describe_start() == "fallback #1 → llama-3.1-70b-instruct"
    assert three.failure_seq == 25 and three.first_token_seq == 26
    assert three.backoff_ms == tl.ts(26) - tl.ts(25)
    assert (three.outcome, three.end_event_seq, three.token_count) == ("completed", 123, 93)
    assert lineage_rows([three])[0]["model"] == "llama-3.1-70b-instruct"


def test_lineage_of_a_continuation_says_what_it_carried_over() -> None:
    tl = _demo("02-network-retry-continuation")
    first, second = attempt_lineage(tl)
    assert second.started_by == "retry" and second.retry_reason is not None
    assert second.continuation_seq == 99
    cont = tl.envelope(99).event
    assert isinstance(cont, ContinuationEvent)
    assert second.carried_over == cont.checkpoint
    assert second.carried_from == (1,)
    assert first.carried_over == "" and first.carried_from == ()
    assert second.backoff_ms == tl.ts(second.first_token_seq or 0) - tl.ts(98)


def test_lineage_of_an_error_ending() -> None:
    *_, last = attempt_lineage(_demo("06-error-zero-tokens"))
    assert last.outcome == "errored" and last.end_event_seq is not None
    assert last.token_count == 0 and last.first_token_seq is None


def test_model_names_from_the_start_options() -> None:
    opts = SerializedOptions(model="a", metadata={"fallbackModels": ["b", "c"]})
    assert model_names(opts) == {0: "a", 1: "b", 2: "c"}
    assert model_names(SerializedOptions(extra={"models": ["x", "y"]})) == {0: "x", 1: "y"}
    assert model_names(SerializedOptions()) == {}


@SETTINGS
@given(runs(), st.data())
def test_lineage_agrees_with_the_attempts(evs: list[RecordedEvent], data: st.DataObject) -> None:
    tl = _timeline(evs, data.draw(batch_bounds(len(evs))))
    lineage = attempt_lineage(tl)
    attempts = tl.attempts()
    assert [(x.number, x.start_seq, x.end_seq, x.token_count, x.outcome, x.carried_over)
            for x in lineage] == [(a.number, a.start_seq, a.end_seq, a.token_count,
                                   a.outcome, a.resumed_from) for a in attempts]
    for x in lineage:
        assert (x.trigger_seq is None) == (x.number == 1)
        if x.first_token_seq is not None:
            assert isinstance(evs[x.first_token_seq], TokenEvent)
            assert x.start_seq <= x.first_token_seq <= x.end_seq
        if x.carried_over:
            assert x.continuation_seq is not None
            cont = evs[x.continuation_seq]
            assert isinstance(cont, ContinuationEvent) and cont.checkpoint == x.carried_over
            assert all(n < x.number for n in x.carried_from)
        assert tl.attempt_number(x.start_seq) == tl.attempt_number(x.end_seq) == x.number


@SETTINGS
@given(runs(), st.data())
def test_visible_text_is_the_attempts_checkpoint_plus_its_tokens(
    evs: list[RecordedEvent], data: st.DataObject
) -> None:
    """The attempts' texts, each its checkpoint plus its tokens so far, are what the
    fold's content ends with; after COMPLETE the visible text is the final content."""
    tl = _timeline(evs, data.draw(batch_bounds(len(evs))))
    completed = False
    for seq, ev in enumerate(evs):
        completed = completed or isinstance(ev, CompleteEvent)
        a = tl.attempt_at(seq)
        shown = tl.content_at(seq, tl.visible_start(seq))
        content = tl.content_at(seq)
        assert content.endswith(shown)
        if completed:
            assert shown == content
        else:
            span = evs[a.start_seq : seq + 1]
            own = "".join(e.value for e in span if isinstance(e, TokenEvent))
            # the checkpoint counts from the CONTINUATION on, not before it
            resumed = [e.checkpoint for e in span if isinstance(e, ContinuationEvent)]
            assert shown == (resumed[-1] if resumed else "") + own
            if resumed:
                assert resumed[-1] == a.resumed_from


@SETTINGS
@given(runs(), st.data())
def test_attempt_timings_match_a_scan(evs: list[RecordedEvent], data: st.DataObject) -> None:
    tl = _timeline(evs, data.draw(batch_bounds(len(evs))))
    timings = tl.attempt_timings(stall_ms=2000.0)
    attempts = tl.attempts()
    assert [(t.attempt, t.start_seq, t.end_seq, t.tokens) for t in timings] == [
        (a.number, a.start_seq, a.end_seq, a.token_count) for a in attempts]
    for t in timings:
        stamps = [e.ts for e in evs[t.start_seq : t.end_seq + 1] if isinstance(e, TokenEvent)]
        gaps = sorted(b - a for a, b in itertools.pairwise(stamps))
        assert t.first_token_ms == (stamps[0] - evs[t.start_seq].ts if stamps else None)
        assert t.gap_percentiles == {q: percentile(gaps, q) for q in PERCENTILES}
        assert t.max_gap_ms == (max(gaps) if gaps else 0.0)
        if len(stamps) > 1 and stamps[-1] > stamps[0]:
            rate = (len(stamps) - 1) * 1000.0 / (stamps[-1] - stamps[0])
            assert t.tokens_per_s == pytest.approx(rate)
        for s, gap in t.stalls:
            assert t.start_seq <= s - 1 <= t.end_seq and gap >= 2000.0
    assert sorted(s for t in timings for s in t.stalls) == tl.timing(2000.0).stalls


@SETTINGS
@given(runs(), st.integers(1, 30))
def test_gap_buckets_match_a_scan(evs: list[RecordedEvent], buckets: int) -> None:
    tl = _timeline(evs, [(0, len(evs))])
    stamps = sorted(e.ts for e in evs if isinstance(e, TokenEvent))
    t0, t1 = evs[0].ts, evs[-1].ts
    width = (t1 - t0) / buckets
    expect = [0.0] * buckets
    for prev, cur in itertools.pairwise(stamps):
        # bucket b holds the stamps below its upper edge t0 + (b + 1) * width
        b = 0 if width <= 0 else next(
            (b for b in range(buckets - 1) if cur < t0 + (b + 1) * width), buckets - 1)
        expect[b] = max(expect[b], cur - prev)
    assert tl.gap_buckets(buckets) == expect


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) == 0.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == 5.0
