"""The file store's fast TOKEN decoding agrees with the general codec, line for line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from l0core import CorruptionError, FileEventStore, TokenEvent, encode_envelope


def _line(seq: int, event: dict[str, object], stream_id: str = "s") -> bytes:
    return orjson.dumps({"streamId": stream_id, "seq": seq, "event": event}) + b"\n"


def _tok(i: int, ts: object = 1) -> dict[str, object]:
    return {"type": "TOKEN", "ts": ts, "value": f"v{i}", "index": i}


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
