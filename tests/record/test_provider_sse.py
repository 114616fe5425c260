"""provider_sse: the SSE each API sends, and recordings turned back into it.

The shapes are checked by the real SDKs parsing them (through the fake
provider); these tests add what a replay needs: a recording read back with
``script_from_events`` streams, through the SDK, to the same recording again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from l0core.events import (
    CompleteEvent,
    ErrorEvent,
    RetryEvent,
    SerializedError,
    StartEvent,
    TokenEvent,
)
from l0core.events import SerializedOptions as Options
from l0core.record import record_anthropic, record_openai
from l0core.record.provider_sse import (
    ApiError,
    Script,
    ToolCall,
    anthropic_messages_sse,
    openai_chat_sse,
    openai_responses_sse,
    script_from_events,
)
from l0core.stores.base import BaseEventStore
from l0core.testing.fake_provider import FakeProvider, Reply
from tests.record.sdk_checks import TEXTS, read_sync, recorded
from tests.record.test_anthropic_sdk import REQUEST as MESSAGES
from tests.record.test_anthropic_sdk import event_text
from tests.record.test_openai_sdk import CHAT, chat_text


def data_lines(stream: Iterator[bytes]) -> list[Any]:
    """The JSON of each ``data:`` line ("[DONE]" kept as the string)."""
    out: list[Any] = []
    for event in stream:
        assert event.endswith(b"\n\n")
        for line in event.decode().splitlines():
            if line.startswith("data: "):
                payload = line[len("data: "):]
                out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def test_openai_chat_sse_is_one_event_per_chunk_and_ends_with_done() -> None:
    events = list(openai_chat_sse(["Hi", " there"], model="m1"))
    assert events[-1] == b"data: [DONE]\n\n"
    chunks = data_lines(iter(events))
    assert [c["choices"][0]["delta"].get("content") for c in chunks[:-2]] == ["", "Hi", " there"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert {c["model"] for c in chunks[:-1]} == {"m1"}


def test_an_error_event_is_injected_after_n_texts() -> None:
    error = ApiError("Overloaded", "overloaded_error")
    chat = data_lines(openai_chat_sse(TEXTS, error_after=1, error=error))
    assert chat[-1] == {"error": {"message": "Overloaded", "type": "overloaded_error",
                                  "param": None, "code": None}}
    assert [c["choices"][0]["delta"].get("content") for c in chat[:-1]] == ["", TEXTS[0]]
    messages = list(anthropic_messages_sse(TEXTS, error_after=1, error=error))
    assert messages[-1].startswith(b"event: error\n")
    assert data_lines(iter(messages[-1:])) == [
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]
    responses = data_lines(openai_responses_sse(TEXTS, error_after=1, error=error))
    assert responses[-1]["type"] == "error" and responses[-1]["code"] == "overloaded_error"
    assert [r["sequence_number"] for r in responses] == list(range(len(responses)))


def test_anthropic_event_order() -> None:
    call = ToolCall("f", ('{"a":', "1}"))
    kinds = [d["type"] for d in data_lines(anthropic_messages_sse(["x"], tool_calls=[call]))]
    assert kinds == ["message_start", "content_block_start", "ping", "content_block_delta",
                     "content_block_stop", "content_block_start", "content_block_delta",
                     "content_block_delta", "content_block_stop", "message_delta",
                     "message_stop"]


def test_script_from_events_takes_the_last_attempt_and_the_ending() -> None:
    events = [
        StartEvent(ts=1, options=Options(model="gpt-x")),
        TokenEvent(ts=2, value="bad", index=0),
        RetryEvent(ts=3, reason="guardrail", attempt=1, counts_toward_limit=True),
        TokenEvent(ts=4, value="go", index=0),
        TokenEvent(ts=5, value="od", index=1),
        CompleteEvent(ts=6, content="good", token_count=2),
    ]
    assert script_from_events(events) == Script(texts=("go", "od"), model="gpt-x",
                                                ending="complete", token_ts=(4, 5))
    cut = [*events[:4], ErrorEvent(ts=5, error=_error("x"), failure_type="network",
                                   recovery_strategy="halt", policy="default")]
    assert script_from_events(cut).ending == "cut"
    refused = [*events[:4], ErrorEvent(ts=5, error=_error("no", code="overloaded_error"),
                                       failure_type="model", recovery_strategy="halt",
                                       policy="default")]
    script = script_from_events(refused)
    assert (script.ending, script.error) == ("error", ApiError("no", "overloaded_error"))
    assert script_from_events(events[:4]).ending == "cut"  # never ended: the line dropped


def _error(message: str, code: str | None = None) -> SerializedError:
    return SerializedError(name="E", message=message, code=code)


@pytest.mark.parametrize("reply", [
    Reply(texts=TEXTS),
    Reply(texts=TEXTS, error_after=3, error=ApiError("Overloaded", "overloaded_error")),
    Reply(texts=TEXTS, cut_after=2),
], ids=["complete", "error", "cut"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_recording_replays_through_the_sdk_to_the_same_recording(
        store: BaseEventStore, provider: str, reply: Reply) -> None:
    def record(fake: FakeProvider, stream_id: str) -> None:
        if provider == "openai":
            with openai.OpenAI(base_url=fake.openai_base_url, api_key="t",
                               max_retries=0) as client:
                read_sync(record_openai(client.chat.completions.create(**CHAT, stream=True),
                                        store, stream_id=stream_id, request=CHAT), chat_text)
        else:
            with anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="t",
                                     max_retries=0) as client:
                read_sync(record_anthropic(client.messages.create(**MESSAGES, stream=True),
                                           store, stream_id=stream_id, request=MESSAGES),
                          event_text)

    with FakeProvider(reply) as fake:
        record(fake, "original")
    original = asyncio.run(recorded(store, "original"))
    with FakeProvider(Reply(texts=script_from_events(original))) as fake:
        record(fake, "replayed")
    replayed = asyncio.run(recorded(store, "replayed"))

    def shape(events: list[Any]) -> list[Any]:
        return [(type(e).__name__, getattr(e, "value", None), getattr(e, "failure_type", None),
                 getattr(e, "content", None)) for e in events]

    assert shape(replayed) == shape(original)
    assert original[0].options == replayed[0].options


def test_a_recorded_tool_call_replays(memory_store: BaseEventStore) -> None:
    call = ToolCall("get_weather", ('{"city":', '"Oslo"}'), id="call_1")
    with FakeProvider(Reply(texts=(), tool_calls=[call])) as fake, \
            openai.OpenAI(base_url=fake.openai_base_url, api_key="t", max_retries=0) as client:
        read_sync(record_openai(client.chat.completions.create(**CHAT, stream=True),
                                memory_store, stream_id="t", request=CHAT), chat_text)
    events = asyncio.run(recorded(memory_store, "t-tool-0"))
    assert ToolCall.from_events(events) == call
