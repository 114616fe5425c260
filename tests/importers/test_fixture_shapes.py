"""The test captures are real provider events: each validates against the SDK's own type.

Checked with the ``openai`` and ``anthropic`` SDKs' pydantic models (the APIs'
documented schemas), so the importer tests read what the providers send.
"""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import RawMessageStreamEvent
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from tests.importers import captures as c

_ANTHROPIC: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
_RESPONSES: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def _chat_objects() -> list[dict[str, Any]]:
    return [*c.chat_text("chatcmpl-1", ["Hel", "lo"]),
            *c.chat_tool_calls("chatcmpl-2", [("call_a", "get_weather", ['{"city":', '"Oslo"}']),
                                              ("call_b", "get_time", ["{}"])])]


def _responses_objects() -> list[dict[str, Any]]:
    r = c.Responses("resp_1")
    return [*r.answer("msg_1", ["Hi", " there"]),
            *r.function_call("fc_1", "call_1", "lookup", ['{"q":', '"x"}']),
            r.failed(), r.incomplete(), r.error()]


def _anthropic_objects() -> list[dict[str, Any]]:
    return [*c.anthropic_answer("msg_01", ["Hello", " world"]),
            *c.tool_block(1, "toolu_01", "get_weather", ['{"city":', ' "Paris"}']),
            *c.thinking_block(2, "Let me think."), c.anthropic_error()]


@pytest.mark.parametrize("obj", [o for o in _chat_objects() if "error" not in o])
def test_chat_chunks_are_sdk_chunks(obj: dict[str, Any]) -> None:
    chunk = ChatCompletionChunk.model_validate(obj)
    assert chunk.model_dump(exclude_unset=True) == obj


@pytest.mark.parametrize("obj", _responses_objects())
def test_responses_events_are_sdk_events(obj: dict[str, Any]) -> None:
    event = _RESPONSES.validate_python(obj)
    assert event.type == obj["type"]
    assert event.sequence_number == obj["sequence_number"]


@pytest.mark.parametrize("obj", _anthropic_objects())
def test_anthropic_events_are_sdk_events(obj: dict[str, Any]) -> None:
    # not in the SDK's union: its stream reader skips "ping" and raises "error"
    if obj["type"] == "ping":
        assert obj == {"type": "ping"}
        return
    if obj["type"] == "error":
        assert set(obj["error"]) == {"type", "message"}
        return
    event = _ANTHROPIC.validate_python(obj)
    assert event.type == obj["type"]
