"""Property tests: every answer of a Timeline agrees with folding or scanning the events."""

from __future__ import annotations

import dataclasses
import re
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l0core.codec import encode_envelope_line
from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    DriftEventResult,
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
from l0core.fold import STATE_FIELDS, ReplayedState, apply_event, fold
from l0core.timeline import IMPORTANCE, Timeline
from tests.core.strategies import batch_bounds, envelopes, event_lists, runs

# CI machines are loaded: no deadline, and slow data generation is not a failure
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _build(envs: list[EventEnvelope], bounds: list[tuple[int, int]]) -> Timeline:
    tl = Timeline("s1")
    for lo, hi in bounds:
        tl.extend(envs[lo:hi])
    return tl


def _states(evs: list[RecordedEvent]) -> list[ReplayedState]:
    """The fold after each event, by brute force."""
    state = ReplayedState()
    out = []
    for e in evs:
        apply_event(state, e)
        out.append(state.copy())
    return out


@st.composite
def _any_stream(draw: st.DrawFn) -> tuple[list[EventEnvelope], list[tuple[int, int]]]:
    evs = draw(st.one_of(event_lists(), runs()))
    envs = envelopes(evs)
    return envs, draw(batch_bounds(len(envs)))


@SETTINGS
@given(_any_stream())
def test_state_at_equals_fold_of_prefix(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]],
) -> None:
    envs, bounds = case
    tl = _build(envs, bounds)
    assert len(tl) == len(envs)
    assert tl.last_seq == len(envs) - 1
    expected = _states([e.event for e in envs])
    for seq, want in enumerate(expected):
        got = tl.state_at(seq)
        assert got == want, seq
        assert got == fold(envs[: seq + 1])
        assert tl.content_length_at(seq) == len(want.content)
        for name in STATE_FIELDS:
            assert tl.value_at(name, seq) == getattr(want, name), (seq, name)
        for start in (0, 1, len(want.content) // 2, len(want.content), len(want.content) + 3):
            assert tl.content_at(seq, start) == want.content[start:], (seq, start)
    if envs:
        # a fresh object every time: mutating it leaves the timeline untouched
        got = tl.state_at(tl.last_seq)
        got.violations.append({"rule": "x"})
        assert tl.state_at(tl.last_seq) == expected[-1]


@SETTINGS
@given(_any_stream(), st.data())
def test_answers_while_loading_cover_the_part_seen(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]], data: st.DataObject
) -> None:
    envs, bounds = case
    expected = _states([e.event for e in envs])
    tl = Timeline("s1")
    for lo, hi in bounds:
        tl.extend(envs[lo:hi])
        if hi:
            seq = data.draw(st.integers(0, hi - 1))
            assert tl.state_at(seq) == expected[seq]
            assert tl.state_at(hi - 1) == expected[hi - 1]
            assert tl.attempts()[-1].end_seq == hi - 1


@SETTINGS
@given(_any_stream())
def test_changed_fields_and_field_history_match_a_scan(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]],
) -> None:
    envs, bounds = case
    tl = _build(envs, bounds)
    states = [ReplayedState(), *_states([e.event for e in envs])]
    changed = [
        frozenset(f for f in STATE_FIELDS if getattr(states[s], f) != getattr(states[s + 1], f))
        for s in range(len(envs))
    ]
    for seq in range(len(envs)):
        assert tl.changed_fields(seq) == changed[seq], seq
    for name in STATE_FIELDS:
        change_seqs = [s for s in range(len(envs)) if name in changed[s]]
        assert list(tl.field_changes(name)) == change_seqs
        for seq in range(-1, len(envs) + 1):
            last = max((s for s in change_seqs if s <= seq), default=None)
            nxt = min((s for s in change_seqs if s > seq), default=None)
            assert tl.field_last_changed(name, seq) == last
            assert tl.field_next_change(name, seq) == nxt


@SETTINGS
@given(_any_stream(), st.sampled_from([None, *IMPORTANCE]))
def test_landmarks_match_a_scan(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]],
    kind: RecordedEventType | None,
) -> None:
    envs, bounds = case
    tl = _build(envs, bounds)

    def wanted(e: EventEnvelope) -> bool:
        if kind is None:
            return e.event.type != RecordedEventType.TOKEN
        return e.event.type == kind

    expected = [e.seq for e in envs if wanted(e)]
    assert list(tl.landmarks(kind)) == expected
    if kind is not None:
        assert tl.count(kind) == len(expected)
    for seq in range(-1, len(envs) + 1):
        assert tl.next_landmark(seq, kind) == min((s for s in expected if s > seq), default=None)
        assert tl.previous_landmark(seq, kind) == max(
            (s for s in expected if s < seq), default=None
        )


def _attempt_of(tl: Timeline, seq: int) -> int:
    return tl.attempt_at(seq).number


@SETTINGS
@given(runs(), st.data())
def test_attempts_reproduce_the_content(evs: list[RecordedEvent], data: st.DataObject) -> None:
    envs = envelopes(evs)
    tl = _build(envs, data.draw(batch_bounds(len(envs))))
    attempts = tl.attempts()
    # the attempts partition the stream
    assert attempts[0].start_seq == 0 and attempts[-1].end_seq == len(envs) - 1
    for before, after in pairwise(attempts):
        assert after.start_seq == before.end_seq + 1
    assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
    for a in attempts:
        span = envs[a.start_seq : a.end_seq + 1]
        tokens = [e.event for e in span if isinstance(e.event, TokenEvent)]
        assert a.token_count == len(tokens)
        assert a.content == "".join(t.value for t in tokens)
        for seq in (a.start_seq, a.end_seq):
            assert tl.attempt_at(seq) == a

    # where attempts start: every RETRY and FALLBACK; a CONTINUATION only when the
    # attempt it falls in already has tokens (otherwise it sets resumed_from)
    for e in envs:
        at = tl.attempt_at(e.seq)
        if isinstance(e.event, RetryEvent | FallbackEvent):
            assert at.start_seq == e.seq
        if isinstance(e.event, ContinuationEvent):
            assert at.resumed_from == e.event.checkpoint
            before = [x for x in envs[at.start_seq : e.seq] if isinstance(x.event, TokenEvent)]
            if at.start_seq == e.seq:
                assert at.started_by == "continuation"
                assert tl.attempt_at(e.seq - 1).token_count > 0
            else:
                assert before == []

    # Rule 1 (the seed fold): before COMPLETE the content is the checkpoint of the
    # last CONTINUATION plus every attempt's own text from that attempt on.
    terminal = len(envs)
    if isinstance(evs[-1], CompleteEvent):
        terminal -= 1
    conts = [e.seq for e in envs if isinstance(e.event, ContinuationEvent)]
    first = _attempt_of(tl, conts[-1]) if conts else 1
    joined = attempts[first - 1].resumed_from + "".join(
        a.content for a in attempts[first - 1 :]
    )
    assert tl.state_at(terminal - 1).content == joined

    # Rule 2 (what the run returned): a completed run's content is the last
    # attempt's resumed_from plus its own tokens.
    if isinstance(evs[-1], CompleteEvent):
        last = attempts[-1]
        assert last.outcome == "completed"
        assert tl.final_state().content == last.resumed_from + last.content
    for a in attempts[:-1]:
        assert a.outcome in ("retried", "fell_back", "errored")
        assert (a.outcome == "fell_back") == (
            a.outcome != "errored" and attempts[a.number].started_by == "fallback"
        )


def _brute_minimap(envs: list[EventEnvelope], cells: int, start: int, stop: int) -> list[object]:
    n = max(0, stop - start)
    out: list[object] = []
    for i in range(cells):
        lo, hi = start + i * n // cells, start + (i + 1) * n // cells
        kinds = [envs[s].event.type for s in range(lo, hi)]
        out.append(max(kinds, key=IMPORTANCE.index) if kinds else None)
    return out


@SETTINGS
@given(_any_stream(), st.integers(1, 80), st.data())
def test_minimap_matches_a_scan(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]], cells: int, data: st.DataObject
) -> None:
    envs, bounds = case
    tl = _build(envs, bounds)
    start = data.draw(st.integers(0, len(envs)))
    stop = data.draw(st.integers(start, len(envs)))
    assert tl.minimap(cells, start, stop) == _brute_minimap(envs, cells, start, stop)
    assert tl.minimap(cells) == _brute_minimap(envs, cells, 0, len(envs))


def test_minimap_on_a_long_stream_uses_block_maxima_correctly() -> None:
    import random

    rng = random.Random(7)
    kinds = list(IMPORTANCE)
    evs: list[RecordedEvent] = []
    for i in range(300_000 // 10):
        if rng.random() < 0.002:
            # a dense burst of landmarks, so that cells hold more than a few of them
            burst = rng.choice(kinds[1:])
            evs.extend(_event_of(burst, i) for _ in range(rng.randint(1, 400)))
        evs.append(TokenEvent(ts=float(i), value="x", index=i))
    envs = envelopes(evs)
    tl = Timeline("s1")
    for lo in range(0, len(envs), 7_777):
        tl.extend(envs[lo : lo + 7_777])
    for cells, start, stop in [(1, 0, len(envs)), (7, 0, len(envs)), (120, 0, len(envs)),
                               (33, 1234, len(envs) // 2), (200, 5, len(envs) - 3)]:
        assert tl.minimap(cells, start, stop) == _brute_minimap(envs, cells, start, stop)


def _event_of(kind: RecordedEventType, i: int) -> RecordedEvent:
    """One event of ``kind`` at time ``i`` (payloads do not matter here)."""
    ts = float(i)
    samples: dict[RecordedEventType, RecordedEvent] = {
        RecordedEventType.START: StartEvent(ts=ts),
        RecordedEventType.TOKEN: TokenEvent(ts=ts, value="t", index=i),
        RecordedEventType.CHECKPOINT: CheckpointEvent(ts=ts, at=i, content="c"),
        RecordedEventType.GUARDRAIL: GuardrailEvent(ts=ts, at=i, result=GuardrailEventResult()),
        RecordedEventType.DRIFT: DriftEvent(ts=ts, at=i, result=DriftEventResult()),
        RecordedEventType.RETRY: RetryEvent(ts=ts, reason="r", attempt=1,
                                            counts_toward_limit=True),
        RecordedEventType.FALLBACK: FallbackEvent(ts=ts, to=1),
        RecordedEventType.CONTINUATION: ContinuationEvent(ts=ts, checkpoint="c", at=1),
        RecordedEventType.COMPLETE: CompleteEvent(ts=ts, content="c", token_count=1),
        RecordedEventType.ERROR: ErrorEvent(ts=ts, error=SerializedError(name="E", message="m"),
                                            failure_type="f", recovery_strategy="r",
                                            policy="default"),
    }
    return samples[kind]


_PATTERNS = st.sampled_from(["a", "ab", "b c", "é", "a\nb", "\U0001f600a", "aa"])


@SETTINGS
@given(_any_stream(), _PATTERNS)
def test_token_search_matches_a_scan(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]], pattern: str
) -> None:
    envs, bounds = case
    tl = _build(envs, bounds)
    # The token text grows in segments: a CONTINUATION or COMPLETE that changes the
    # content starts a new one (its text is the base, not token text).
    expected: list[int] = []
    states = _states([e.event for e in envs])
    base, spans = "", []  # spans: (seq, start, end) of each token in the segment's text
    text = ""

    def close_segment() -> None:
        for seq, lo, hi in spans:
            if any(text.startswith(pattern, p) for p in range(max(lo, len(base)), hi)):
                expected.append(seq)

    prev = ""
    for seq, e in enumerate(envs):
        now = states[seq].content
        if isinstance(e.event, TokenEvent):
            if e.event.value:
                spans.append((seq, len(text), len(text) + len(e.event.value)))
                text += e.event.value
        elif now != prev:
            close_segment()
            base, text, spans = now, now, []
        prev = now
    close_segment()
    assert tl.search(pattern, scope="token", case_sensitive=True) == sorted(expected)
    # the same literal as a regex gives the same answer
    assert tl.search(re.escape(pattern), regex=True, scope="token",
                     case_sensitive=True) == sorted(expected)


@SETTINGS
@given(_any_stream(), _PATTERNS)
def test_content_search_matches_a_scan(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]], pattern: str
) -> None:
    envs, bounds = case
    tl = _build(envs, bounds)
    states = _states([e.event for e in envs])
    expected = []
    prev = ""
    for seq, st_ in enumerate(states):
        now = st_.content
        if now != prev:
            # content that extends the previous text only adds matches ending past it
            grew = now.startswith(prev) and isinstance(envs[seq].event, TokenEvent)
            floor = len(prev) if grew else 0
            if any(now.startswith(pattern, p) and p + len(pattern) > floor
                   for p in range(len(now))):
                expected.append(seq)
        prev = now
    assert tl.search(pattern, scope="content", case_sensitive=True) == expected


# ts as a store may give it back: a float (integral or not) or an int; plus text no
# alphabet above produces (empty, control characters, lone surrogates, astral).
_TS_SHAPES = st.sampled_from(["float", "int", "fraction"])
_HOSTILE_TEXT = st.one_of(st.just(""), st.text(max_size=8),
                          st.text(alphabet="\x00\r\n\t\ud800\udfff\u200b\U0010ffff", max_size=4))


@st.composite
def _mixed_ts_stream(draw: st.DrawFn) -> tuple[list[EventEnvelope], list[tuple[int, int]]]:
    evs = draw(st.one_of(event_lists(), runs()))
    out: list[RecordedEvent] = []
    for ev in evs:
        shape = draw(_TS_SHAPES)
        ts: float = ev.ts
        if shape == "int":
            ts = int(ev.ts)
        elif shape == "fraction":
            ts = ev.ts + draw(st.sampled_from([0.5, 0.25, 0.001, 1e-7]))
        if isinstance(ev, TokenEvent) and draw(st.booleans()):
            ev = TokenEvent(ts=ts, value=draw(_HOSTILE_TEXT), index=ev.index)
        else:
            ev = dataclasses.replace(ev, ts=ts)
        out.append(ev)
    envs = envelopes(out)
    return envs, draw(batch_bounds(len(envs)))


def _line(env: EventEnvelope) -> bytes | None:
    """The JSONL line of ``env`` (None: text JSON cannot carry, e.g. a lone surrogate)."""
    try:
        return encode_envelope_line(env)
    except TypeError:
        return None


@SETTINGS
@given(st.one_of(_any_stream(), _mixed_ts_stream()), st.data())
def test_envelopes_and_events_give_back_the_originals(
    case: tuple[list[EventEnvelope], list[tuple[int, int]]], data: st.DataObject
) -> None:
    envs, bounds = case
    tl = Timeline("s1")
    for lo, hi in bounds:
        tl.extend(envs[lo:hi])
        if hi:  # while loading too: the part seen so far
            seq = data.draw(st.integers(0, hi - 1))
            assert tl.envelope(seq) == envs[seq]
            assert tl.events(0, hi) == envs[:hi]
    n = len(envs)
    for seq in range(n):
        got = tl.envelope(seq)
        assert got == envs[seq], seq
        # same types too, so the wire encoding is the same (an int ts stays an int)
        assert type(got.event.ts) is type(envs[seq].event.ts), seq
        assert _line(got) == _line(envs[seq]), seq
    assert tl.events(0, n) == envs
    assert tl.events(-5, n + 5) == envs
    for _ in range(5):
        a = data.draw(st.integers(-2, n + 2))
        b = data.draw(st.integers(-2, n + 2))
        assert tl.events(a, b) == envs[max(0, a) : max(0, b)], (a, b)
        values = tl.token_values(a, b)
        assert values == [e.event.value if isinstance(e.event, TokenEvent) else None
                          for e in envs[max(0, a) : max(0, b)]], (a, b)


def test_tokens_a_double_cannot_hold_are_given_back_unchanged() -> None:
    evs: list[RecordedEvent] = [
        TokenEvent(ts=2**60 + 1, value="a", index=0),  # an int beyond 2**53
        TokenEvent(ts=float("nan"), value="b", index=1),
        TokenEvent(ts=1.5, value="", index=2),
        TokenEvent(ts=-0.0, value="c", index=-3),
        TokenEvent(ts=7, value="d", index=4),
    ]
    envs = envelopes(evs)
    tl = Timeline("s1", envs)
    assert [tl.envelope(s) for s in range(len(envs))] == envs
    assert tl.events(0, len(envs)) == envs
    assert tl.envelope(0).event.ts == 2**60 + 1
    assert tl.envelope(4).event.ts == 7 and type(tl.envelope(4).event.ts) is int
    assert tl.state_at(4).content == "abcd"
