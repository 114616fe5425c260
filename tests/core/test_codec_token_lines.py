"""The fast TOKEN paths of the codec agree with the checked, table-driven path.

``l0core.codec.tokens`` may refuse a token line (the checked path then decodes
it), but must never accept one the checked path rejects, or build another event.
The same holds for the TOKEN shortcuts in ``decode_event`` and ``encode_event``.
The first tests go through the file store, which reads its JSONL this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from l0core import (
    CorruptionError,
    EventValidationError,
    FileEventStore,
    TokenEvent,
    decode_envelope,
    decode_event,
    encode_envelope,
    encode_event,
)
from l0core.codec import decode_token_line, decode_token_run
from l0core.codec.wire import CHECKED_DECODERS, CHECKED_ENCODERS


def _line(seq: int, event: dict[str, object], stream_id: str = "s") -> bytes:
    return orjson.dumps({"streamId": stream_id, "seq": seq, "event": event}) + b"\n"


def _tok(i: int, ts: object = 1) -> dict[str, object]:
    return {"type": "TOKEN", "ts": ts, "value": f"v{i}", "index": i}


# ── through the file store ──


async def test_int_and_float_ts_keep_their_type(tmp_path: Path) -> None:
    (tmp_path / "s.jsonl").write_bytes(
        _line(0, _tok(0, 1712345678123)) + _line(1, _tok(1, 1712345678123.25))
        + _line(2, {**_tok(2), "vendor": "x"})  # an unknown key: the general path
    )
    store = FileEventStore(str(tmp_path), read_only=True)
    got = await store.get_events("s")
    assert [type(e.event.ts) for e in got] == [int, float, int]
    assert [encode_envelope(e)["event"]["value"] for e in got] == ["v0", "v1", "v2"]
    assert got[0].event == TokenEvent(ts=1712345678123, value="v0", index=0)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "TOKEN_X", "ts": 1, "value": "x", "index": 2},
        {"ts": 1, "value": "x", "index": 2},
        {"type": "TOKEN", "ts": True, "value": "x", "index": 2},
        {"type": "TOKEN", "ts": 1, "value": "x", "index": 2.5},
    ],
)
async def test_lines_the_fast_path_refuses_are_still_corruption(tmp_path: Path,
                                                                 bad: dict[str, object]) -> None:
    head = _line(0, _tok(0)) + _line(1, _tok(1))
    (tmp_path / "s.jsonl").write_bytes(head + _line(2, bad) + _line(3, _tok(3)))
    store = FileEventStore(str(tmp_path), read_only=True)
    with pytest.raises(CorruptionError) as err:
        await store.get_events("s")
    assert err.value.offset == len(head)


async def test_wrong_seq_or_stream_on_a_token_line_is_corruption(tmp_path: Path) -> None:
    for tail in (_line(5, _tok(2)), _line(2, _tok(2), stream_id="other")):
        (tmp_path / "s.jsonl").write_bytes(_line(0, _tok(0)) + _line(1, _tok(1)) + tail
                                           + _line(3, _tok(3)))
        with pytest.raises(CorruptionError):
            await FileEventStore(str(tmp_path), read_only=True).get_events("s")


# ── the fast paths against the checked path, directly ──

_EDGE_NUMBERS: list[Any] = [0, -1, 7, 1712345678123, 2**63 - 1, -(2**63 - 1), 2**63, -(2**63),
                            2**64 - 1, 2**64, 1.5, -0.0, 1e308, 1.0, True, False, None, "1",
                            [1], {"n": 1}]
_values: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=8), st.sampled_from([None, 5, True, [], {}, "\x1b[31m"]))
_numbers: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(_EDGE_NUMBERS), st.integers(), st.floats(allow_nan=False))


@st.composite
def token_wires(draw: st.DrawFn) -> dict[str, Any]:
    """TOKEN-like wire events: mostly valid, often wrong in one or two ways."""
    event: dict[str, Any] = {"type": draw(st.sampled_from(["TOKEN", "TOKEN", "COMPLETE", "token"])),
                             "ts": draw(_numbers), "value": draw(_values), "index": draw(_numbers)}
    for key in draw(st.lists(st.sampled_from(["ts", "value", "index", "type"]), max_size=1)):
        del event[key]
    if draw(st.booleans()):
        event[draw(st.sampled_from(["vendor", "token_count", "tokenCount"]))] = 1
    return event


def _checked(line: bytes, stream_id: str, seq: int) -> tuple[str, Any]:
    """What the checked path makes of ``line`` at ``seq``: the envelope, or why not."""
    try:
        env = decode_envelope(orjson.loads(line))
    except (orjson.JSONDecodeError, EventValidationError) as exc:
        return "refused", type(exc).__name__
    if (env.stream_id, env.seq) != (stream_id, seq):
        return "refused", "elsewhere"
    return "ok", env


@given(token_wires(), st.sampled_from(["s", "other"]), st.sampled_from([0, 3]),
       st.booleans())
def test_a_fast_line_is_exactly_what_the_checked_path_decodes(
    event: dict[str, Any], stream_id: str, seq: int, snake: bool
) -> None:
    envelope = {"stream_id" if snake else "streamId": stream_id, "seq": seq, "event": event}
    try:
        line = orjson.dumps(envelope)
    except TypeError:  # an integer orjson cannot write: nothing to read
        return
    fast = decode_token_line(line, "s", 3)
    verdict, checked = _checked(line, "s", 3)
    if fast is not None:
        assert verdict == "ok" and fast == checked
        assert type(fast.event.ts) is type(checked.event.ts)


@pytest.mark.parametrize(
    "line",
    [
        b'{"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1e400,"value":"x","index":0}}',
        b'{"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1,"value":"\\ud800","index":0}}',
        b'{"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1,"value":"\xff","index":0}}',
        b'{"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1,"value":"x","index":0}',
        b'{"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1,"value":"x","index":1e2}}',
        b'{"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1,"value":"x","index":-0}}',
        b'{"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1.0e3,"value":"\\u00e9","index":0}}',
        b'{"seq":0,"streamId":"s","event":{"index":0,"value":"x","ts":1,"type":"TOKEN"}}',
        b'  {"streamId":"s","seq":0,"event":{"type":"TOKEN","ts":1,"value":"x","index":0}}  ',
        b"",
        b"null",
    ],
)
def test_hand_written_lines_agree(line: bytes) -> None:
    fast = decode_token_line(line, "s", 0)
    verdict, checked = _checked(line, "s", 0)
    if fast is not None:
        assert verdict == "ok" and fast == checked


def test_a_run_stops_at_the_first_line_off_the_fast_path() -> None:
    lines = [_line(0, _tok(0)).rstrip(), _line(1, _tok(1)).rstrip(),
             _line(2, {"type": "FALLBACK", "ts": 1, "to": 1}).rstrip(), _line(3, _tok(3)).rstrip()]
    out: list[Any] = []
    assert decode_token_run(lines, 0, "s", 0, out) == 2
    assert [e.seq for e in out] == [0, 1]
    assert decode_token_run(lines, 3, "s", 0, out) == 4
    assert [e.seq for e in out] == [0, 1, 3]
    assert decode_token_run(lines, 4, "s", 0, out) == 4


def _outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except EventValidationError as exc:
        return "error", str(exc)


@given(token_wires())
def test_decode_event_shortcut_is_the_table(event: dict[str, Any]) -> None:
    fast = _outcome(decode_event, event)
    if event.get("type") == "TOKEN":
        checked = _outcome(CHECKED_DECODERS["TOKEN"], event, "event")
        assert fast == checked
        if fast[0] == "ok":
            assert type(fast[1].ts) is type(checked[1].ts)


@given(_numbers, _values, _numbers)
def test_encode_event_shortcut_is_the_table(ts: Any, value: Any, index: Any) -> None:
    token = TokenEvent(ts=ts, value=value, index=index)
    assert _outcome(encode_event, token) == _outcome(CHECKED_ENCODERS[TokenEvent], token, "event")
