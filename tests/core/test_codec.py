"""The wire format: exact camelCase output, both spellings in, interop fixtures."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

import orjson
import pytest

from l0core import (
    ErrorEvent,
    EventEnvelope,
    EventValidationError,
    RecordedEventType,
    SerializedError,
    TokenEvent,
    create_event_replayer,
    create_in_memory_event_store,
    decode_envelope,
    decode_event,
    deserialize_error,
    encode_envelope,
    encode_event,
    serialize_error,
)
from l0core.codec import decode_snapshot, encode_snapshot
from l0core.testing import every_kind
from tests.paths import INTEROP


def test_design_example_is_written_exactly() -> None:
    env = EventEnvelope("s1", 0, TokenEvent(ts=1712345678123, value="Hi", index=0))
    assert orjson.dumps(encode_envelope(env)) == (
        b'{"streamId":"s1","seq":0,"event":{"type":"TOKEN","ts":1712345678123,'
        b'"value":"Hi","index":0}}'
    )


def test_every_kind_round_trips_through_json() -> None:
    for event in every_kind():
        wire = encode_event(event)
        back = decode_event(orjson.loads(orjson.dumps(wire)))
        assert back == event
        assert encode_event(back) == wire


def test_snake_case_spelling_is_read() -> None:
    env = decode_envelope({"stream_id": "s", "seq": 3, "event": {
        "type": "COMPLETE", "ts": 1.5, "content": "x", "token_count": 4}})
    assert env.stream_id == "s" and env.seq == 3
    assert encode_event(env.event) == {"type": "COMPLETE", "ts": 1.5, "content": "x",
                                       "tokenCount": 4}


def test_policy_string_or_object() -> None:
    base = {"type": "ERROR", "ts": 1, "error": {"name": "E", "message": "m"},
            "failureType": "network", "recoveryStrategy": "retry"}
    assert isinstance(decode_event({**base, "policy": "default"}), ErrorEvent)
    obj = decode_event({**base, "policy": {"retryEnabled": True, "custom": [1]}})
    assert isinstance(obj, ErrorEvent) and obj.policy == {"retryEnabled": True, "custom": [1]}


def test_event_type_compares_to_spec_string() -> None:
    event = decode_event({"type": "FALLBACK", "ts": 1, "to": 2})
    assert event.type == "FALLBACK" and event.type is RecordedEventType.FALLBACK


@pytest.mark.parametrize("bad", [None, [], "TOKEN", {"type": "TOKEN", "ts": 1, "value": "x"}])
def test_decode_rejects_bad_shapes(bad: object) -> None:
    with pytest.raises(EventValidationError):
        decode_event(bad)


def test_snapshot_round_trip_and_foreign_snapshots() -> None:
    for name in ("ts-file-store", "py-file-store"):
        data = orjson.loads((INTEROP / name / "demo-stream.snapshot.json").read_bytes())
        snap = decode_snapshot(data)
        assert (snap.stream_id, snap.seq, snap.content, snap.token_count) == (
            "demo-stream", 3, "Quantum", 1)
        assert snap.complete_state is False  # written by another library: not trusted to replay
        assert decode_snapshot(encode_snapshot(snap)) == snap


def test_serialized_error_round_trip() -> None:
    class RateLimited(Exception):
        code = "429"
        metadata: ClassVar[dict[str, int]] = {"retryAfterMs": 1200}

    try:
        raise RateLimited("slow down")
    except RateLimited as exc:
        stored = serialize_error(exc)
    assert (stored.name, stored.message, stored.code) == ("RateLimited", "slow down", "429")
    assert stored.metadata == {"retryAfterMs": 1200}
    assert stored.stack is not None and "RateLimited: slow down" in stored.stack
    rebuilt = deserialize_error(stored)
    assert str(rebuilt) == "slow down" and rebuilt.name == "RateLimited"
    assert rebuilt.code == "429" and rebuilt.stack == stored.stack
    assert serialize_error(rebuilt) == stored
    extra = SerializedError(name="E", message="m", extra={"cause": "x"})
    assert serialize_error(deserialize_error(extra)) == extra


@pytest.mark.parametrize("name", ["ts-file-store", "py-file-store"])
async def test_interop_fixture_replays_to_the_anchor_state(name: str) -> None:
    envelopes = [decode_envelope(e) for e in
                 orjson.loads((INTEROP / name / "demo-stream.json").read_bytes())]
    store = create_in_memory_event_store()
    await store.append_many("demo-stream", [e.event for e in envelopes])
    state = await create_event_replayer(store).replay_to_state("demo-stream")
    assert state.content == "Quantum computing"
    assert state.token_count == 2
    assert state.checkpoint == "Quantum"
    assert [v["rule"] for v in state.violations] == ["json"]
    assert state.drift_detected is False
    assert (state.retry_attempts, state.network_retry_count, state.fallback_index) == (0, 1, 1)
    assert state.completed is True
    assert state.error is not None and (state.error.name, state.error.message) == ("Error",
                                                                                   "Failed")
    assert state.start_ts == envelopes[0].event.ts and state.end_ts == envelopes[-1].event.ts
    # Writing it back gives the spec's camelCase shape, keeping the TS policy object.
    stored = await store.get_events("demo-stream")
    wire = encode_envelope(stored[-1])
    assert wire["event"]["failureType"] == "network"
    assert "failure_type" not in wire["event"]


def test_l0core_imports_no_ui() -> None:
    code = (
        "import sys, l0core, l0core.replay, l0core.stores.registry\n"
        "import l0core.stores.memory, l0core.metadata, l0core.compare\n"
        "for extra in ('l0core.timeline', 'l0core.diff', 'l0core.stores.file',"
        " 'l0core.stores.sqlite', 'l0core.record'):\n"
        "    try:\n        __import__(extra)\n    except ImportError:\n        pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
