"""Provenance: every character of the content traced to the TOKEN that wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l0core.codec import decode_envelope, loads
from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    FallbackEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    StartEvent,
    TokenEvent,
)
from l0core.fold import ReplayedState, apply_event
from l0core.timeline import Timeline
from tests.core.strategies import batch_bounds, envelopes, event_lists, runs

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DEMO = Path(__file__).resolve().parents[2] / "demo_streams"


def _timeline(evs: list[RecordedEvent], bounds: list[tuple[int, int]] | None = None) -> Timeline:
    envs = envelopes(evs)
    tl = Timeline("s1")
    for lo, hi in bounds or [(0, len(envs))]:
        tl.extend(envs[lo:hi])
    return tl


def _demo(name: str) -> Timeline:
    lines = (DEMO / f"{name}.jsonl").read_bytes().splitlines()
    envs = [decode_envelope(loads(line)) for line in lines if line.strip()]
    return Timeline(envs[0].stream_id, envs)


# ───────────── the reference: one owner per character, folded by hand ─────────────


class _Reference:
    """The fold with an owner per character, written the slow, obvious way.

    TOKEN appends its seq once per character. A CONTINUATION or COMPLETE that
    replaces the content with C lines C up with the visible output of the latest
    attempt that had any (checkpoint plus tokens): characters of the common
    prefix, then of the common suffix of the rest, keep their owners; the others
    have none. ``restored`` is the latest CONTINUATION that carried a character.
    """

    def __init__(self) -> None:
        self.text = ""
        self.owner: list[int | None] = []
        self.restored: list[int | None] = []
        self.attempt_tokens = 0  # tokens in the current attempt
        self.attempt_start_len = 0  # content length where the current attempt began
        self.attempt_resumed = False  # the current attempt holds a CONTINUATION/COMPLETE
        self.source_start = 0  # visible start of the latest attempt with output

    def _new_attempt(self) -> None:
        self.attempt_tokens = 0
        self.attempt_start_len = len(self.text)
        self.attempt_resumed = False

    def _replace(self, new: str, seq: int, restoring: bool) -> None:
        src = self.source_start
        visible = self.text[src:]
        head = 0
        while head < min(len(new), len(visible)) and new[head] == visible[head]:
            head += 1
        tail = 0
        while (tail < min(len(new), len(visible)) - head
               and new[len(new) - 1 - tail] == visible[len(visible) - 1 - tail]):
            tail += 1
        owner: list[int | None] = [None] * len(new)
        restored: list[int | None] = [None] * len(new)
        for i in range(len(new)):
            if i < head:
                j = src + i
            elif i >= len(new) - tail:
                j = src + len(visible) - (len(new) - i)
            else:
                continue
            owner[i] = self.owner[j]
            restored[i] = seq if restoring else self.restored[j]
        self.text, self.owner, self.restored = new, owner, restored

    def apply(self, seq: int, ev: RecordedEvent) -> None:
        if isinstance(ev, TokenEvent):
            self.text += ev.value
            self.owner += [seq] * len(ev.value)
            self.restored += [None] * len(ev.value)
            self.attempt_tokens += 1
            self.source_start = 0 if self.attempt_resumed else self.attempt_start_len
        elif isinstance(ev, RetryEvent | FallbackEvent):
            self._new_attempt()
        elif isinstance(ev, ContinuationEvent):
            if self.attempt_tokens:
                self._new_attempt()
            if ev.checkpoint == self.text:
                self.restored = [seq] * len(self.text)
            else:
                self._replace(ev.checkpoint, seq, restoring=True)
            self.attempt_resumed = True
            self.source_start = 0
        elif isinstance(ev, CompleteEvent):
            if ev.content != self.text:
                self._replace(ev.content, seq, restoring=False)
            self.attempt_resumed = True
            self.source_start = 0


def _check_against_reference(evs: list[RecordedEvent], tl: Timeline) -> None:
    ref = _Reference()
    state = ReplayedState()
    for seq, ev in enumerate(evs):
        ref.apply(seq, ev)
        apply_event(state, ev)
        assert ref.text == state.content  # the reference folds like the fold
        for offset in range(len(ref.text)):
            p = tl.provenance(seq, offset)
            assert p.char == ref.text[offset]
            assert p.token_seq == ref.owner[offset], (seq, offset)
            assert p.restored_by == ref.restored[offset], (seq, offset)
            if p.token_seq is not None:
                token = evs[p.token_seq]
                assert isinstance(token, TokenEvent)
                assert token.value[p.token_offset] == p.char
                assert p.written_by == p.token_seq
        produced = {o for o, who in enumerate(ref.owner) if who is None}
        spans = tl.unproduced_spans(seq)
        assert {o for lo, hi in spans for o in range(lo, hi)} == produced
        assert all(hi > lo for lo, hi in spans)


@SETTINGS
@given(st.one_of(runs(), event_lists(max_size=40)), st.data())
def test_provenance_matches_the_reference_fold(
    evs: list[RecordedEvent], data: st.DataObject
) -> None:
    tl = _timeline(evs, data.draw(batch_bounds(len(evs))))
    _check_against_reference(evs, tl)


@st.composite
def _prefix_runs(draw: st.DrawFn) -> list[RecordedEvent]:
    """Runs whose CONTINUATIONs and COMPLETE keep a prefix of the content as it is."""
    out: list[RecordedEvent] = [StartEvent(ts=1.0)]
    content = ""
    for _ in range(draw(st.integers(0, 25))):
        step = draw(st.sampled_from(["token"] * 4 + ["continuation", "guardrail"]))
        if step == "token":
            value = draw(st.text(alphabet="ab \n\u00e9", max_size=4))
            out.append(TokenEvent(ts=2.0, value=value, index=0))
            content += value
        elif step == "continuation":
            content = content[: draw(st.integers(0, len(content)))]
            out.append(ContinuationEvent(ts=3.0, checkpoint=content, at=0))
        else:
            out.append(GuardrailEvent(ts=3.0, at=0, result=GuardrailEventResult()))
    if draw(st.booleans()):
        out.append(CompleteEvent(ts=4.0, content=content[: draw(st.integers(0, len(content)))],
                                 token_count=0))
    return out


@SETTINGS
@given(_prefix_runs())
def test_provenance_is_the_token_the_fold_appended_last_at_that_offset(
    evs: list[RecordedEvent],
) -> None:
    """With replacements that keep a prefix, the owner is literally the last token
    whose text the fold appended at that offset."""
    tl = _timeline(evs)
    last_at: list[int] = []
    state = ReplayedState()
    for seq, ev in enumerate(evs):
        before = len(state.content)
        apply_event(state, ev)
        if isinstance(ev, TokenEvent):
            for offset in range(before, before + len(ev.value)):
                if offset < len(last_at):
                    last_at[offset] = seq
                else:
                    last_at.append(seq)
        for offset in range(len(state.content)):
            assert tl.provenance(seq, offset).token_seq == last_at[offset]
        assert tl.unproduced_spans(seq) == []


def test_a_completion_that_differs_from_the_tokens_is_marked() -> None:
    evs: list[RecordedEvent] = [
        StartEvent(ts=0.0),
        TokenEvent(ts=1.0, value="Hel", index=0),
        RetryEvent(ts=2.0, reason="network_error", attempt=1, counts_toward_limit=False),
        TokenEvent(ts=3.0, value="Hello ", index=0),
        TokenEvent(ts=4.0, value="wrld", index=1),
        CompleteEvent(ts=5.0, content="Hello world!", token_count=2),
    ]
    tl = _timeline(evs)
    # the final text is lined up with attempt 2's tokens, not with the fold's "HelHello wrld"
    assert [tl.provenance(5, i).token_seq for i in range(6)] == [3] * 6
    assert tl.provenance(5, 0).attempt == 2
    assert tl.unproduced_spans(5) == [(7, 12)]  # "world!" vs "wrld": "w" kept, rest not
    p = tl.provenance(5, 11)
    assert p.token_seq is None and p.written_by == 5
    assert tl.visible_start(4) == 3 and tl.content_at(4, tl.visible_start(4)) == "Hello wrld"


def test_continuation_restores_and_judges() -> None:
    evs: list[RecordedEvent] = [
        StartEvent(ts=0.0),
        TokenEvent(ts=10.0, value="abc ", index=0),
        CheckpointEvent(ts=11.0, at=0, content="abc "),
        GuardrailEvent(ts=12.0, at=0, result=GuardrailEventResult(
            violations=[{"rule": "pii"}], should_retry=True)),
        TokenEvent(ts=13.0, value="xyz", index=1),
        RetryEvent(ts=14.0, reason="guardrail_violation", attempt=1, counts_toward_limit=True),
        ContinuationEvent(ts=15.0, checkpoint="abc ", at=0),
        TokenEvent(ts=16.0, value="def", index=1),
        GuardrailEvent(ts=17.0, at=1, result=GuardrailEventResult()),
        CompleteEvent(ts=18.0, content="abc def", token_count=2),
    ]
    tl = _timeline(evs)
    p = tl.provenance(9, 0)
    assert (p.token_seq, p.attempt, p.restored_by) == (1, 1, 6)
    assert p.judged_by == (3,) and p.judged_count == 2 and p.last_judge == 8
    assert p.ts == 10.0 and p.gap_ms is None
    q = tl.provenance(9, 5)
    assert (q.token_seq, q.attempt, q.restored_by) == (7, 2, None)
    assert (q.judged_by, q.judged_count) == ((), 1)
    assert q.gap_ms == 3.0
    # "xyz" was judged by nothing: it came after the guardrail and was dropped
    r = tl.provenance(4, 4)
    assert (r.token_seq, r.judged_count) == (4, 0)


@pytest.mark.parametrize("name", ["02-network-retry-continuation",
                                  "04-fallback-after-two-failures"])
def test_demo_streams_final_content_comes_from_tokens(name: str) -> None:
    tl = _demo(name)
    last = tl.last_seq
    assert tl.unproduced_spans(last) == []
    attempts = tl.attempts()
    final = attempts[-1]
    n = len(tl.content_at(last))
    owners = {tl.provenance(last, i).attempt for i in range(0, n, 7)}
    if name.startswith("02"):
        restored = tl.provenance(last, 0)
        assert restored.restored_by == final.start_seq + 1  # the CONTINUATION after the RETRY
        assert restored.attempt == 1 and owners == {1, 2}
    else:
        assert owners == {3}


def test_unproduced_spans_clip_to_the_window() -> None:
    evs: list[RecordedEvent] = [TokenEvent(ts=1.0, value="ab", index=0),
                                CompleteEvent(ts=2.0, content="abXYZ", token_count=1)]
    tl = _timeline(evs)
    assert tl.unproduced_spans(1) == [(2, 5)]
    assert tl.unproduced_spans(1, 3, 4) == [(3, 4)]
    with pytest.raises(IndexError):
        tl.provenance(1, 5)
