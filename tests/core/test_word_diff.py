"""Word-level diff: what two runs wrote, whatever their token boundaries."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l0core.codec import decode_envelope, loads
from l0core.diff import diff_words, split_words, word_changes
from l0core.events import CompleteEvent, RecordedEvent, StartEvent, TokenEvent
from l0core.timeline import Timeline
from tests.core.strategies import envelopes, runs

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DEMO = Path(__file__).resolve().parents[2] / "demo_streams"
_WORDY = st.text(alphabet="ab c\n\u00e9", max_size=30)


def _tl(evs: list[RecordedEvent], stream_id: str = "s1") -> Timeline:
    return Timeline(stream_id, envelopes(evs, stream_id))


def _tokens(text: str, cuts: list[int], *, complete: bool = True) -> list[RecordedEvent]:
    edges = sorted({0, len(text), *(c for c in cuts if 0 < c < len(text))})
    evs: list[RecordedEvent] = [StartEvent(ts=0.0)]
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        evs.append(TokenEvent(ts=float(i + 1), value=text[lo:hi], index=i))
    if complete:
        evs.append(CompleteEvent(ts=99.0, content=text, token_count=len(edges) - 1))
    return evs


def _retokenise(evs: list[RecordedEvent], cuts: list[int]) -> list[RecordedEvent]:
    """The same events with each run of consecutive TOKENs cut at other places."""
    out: list[RecordedEvent] = []
    run: list[TokenEvent] = []

    def flush() -> None:
        text = "".join(t.value for t in run)
        if run:
            edges = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
            for k, (lo, hi) in enumerate(itertools.pairwise(edges)):
                out.append(TokenEvent(ts=run[0].ts, value=text[lo:hi], index=run[0].index + k))
        run.clear()

    for ev in evs:
        if isinstance(ev, TokenEvent):
            run.append(ev)
        else:
            flush()
            out.append(ev)
    flush()
    return out


@SETTINGS
@given(runs(), st.lists(st.integers(0, 200), max_size=8))
def test_a_stream_and_itself_retokenised_show_no_word_difference(
    evs: list[RecordedEvent], cuts: list[int]
) -> None:
    a, b = _tl(evs), _tl(_retokenise(evs, cuts), "s2")
    result = diff_words(a, b)
    assert result.identical and result.first is None
    assert result.a_text == result.b_text


@SETTINGS
@given(_WORDY, _WORDY)
def test_changes_turn_one_text_into_the_other(a: str, b: str) -> None:
    changes = word_changes(a, b)
    assert (changes == []) == (a == b)
    rebuilt, pos_a, pos_b = [], 0, 0
    for c in changes:
        assert a[pos_a : c.a_lo] == b[pos_b : c.b_lo]  # what lies between is the same
        assert (c.a_text, c.b_text) == (a[c.a_lo : c.a_hi], b[c.b_lo : c.b_hi])
        assert c.a_text != c.b_text
        rebuilt.append(b[pos_b : c.b_hi])
        pos_a, pos_b = c.a_hi, c.b_hi
    assert a[pos_a:] == b[pos_b:]
    assert "".join(rebuilt) + b[pos_b:] == b
    assert "".join(split_words(a)) == a


@SETTINGS
@given(_WORDY, st.lists(st.integers(0, 40), max_size=6), st.lists(st.integers(0, 40), max_size=6))
def test_token_boundaries_do_not_matter(text: str, cuts_a: list[int], cuts_b: list[int]) -> None:
    assert diff_words(_tl(_tokens(text, cuts_a)), _tl(_tokens(text, cuts_b), "s2")).identical


def test_the_first_changed_word_is_traced_to_its_token_on_each_side() -> None:
    a = _tl(_tokens("the quick brown fox", [2, 9, 12], complete=False))
    b = _tl(_tokens("the quick red fox", [4, 11], complete=False), "s2")
    result = diff_words(a, b)
    assert [(c.tag, c.a_text, c.b_text) for c in result.changes] == [("replace", "brown", "red")]
    first = result.first
    assert first is not None
    assert (first.a_word, first.b_word, first.a_offset, first.b_offset) == (
        "brown", "red", 10, 10)
    # A's "brown" starts in its 3rd token "ick b" (seq 3), B's "red" in its 2nd (seq 2)
    assert (first.a_seq, first.b_seq) == (3, 2)
    assert "brown" in first.describe() and "#3" in first.describe()


def test_whitespace_between_changed_words_joins_them() -> None:
    changes = word_changes("keep a b c keep", "keep x y z keep")
    assert [(c.a_text, c.b_text) for c in changes] == [("a b c", "x y z")]
    assert [c.tag for c in word_changes("a", "a b")] == ["insert"]
    assert [c.tag for c in word_changes("a b", "a")] == ["delete"]


def test_demo_pair_diverges_at_the_where_clause() -> None:
    def demo(name: str) -> Timeline:
        lines = (DEMO / f"{name}.jsonl").read_bytes().splitlines()
        envs = [decode_envelope(loads(line)) for line in lines if line.strip()]
        return Timeline(envs[0].stream_id, envs)

    a, b = demo("07a-compare-good"), demo("07b-compare-bad")
    result = diff_words(a, b)
    first = result.first
    assert first is not None
    assert (first.a_word, first.b_word) == ("o.created_at", "EXTRACT(YEAR")
    for tl, seq, offset, text in ((a, first.a_seq, first.a_offset, result.a_text),
                                  (b, first.b_seq, first.b_offset, result.b_text)):
        assert seq is not None
        ev = tl.envelope(seq).event
        assert isinstance(ev, TokenEvent)
        assert text[offset] in ev.value
