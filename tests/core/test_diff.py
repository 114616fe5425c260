"""Stream diff on hand-written pairs of runs, plus invariants on random pairs."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l0core.diff import StreamDiff, diff_timelines
from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    EventEnvelope,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    StartEvent,
    TokenEvent,
)
from l0core.timeline import Timeline
from tests.core.strategies import envelopes, event_lists, runs


def _run(spec: list[str | RecordedEvent], *, t0: float = 1_000.0, step: float = 10.0,
         stream_id: str = "s") -> Timeline:
    """A timeline from a compact spec: "S" START, "R" RETRY, "C" COMPLETE, text = TOKEN."""
    evs: list[RecordedEvent] = []
    content: list[str] = []
    index = 0
    ts = t0
    for item in spec:
        ts += step
        if isinstance(item, str) and item == "S":
            evs.append(StartEvent(ts=ts))
        elif isinstance(item, str) and item == "R":
            evs.append(RetryEvent(ts=ts, reason="guardrail_violation", attempt=1,
                                  counts_toward_limit=True))
            content, index = [], 0
        elif isinstance(item, str) and item == "C":
            evs.append(CompleteEvent(ts=ts, content="".join(content), token_count=index))
        elif isinstance(item, str):
            evs.append(TokenEvent(ts=ts, value=item, index=index))
            content.append(item)
            index += 1
        else:
            evs.append(item)
    return Timeline(stream_id, envelopes(evs, stream_id))


def _check_pairs(d: StreamDiff, a: Timeline, b: Timeline) -> None:
    """Every seq appears exactly once per side, in increasing order."""
    a_side = [p[0] for p in d.pairs if p[0] is not None]
    b_side = [p[1] for p in d.pairs if p[1] is not None]
    assert a_side == list(range(len(a)))
    assert b_side == list(range(len(b)))


TEXT = ["S", "The", " cat", " sat", " on", " the", " mat", "C"]


@pytest.mark.parametrize("align", ["content", "landmarks", "seq"])
def test_identical_runs_recorded_at_different_times_have_no_differences(align: str) -> None:
    a = _run(TEXT)
    b = _run(TEXT, t0=99_000.0, step=25.0)
    d = diff_timelines(a, b, align=align)
    assert d.identical
    assert d.differences == []
    assert d.first_divergence is None
    assert d.pairs == [(i, i) for i in range(len(TEXT))]
    by_name = {delta.name: delta for delta in d.summary}
    assert not by_name["tokens"].differs and by_name["tokens"].a == 6
    assert by_name["duration_ms"].differs  # recorded at a different pace
    assert (by_name["duration_ms"].a, by_name["duration_ms"].b) == (70.0, 175.0)
    assert by_name["status"].a == "completed"


@pytest.mark.parametrize("align", ["content", "landmarks", "seq"])
def test_a_single_changed_token_is_found_at_its_seq_on_both_sides(align: str) -> None:
    a = _run(["S", "The", " cat", " sat", " on", " the", " mat", "C"])
    b = _run(["S", "The", " cat", " sat", " in", " the", " mat", "C"])
    d = diff_timelines(a, b, align=align)
    assert not d.identical
    first = d.first_divergence
    assert first is not None
    assert (first.kind, first.a_seq, first.b_seq) == ("token", 4, 4)
    assert "' on'" in first.description and "' in'" in first.description
    kinds = [(x.kind, x.a_seq, x.b_seq) for x in d.differences]
    # the token, then COMPLETE's payload (its content differs), then the final state
    assert kinds[:2] == [("token", 4, 4), ("event", 7, 7)]
    assert {k for k, _, _ in kinds[2:]} == {"state"}
    assert d.pairs == [(i, i) for i in range(8)]
    assert d.counterpart("a", 4) == 4
    assert d.next_difference("a", 0) is first
    assert d.previous_difference("b", 4) is None
    assert d.difference_at("b", 4) is first
    assert d.difference_at("b", 3) is None


def test_an_extra_retry_aligns_the_common_suffix() -> None:
    good = ["S", "The", " cat", " sat", " on", " the", " mat", "C"]
    bad = ["S", "A", " dog", "R", "The", " cat", " sat", " on", " the", " mat", "C"]
    a, b = _run(good), _run(bad)
    d = diff_timelines(a, b)
    _check_pairs(d, a, b)
    # START pairs, B's failed attempt and its RETRY are extra, then the suffix pairs
    assert d.pairs[0] == (0, 0)
    assert d.pairs[1:4] == [(None, 1), (None, 2), (None, 3)]
    assert d.pairs[4:] == [(i, i + 3) for i in range(1, 8)]
    first = d.first_divergence
    assert first is not None
    assert (first.kind, first.a_seq, first.b_seq, first.b_end) == ("extra", None, 1, 3)
    assert "RETRY" in first.description
    # nothing differs in the aligned suffix: only the extra run and the retry count
    assert [x.kind for x in d.differences[1:]] == ["state"]
    assert "retry_attempts" in d.differences[1].description
    retries = next(x for x in d.summary if x.name == "retries")
    assert (retries.a, retries.b, retries.differs) == (0, 1, True)
    # unpaired seqs map to the counterpart of the closest pair before them
    assert d.counterpart("b", 2) == 0
    assert d.counterpart("b", 5) == 2
    assert d.counterpart("a", 2) == 5
    assert d.next_difference("a", 0) is first
    assert d.next_difference("b", 2) is d.differences[1]


def test_landmark_alignment_reports_the_extra_retry_event() -> None:
    a = _run(["S", "The", " cat", "C"])
    b = _run(["S", "A", "R", "The", " cat", "C"])
    d = diff_timelines(a, b, align="landmarks")
    _check_pairs(d, a, b)
    assert (0, 0) in d.pairs and (3, 5) in d.pairs  # START and COMPLETE pair
    extra = [x for x in d.differences if x.kind == "extra"]
    assert any(x.b_seq == 2 and "RETRY" in x.description for x in extra)


def test_seq_alignment_reports_the_longer_tail_as_extra() -> None:
    a = _run(["S", "x", "C"])
    b = _run(["S", "x", "y", "z", "C"])
    d = diff_timelines(a, b, align="seq")
    assert d.pairs == [(0, 0), (1, 1), (2, 2), (None, 3), (None, 4)]
    kinds = [(x.kind, x.a_seq, x.b_seq, x.b_end) for x in d.differences if x.kind != "state"]
    assert kinds == [("event", 2, 2, 2), ("extra", None, 3, 4)]


def test_a_changed_guardrail_payload_is_an_event_difference() -> None:
    v = {"rule": "pii", "message": "e-mail", "severity": "warning", "recoverable": True}
    g1 = GuardrailEvent(ts=5.0, at=1, result=GuardrailEventResult(violations=[v]))
    g2 = GuardrailEvent(ts=5.0, at=1, result=GuardrailEventResult(violations=[]))
    d = diff_timelines(_run(["S", "a", g1, "C"]), _run(["S", "a", g2, "C"]))
    first = d.first_divergence
    assert first is not None and (first.kind, first.a_seq, first.b_seq) == ("event", 2, 2)
    violations = next(x for x in d.summary if x.name == "violations")
    assert (violations.a, violations.b) == (1, 0)


def test_bad_arguments_are_rejected() -> None:
    a = _run(TEXT)
    with pytest.raises(ValueError, match="align"):
        diff_timelines(a, a, align="words")
    d = diff_timelines(a, a)
    with pytest.raises(ValueError, match="side"):
        d.counterpart("c", 0)
    with pytest.raises(IndexError):
        d.counterpart("a", 99)


def _long_run(rng: random.Random, n_tokens: int, prefix: list[str] | None = None) -> list[object]:
    words = [" the", " model", " data", " a", " of", " and", "\n", " to"]
    spec: list[object] = ["S"]
    text = ""
    for k in range(n_tokens):
        w = rng.choice(words)
        spec.append(w)
        text += w
        if k % 400 == 399:
            spec.append(CheckpointEvent(ts=0.0, at=k, content=text[-200:] + str(k)))
    return spec


def test_large_runs_with_an_inserted_retry_align_through_unique_anchors() -> None:
    rng = random.Random(3)
    base = _long_run(rng, 20_000)
    cut = 9_000
    failed = [" oops"] * 50 + ["R"]
    changed = list(base)
    # a changed token near each end defeats prefix/suffix trimming: the middle
    # (20k x 20k elements) must be split at the unique checkpoints
    changed[10] = " zebra"
    changed[-10] = " zebra"
    a = _run([*base, "C"])  # type: ignore[list-item]
    b = _run([*changed[:cut], *failed, *changed[cut:], "C"])  # type: ignore[list-item]
    d = diff_timelines(a, b)
    _check_pairs(d, a, b)
    # everything after the inserted run is paired with a shift of 51
    assert all(p == (p[0], p[0] + 51) for p in d.pairs if p[0] is not None and p[0] >= cut)
    assert all(p == (p[0], p[0]) for p in d.pairs if p[0] is not None and p[0] < cut)
    tail = len(base) - 10
    assert [(x.kind, x.a_seq, x.b_seq, x.b_end) for x in d.differences if x.kind != "state"] == [
        ("token", 10, 10, 10),
        ("extra", None, cut, cut + 50),
        ("token", tail, tail + 51, tail + 51),
        ("event", len(base), len(base) + 51, len(base) + 51),  # COMPLETE's content
    ]


@st.composite
def _pair_of_streams(draw: st.DrawFn) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
    a = draw(st.one_of(runs(), event_lists(max_size=30)))
    if draw(st.booleans()):
        b = list(a)
        for _ in range(draw(st.integers(0, 3))):
            if b and draw(st.booleans()):
                del b[draw(st.integers(0, len(b) - 1))]
            else:
                b.insert(draw(st.integers(0, len(b))),
                         TokenEvent(ts=1.0, value=draw(st.sampled_from("xyz")), index=0))
    else:
        b = draw(st.one_of(runs(), event_lists(max_size=30)))
    return envelopes(a, "a"), envelopes(b, "b")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_pair_of_streams(), st.sampled_from(["content", "landmarks", "seq"]))
def test_diff_invariants_on_random_pairs(
    case: tuple[list[EventEnvelope], list[EventEnvelope]], align: str
) -> None:
    ea, eb = case
    a, b = Timeline("a", ea), Timeline("b", eb)
    d = diff_timelines(a, b, align=align)
    _check_pairs(d, a, b)
    # a pair lies inside a reported difference exactly when its events differ (ts aside)
    for i, j in d.pairs:
        if i is None or j is None:
            continue
        x, y = ea[i].event, eb[j].event
        if isinstance(x, TokenEvent) and isinstance(y, TokenEvent):
            same = x.value == y.value  # tokens align by text; the index is not compared
        else:
            same = type(x) is type(y) and {**_fields(x), "ts": 0} == {**_fields(y), "ts": 0}
        assert same == (d.difference_at("a", i) is None), (i, j)
    for i, j in d.pairs:
        if i is None:
            assert d.difference_at("b", j) is not None  # type: ignore[arg-type]
        if j is None:
            assert d.difference_at("a", i) is not None
    assert d.identical == (not d.differences)
    if d.identical:
        assert len(ea) == len(eb)
    # the first divergence is the earliest difference in alignment order
    if d.differences:
        assert d.first_divergence is d.differences[0]


def _fields(e: RecordedEvent) -> dict[str, object]:
    return {name: getattr(e, name) for name in e.__dataclass_fields__}
