"""Timeline on hand-written streams: attempts, timing, search, minimap, input checks."""

from __future__ import annotations

import pytest

from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    ErrorEvent,
    EventEnvelope,
    FallbackEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RecordedEventType,
    RetryEvent,
    SerializedError,
    StartEvent,
    TokenEvent,
)
from l0core.timeline import Timeline
from tests.core.strategies import envelopes

T = RecordedEventType


def tok(ts: float, value: str, index: int) -> TokenEvent:
    return TokenEvent(ts=ts, value=value, index=index)


def _story() -> list[RecordedEvent]:
    """START; attempt 1 fails a guardrail; a network retry resumes from a checkpoint;
    a timeout error and a fallback; the fallback model completes."""
    pii = {"rule": "no-pii", "message": "e-mail address", "severity": "error",
           "recoverable": True}
    return [
        StartEvent(ts=1000.0),                                           # 0
        tok(1100.0, "Hello", 0),                                         # 1
        tok(1120.0, " wor", 1),                                          # 2
        CheckpointEvent(ts=1120.0, at=2, content="Hello wor"),           # 3
        tok(1150.0, "ld bob@x.io", 2),                                   # 4
        GuardrailEvent(ts=1150.0, at=3, result=GuardrailEventResult(     # 5
            violations=[pii], should_retry=True)),
        RetryEvent(ts=1200.0, reason="guardrail_violation", attempt=1,   # 6
                   counts_toward_limit=True),
        ContinuationEvent(ts=1210.0, checkpoint="Hello wor", at=2),      # 7
        tok(4000.0, "ld", 2),                                            # 8  (stall)
        ErrorEvent(ts=4100.0, error=SerializedError(                     # 9
            name="TimeoutError", message="no token for 5 s"),
            failure_type="timeout", recovery_strategy="fallback", policy="default"),
        FallbackEvent(ts=4200.0, to=1),                                  # 10
        tok(4300.0, "Hi", 0),                                            # 11
        tok(4310.0, " there", 1),                                        # 12
        CompleteEvent(ts=4320.0, content="Hi there", token_count=2),     # 13
    ]


@pytest.fixture
def story() -> Timeline:
    return Timeline("s1", envelopes(_story()))


def test_attempts_of_a_story(story: Timeline) -> None:
    a1, a2, a3 = story.attempts()
    assert (a1.number, a1.start_seq, a1.end_seq, a1.started_by) == (1, 0, 5, "start")
    assert (a1.content, a1.token_count, a1.resumed_from) == ("Hello world bob@x.io", 3, "")
    assert (a1.outcome, a1.reason, a1.fallback_index) == ("retried", "guardrail_violation", 0)
    assert (a2.start_seq, a2.end_seq, a2.started_by) == (6, 9, "retry")
    assert (a2.resumed_from, a2.content, a2.token_count) == ("Hello wor", "ld", 1)
    assert (a2.outcome, a2.reason) == ("errored", "no token for 5 s")
    assert (a3.start_seq, a3.end_seq, a3.started_by, a3.fallback_index) == (10, 13, "fallback", 1)
    assert (a3.content, a3.outcome, a3.reason) == ("Hi there", "completed", None)
    assert story.attempt_at(7) == a2
    # the seed fold glues the fallback's tokens onto the resumed text until COMPLETE
    assert story.state_at(12).content == "Hello world" + "Hi there"
    assert story.state_at(13).content == "Hi there"


def test_attempts_are_copies(story: Timeline) -> None:
    story.attempts()[0].content = "changed"
    assert story.attempts()[0].content == "Hello world bob@x.io"


def test_a_running_stream_has_a_running_last_attempt() -> None:
    tl = Timeline("s1", envelopes(_story()[:5]))
    (a1,) = tl.attempts()
    assert (a1.end_seq, a1.outcome, a1.content) == (4, "running", "Hello world bob@x.io")
    tl.extend(envelopes(_story()[5:8], first_seq=5))
    assert [a.outcome for a in tl.attempts()] == ["retried", "running"]


def test_field_history_answers_who_changed_what(story: Timeline) -> None:
    assert story.field_last_changed("fallback_index", 13) == 10
    assert story.field_next_change("fallback_index", 0) == 10
    assert story.field_last_changed("fallback_index", 9) is None
    assert story.field_last_changed("violations", 13) == 5
    assert story.changed_fields(7) == frozenset({"content"})
    # COMPLETE's token_count equals the last token's index + 1: not a change
    assert story.changed_fields(13) == frozenset({"content", "completed", "end_ts"})
    assert story.changed_fields(3) == frozenset({"checkpoint"})
    with pytest.raises(ValueError, match="not a ReplayedState field"):
        story.field_last_changed("colour", 3)
    assert story.value_at("fallback_index", 10) == 1 and story.value_at("fallback_index", 9) == 0
    with pytest.raises(ValueError, match="not a ReplayedState field"):
        story.value_at("colour", 3)
    with pytest.raises(IndexError):
        story.value_at("content", 99)


def test_landmarks_by_kind(story: Timeline) -> None:
    assert list(story.landmarks()) == [0, 3, 5, 6, 7, 9, 10, 13]
    assert list(story.landmarks(T.RETRY)) == [6]
    assert story.next_landmark(0) == 3
    assert story.next_landmark(3, T.FALLBACK) == 10
    assert story.previous_landmark(13, "GUARDRAIL") == 5
    assert story.previous_landmark(5, T.GUARDRAIL) is None
    assert story.next_landmark(13) is None
    assert story.next_landmark(4, T.TOKEN) == 8
    assert story.count(T.TOKEN) == 6


def test_timing(story: Timeline) -> None:
    assert story.relative_ms(0) == 0.0
    assert story.relative_ms(13) == 3320.0
    assert story.delta_ms(0) == 0.0
    assert story.delta_ms(8) == 4000.0 - 1210.0
    t = story.timing(stall_ms=2000.0)
    assert t.time_to_first_token_ms == 100.0
    assert t.duration_ms == 3320.0
    # token-to-token gaps: 20, 30, 2850, 300, 10
    assert t.median_gap_ms == 30.0
    assert t.max_gap_ms == 2850.0
    assert t.p95_gap_ms == 2850.0
    assert t.stalls == [(8, 2790.0)]
    assert story.timing(stall_ms=100.0).stalls == [(1, 100.0), (8, 2790.0), (9, 100.0),
                                                    (10, 100.0), (11, 100.0)]


def test_rate_buckets_count_tokens_per_time_slice(story: Timeline) -> None:
    # 0..3320 ms in 4 buckets of 830 ms: tokens at +100, +120, +150 | none | none |
    # +3000, +3300, +3310
    assert story.rate_buckets(4) == [3, 0, 0, 3]
    assert sum(story.rate_buckets(7)) == story.count(T.TOKEN)
    assert story.rate_buckets(0) == []


def test_search_scopes(story: Timeline) -> None:
    # "world" only exists across two tokens: " wor" + "ld bob@x.io" (seqs 2 and 4)
    assert story.search("world", scope="token") == [2]
    # in the content it is complete at seq 4, and again after the continuation (seq 8)
    assert story.search("world", scope="content") == [4, 8]
    assert story.search("no-pii", scope="payload") == [5]
    assert story.search("TimeoutError") == [9]
    assert story.search("HELLO", scope="token") == [1]
    assert story.search("HELLO", scope="token", case_sensitive=True) == []
    assert story.search(r"b\w+@x\.io", regex=True, scope="token") == [4]
    assert story.search(r"b\w+@x\.io", scope="token") == []  # a literal, not a regex
    # complete at seq 12, and again inside the text COMPLETE put in the content
    assert story.search("Hi there", scope="content") == [12, 13]
    assert story.search("") == []
    with pytest.raises(ValueError, match="invalid regular expression"):
        story.search("(", regex=True)
    with pytest.raises(ValueError, match="scope"):
        story.search("x", scope="everything")


def test_search_follows_extend() -> None:
    evs = _story()
    tl = Timeline("s1", envelopes(evs[:3]))
    assert tl.search("there") == []
    tl.extend(envelopes(evs[3:], first_seq=3))
    assert tl.search("there", scope="token") == [12]


def test_minimap(story: Timeline) -> None:
    assert story.minimap(1) == [T.ERROR]
    assert story.minimap(2) == [T.RETRY, T.ERROR]
    assert story.minimap(3, start=1, stop=3) == [None, T.TOKEN, T.TOKEN]
    assert story.minimap(0) == []


def test_events_and_envelopes(story: Timeline) -> None:
    assert [e.seq for e in story.events(2, 5)] == [2, 3, 4]
    assert story.events(12, 99)[-1].seq == 13
    assert story.envelope(6).event.type == T.RETRY
    assert story.kind(6) == T.RETRY
    assert len(story) == 14 and story.last_seq == 13
    with pytest.raises(IndexError):
        story.envelope(14)
    with pytest.raises(IndexError):
        story.state_at(-1)


def test_an_empty_timeline() -> None:
    tl = Timeline("s1")
    assert len(tl) == 0 and tl.last_seq == -1
    assert tl.attempts() == []
    assert tl.minimap(3) == [None, None, None]
    assert tl.search("x") == []
    assert list(tl.landmarks()) == []
    assert tl.final_state().content == ""
    assert tl.timing().time_to_first_token_ms is None


def test_extend_rejects_gaps_and_other_streams() -> None:
    tl = Timeline("s1", envelopes(_story()[:2]))
    with pytest.raises(ValueError, match="expected seq 2"):
        tl.extend(envelopes(_story()[3:4], first_seq=3))
    with pytest.raises(ValueError, match="stream 'other'"):
        tl.extend([EventEnvelope("other", 2, tok(0.0, "x", 0))])
    assert len(tl) == 2


async def test_load_timeline_reads_a_store_in_batches_with_progress() -> None:
    from l0core.stores.memory import create_in_memory_event_store
    from l0core.timeline import load_timeline

    store = create_in_memory_event_store()
    await store.append_many("s1", _story())
    seen: list[int] = []
    tl = await load_timeline(store, "s1", batch_size=5, on_progress=seen.append)
    assert seen == [5, 10, 14]
    assert tl.final_state().content == "Hi there"
    assert [a.outcome for a in tl.attempts()] == ["retried", "errored", "completed"]


def test_memory_grows_with_the_events_not_with_events_times_content() -> None:
    import tracemalloc

    n = 20_000
    evs: list[RecordedEvent] = [StartEvent(ts=0.0)]
    evs += [tok(float(i), "word ", i) for i in range(n)]
    evs.append(CompleteEvent(ts=float(n), content="word " * n, token_count=n))
    envs = envelopes(evs)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tl = Timeline("s1", envs)
        for seq in range(0, n, 997):  # states all over the stream, content joined
            tl.state_at(seq)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # one copy of the content per state would be n * n * 5 / 2 = 1 GB; the index
    # stays at a few hundred bytes per event plus the joined text
    assert grown < 300 * n, grown
    assert tl.state_at(n).content == "word " * n


def test_extend_rejects_unknown_event_objects_and_stays_consistent() -> None:
    tl = Timeline("s1", envelopes(_story()[:2]))
    bad = [EventEnvelope("s1", 2, tok(0.0, "x", 2)),
           EventEnvelope("s1", 3, {"type": "TOKEN"})]  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seq 3"):
        tl.extend(bad)
    assert len(tl) == 2 and tl.state_at(1).content == "Hello"
    tl.extend(envelopes(_story()[2:], first_seq=2))
    assert tl.final_state().content == "Hi there"
