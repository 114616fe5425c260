"""The codec's tables: complete, spelled consistently, and driving every JSON shape."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import orjson
import pytest

from l0core import ReplayedState, decode_event, encode_event
from l0core.codec import (
    decode_snapshot,
    encode_metadata,
    encode_snapshot,
    encode_state,
    schema,
)
from l0core.codec.fields import Field
from l0core.events import (
    EVENT_CLASSES,
    DriftEventResult,
    GuardrailEventResult,
    SerializedError,
    SerializedOptions,
    Snapshot,
)
from l0core.fold import STATE_FIELDS, fold, snapshot_from_state
from l0core.metadata import StreamMetadata, metadata_from_state
from l0core.testing import every_kind

_ALL_FIELDS: list[Field] = [
    *schema.OPTION_FIELDS, *schema.ERROR_FIELDS, *schema.GUARDRAIL_RESULT_FIELDS,
    *schema.DRIFT_RESULT_FIELDS, *schema.STATE_FIELDS, *schema.SNAPSHOT_HEAD_FIELDS,
    *schema.ENVELOPE_FIELDS, *schema.METADATA_FIELDS,
    *(f for kind in schema.EVENT_KINDS for f in kind.fields),
]


def _snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), name)


def _attrs(cls: type[Any], *leave_out: str) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.name not in leave_out]


@pytest.mark.parametrize("field", _ALL_FIELDS, ids=lambda f: f.wire)
def test_each_field_is_read_in_both_spellings(field: Field) -> None:
    assert field.attr == _snake(field.wire)
    assert field.spellings[:2] == tuple(dict.fromkeys((field.wire, field.attr)))


def test_every_kind_is_declared_with_every_attribute_of_its_class() -> None:
    assert {k.event_type for k in schema.EVENT_KINDS} == set(EVENT_CLASSES)
    for kind in schema.EVENT_KINDS:
        assert kind.cls is EVENT_CLASSES[kind.event_type]
        assert [f.attr for f in kind.fields] == _attrs(kind.cls)


@pytest.mark.parametrize(("cls", "fields"), [
    (SerializedOptions, schema.OPTION_FIELDS),
    (SerializedError, schema.ERROR_FIELDS),
    (GuardrailEventResult, schema.GUARDRAIL_RESULT_FIELDS),
    (DriftEventResult, schema.DRIFT_RESULT_FIELDS),
    (Snapshot, schema.SNAPSHOT_HEAD_FIELDS + schema.STATE_FIELDS),
])
def test_every_payload_attribute_is_declared(cls: type[Any], fields: tuple[Field, ...]) -> None:
    assert [f.attr for f in fields] == _attrs(cls, "extra", "complete_state")


def test_replayed_state_fields_are_the_snapshot_state() -> None:
    assert [f.attr for f in schema.STATE_FIELDS] == list(STATE_FIELDS)
    public = {s for s in ReplayedState.__slots__ if not s.startswith("_")} | {"content"}
    assert set(STATE_FIELDS) == public


def _to_snake(wire: Any, fields: tuple[Field, ...]) -> Any:
    """``wire`` with every declared key in snake_case (nested payloads too)."""
    out = dict(wire)
    for f in fields:
        if f.wire in out:
            value = out.pop(f.wire)
            nested = {schema.OPTIONS: schema.OPTION_FIELDS, schema.ERROR: schema.ERROR_FIELDS,
                      schema.GUARDRAIL_RESULT: schema.GUARDRAIL_RESULT_FIELDS,
                      schema.DRIFT_RESULT: schema.DRIFT_RESULT_FIELDS}.get(f.value)
            out[f.attr] = _to_snake(value, nested) if nested and value is not None else value
    return out


def test_the_snake_case_spelling_of_every_kind_reads_the_same() -> None:
    kinds = {k.event_type: k for k in schema.EVENT_KINDS}
    for event in every_kind():
        wire = encode_event(event)
        snake = _to_snake(wire, kinds[event.type].fields)
        assert decode_event(orjson.loads(orjson.dumps(snake))) == event


def test_state_json_has_the_spec_names_in_order() -> None:
    events = every_kind()
    state = fold(events)
    assert list(encode_state(state)) == [
        "content", "tokenCount", "checkpoint", "violations", "driftDetected", "retryAttempts",
        "networkRetryCount", "fallbackIndex", "completed", "error", "startTs", "endTs"]
    assert encode_state(state)["error"]["name"] == "TimeoutError"
    assert encode_state(ReplayedState())["error"] is None
    snap = encode_snapshot(snapshot_from_state("s", len(events) - 1, state, ts=5.0))
    assert {k: v for k, v in snap.items() if k not in ("streamId", "seq", "ts")} == \
        encode_state(state)
    assert decode_snapshot(snap).content == state.content


def test_metadata_json_names_and_unknown_model() -> None:
    meta = metadata_from_state("s", 3, ReplayedState(token_count=2), SerializedOptions(), 9.0)
    out = encode_metadata(meta)
    assert list(out) == ["streamId", "model", "status", "eventCount", "tokenCount", "startTs",
                         "endTs", "durationMs", "retryAttempts", "networkRetryCount",
                         "violationCount", "fallbackIndex", "driftDetected", "completed",
                         "hasError"]
    assert out["model"] is None and out["status"] == "running" and out["tokenCount"] == 2
    named = StreamMetadata(stream_id="s", event_count=1, token_count=0, start_ts=1.0, end_ts=3.0,
                           completed=True, has_error=False,
                           options=SerializedOptions(model="m"))
    assert encode_metadata(named)["model"] == "m" and encode_metadata(named)["durationMs"] == 2.0
