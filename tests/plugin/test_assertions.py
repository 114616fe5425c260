"""The assertion helpers: they pass on equal runs and say, word by word, what differs."""

from __future__ import annotations

import pytest

from l0core import ReplayedState
from l0core.recorded import load_recorded_events_sync
from l0core.recorded.assertions import (
    assert_content,
    assert_final_state,
    assert_no_violations,
    assert_retries_at_most,
)
from tests.paths import DEMO_STREAMS

GOOD = DEMO_STREAMS / "07a-compare-good.jsonl"
BAD = DEMO_STREAMS / "07b-compare-bad.jsonl"


def _message(call: object) -> str:
    with pytest.raises(AssertionError) as info:
        call()  # type: ignore[operator]
    return str(info.value)


def test_equal_runs_pass() -> None:
    good = load_recorded_events_sync(GOOD)
    assert_final_state(good, load_recorded_events_sync(GOOD))
    assert_final_state(good, {"completed": True, "retry_attempts": 0})
    assert_no_violations(good)
    assert_retries_at_most(good, 0)


def test_final_state_diff_names_fields_words_seqs_and_files() -> None:
    good, bad = load_recorded_events_sync(GOOD), load_recorded_events_sync(BAD)
    text = _message(lambda: assert_final_state(bad, good))
    assert text.startswith("final state differs from the expected (4 field(s)")
    assert "  token_count: 132 vs 111" in text
    assert "  violations: 0 vs 1" in text
    assert ("first different word: expected 'o.created_at' (written at #41), actual "
            "'EXTRACT(YEAR' (written at #41)") in text
    assert "WHERE [-o.created_at >= DATE '2025-01-01'-]{+EXTRACT(YEAR FROM o.created_at) = " \
           "2025+}" in text
    assert f"expected: {GOOD}" in text and f"actual: {BAD}" in text


def test_fields_given_as_a_mapping() -> None:
    good = load_recorded_events_sync(GOOD)
    text = _message(lambda: assert_final_state(good, {"completed": False, "token_count": 1}))
    assert "completed: False vs True" in text and "token_count: 1 vs 132" in text
    assert "content" not in text.split("\n")[1]
    with pytest.raises(TypeError, match="unknown state field"):
        assert_final_state(good, {"contents": "x"})


def test_content_diff_is_word_level_and_escaped() -> None:
    state = ReplayedState(content="The quick red fox\x1b[2J jumps.")
    text = _message(lambda: assert_content(state, "The quick brown fox jumps."))
    assert "The quick [-brown fox-]{+red fox\\x1b[2J+} jumps." in text
    assert "\x1b" not in text
    spacing = _message(lambda: assert_content("a  b", "a b"))
    assert "[- -]{+  +}" in spacing


def test_violations_are_listed() -> None:
    run = load_recorded_events_sync(DEMO_STREAMS / "03-guardrail-retry.jsonl")
    text = _message(lambda: assert_no_violations(run))
    assert text.startswith("1 guardrail violation(s):")
    assert "no-medical-claims (error): 'clinically proven' is a medical claim" in text


def test_retries_are_counted_by_kind_and_listed() -> None:
    run = load_recorded_events_sync(DEMO_STREAMS / "02-network-retry-continuation.jsonl")
    assert_retries_at_most(run, 0, kind="model")
    assert_retries_at_most(run, 1)
    text = _message(lambda: assert_retries_at_most(run, 0))
    assert text.startswith("1 retry, expected at most 0 (0 model, 1 network):")
    assert "retry 1: network_error: Connection reset by peer" in text and "(network)" in text
    with pytest.raises(ValueError, match="kind must be"):
        assert_retries_at_most(run, 0, kind="other")
