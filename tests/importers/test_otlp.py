"""OTLP JSON traces imported: GenAI, older GenAI, OpenInference spans, field by field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from l0core import CompleteEvent, ErrorEvent, StartEvent, TokenEvent, create_in_memory_event_store
from l0core.importers import ImportFormatError, import_into
from tests.importers import otlp_build as o
from tests.importers.helpers import events, import_info, imported, state, write

TRACE = "5b8efff798038103d269b633813fc60c"
TRACE_B = "0af7651916cd43dd8448eb211c80319c"
T0_MS = o.T0 // o.MS


def chat_span(span_id: str = "eee19b7ec3c1b174", *, trace: str = TRACE, **attrs: object) -> dict:
    base: dict[str, object] = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o", "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.input.messages": json.dumps([
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]),
        "gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.response.id": "chatcmpl-9J",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 5,
        "gen_ai.output.messages": o.genai_messages("assistant", "Sunny, 21 °C.", "stop"),
    }
    base.update(attrs)
    return o.span(trace, span_id, "chat gpt-4o", attrs=base)


async def test_genai_plain_answer(tmp_path: Path) -> None:
    line = o.traces([chat_span(**{"gen_ai.response.time_to_first_chunk": 0.25})])
    o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "trace.jsonl", line))
    assert ids == ["chatcmpl-9J"]
    st = await state(store, "chatcmpl-9J")
    assert (st.content, st.token_count, st.completed, st.error) == ("Sunny, 21 °C.", 1, True,
                                                                    None)
    assert (st.start_ts, st.end_ts) == (T0_MS, T0_MS + 900)
    evs = await events(store, "chatcmpl-9J")
    start, token = evs[0], evs[1]
    assert isinstance(start, StartEvent) and isinstance(token, TokenEvent)
    assert token.ts == T0_MS + 250  # start + time to first chunk
    assert start.options.model == "gpt-4o"
    assert start.options.prompt == "Weather in Paris?"
    assert start.options.extra == {"temperature": 0.2, "max_tokens": 100}
    meta = start.options.metadata or {}
    assert (meta["provider"], meta["api"]) == ("openai", "chat")
    info = import_info(start)
    assert (info["format"], info["traceId"], info["spanId"]) == ("otlp", TRACE,
                                                                 "eee19b7ec3c1b174")
    assert info["usage"] == {"gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 5}
    assert info["finishReasons"] == ["stop"]
    assert info["service"] == "checkout-api" and info["timestamps"] == "source"


async def test_genai_tool_call(tmp_path: Path) -> None:
    output = json.dumps([{"role": "assistant", "finish_reason": "tool_call", "parts": [
        {"type": "text", "content": "Looking it up."},
        {"type": "tool_call", "id": "call_9", "name": "lookup", "arguments": {"sku": "A-1"}}]}])
    line = o.traces([chat_span(**{"gen_ai.output.messages": output})])
    o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "tool.jsonl", line))
    assert ids == ["chatcmpl-9J", "chatcmpl-9J-tool-0"]
    st = await state(store, "chatcmpl-9J")
    assert (st.content, st.token_count, st.completed) == ("Looking it up.", 1, True)
    tool = await state(store, "chatcmpl-9J-tool-0")
    assert (tool.content, tool.token_count, tool.completed) == ('{"sku":"A-1"}', 1, True)
    start = (await events(store, "chatcmpl-9J-tool-0"))[0]
    assert isinstance(start, StartEvent)
    meta = start.options.metadata or {}
    assert (meta["parentStreamId"], meta["toolCallId"], meta["toolName"]) == (
        "chatcmpl-9J", "call_9", "lookup")


async def test_error_span_keeps_the_output_it_had(tmp_path: Path) -> None:
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
             "error.type": "TimeoutError"}
    events_ = [
        o.event("gen_ai.content.completion", o.T0 + 300 * o.MS,
                {"gen_ai.completion": json.dumps([{"role": "assistant",
                                                   "content": "It was a dark"}])}),
        o.event("exception", o.T0 + 800 * o.MS, {
            "exception.type": "openai.APITimeoutError", "exception.message": "Request timed out.",
            "exception.stacktrace": "Traceback (most recent call last): ..."}),
    ]
    line = o.traces([o.span(TRACE, "00f067aa0ba902b7", "chat gpt-4o", attrs=attrs,
                            events=events_, error="upstream timed out")])
    o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "err.jsonl", line))
    assert ids == [f"{TRACE}-00f067aa0ba902b7"]  # no response id: trace and span
    st = await state(store, ids[0])
    assert (st.content, st.token_count, st.completed) == ("It was a dark", 1, False)
    assert st.error is not None
    assert (st.error.name, st.error.message) == ("TimeoutError", "upstream timed out")
    assert st.error.stack == "Traceback (most recent call last): ..."
    evs = await events(store, ids[0])
    assert isinstance(evs[1], TokenEvent) and evs[1].ts == T0_MS + 300  # the event's time
    last = evs[-1]
    assert isinstance(last, ErrorEvent)
    assert (last.failure_type, last.recovery_strategy) == ("timeout", "halt")


async def test_truncated_file_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    good = o.traces([chat_span()])
    second = o.traces([chat_span("1111111111111111", trace=TRACE_B)])
    path = write(tmp_path, "cut.jsonl", good + second[: len(second) // 2])
    store = create_in_memory_event_store()
    with pytest.raises(ImportFormatError) as caught:
        await import_into(store, path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 2: the file ends inside this line")
    assert "nothing imported" in message and "\n" not in message
    assert await store.list_streams() == []


async def test_several_streams_outermost_inference_spans(tmp_path: Path) -> None:
    agent = o.span(TRACE, "a000000000000001", "invoke_agent planner", attrs={
        "gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "gpt-4o"})
    first = chat_span("c000000000000001", **{"gen_ai.response.id": "chatcmpl-first"})
    first["parentSpanId"] = "a000000000000001"
    second = chat_span("c000000000000002", **{
        "gen_ai.response.id": "chatcmpl-second",
        "gen_ai.output.messages": o.genai_messages("assistant", "Second.", "stop")})
    second["parentSpanId"] = "a000000000000001"
    inner = o.span(TRACE, "d000000000000001", "ChatOpenAI", parent="c000000000000002", attrs={
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
        "output.value": "inner copy"})
    tool = o.span(TRACE, "e000000000000001", "execute_tool lookup", parent="a000000000000001",
                  attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"})
    other = o.span(TRACE_B, "f000000000000001", "chat claude", attrs={
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.output.messages": o.genai_messages("assistant", "Other trace.", "stop")})
    # children are exported before their parents, as a batch span processor does
    text = o.traces([inner, first, second, tool, agent]) + o.traces([other])
    for line in text.splitlines():
        o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "many.jsonl", text))
    assert ids == ["chatcmpl-first", "chatcmpl-second", f"{TRACE_B}-f000000000000001"]
    contents = [(await state(store, i)).content for i in ids]
    assert contents == ["Sunny, 21 °C.", "Second.", "Other trace."]


async def test_older_genai_indexed_attributes(tmp_path: Path) -> None:
    attrs = {
        "gen_ai.system": "openai", "gen_ai.request.model": "gpt-3.5-turbo",
        "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "You are terse.",
        "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": "Ping?",
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "Pong.",
        "gen_ai.completion.0.finish_reason": "tool_calls",
        "gen_ai.completion.0.tool_calls.0.id": "call_x",
        "gen_ai.completion.0.tool_calls.0.name": "ring",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"times":2}',
        "gen_ai.usage.prompt_tokens": 7, "gen_ai.usage.completion_tokens": 2,
    }
    line = o.traces([o.span(TRACE, "b7ad6b7169203331", "openai.chat", attrs=attrs)])
    o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "old.jsonl", line))
    assert ids == [f"{TRACE}-b7ad6b7169203331", f"{TRACE}-b7ad6b7169203331-tool-0"]
    start = (await events(store, ids[0]))[0]
    assert isinstance(start, StartEvent)
    assert (start.options.prompt, start.options.model) == ("Ping?", "gpt-3.5-turbo")
    assert (start.options.metadata or {})["provider"] == "openai"
    assert import_info(start)["finishReasons"] == ["tool_calls"]
    st = await state(store, ids[0])
    assert (st.content, st.token_count, st.completed) == ("Pong.", 1, True)
    assert (await state(store, ids[1])).content == '{"times":2}'


async def test_older_genai_content_events(tmp_path: Path) -> None:
    prompt = json.dumps([{"role": "user", "content": "Tell me a joke"}])
    events_ = [
        o.event("gen_ai.content.prompt", o.T0 + 1 * o.MS, {"gen_ai.prompt": prompt}),
        o.event("gen_ai.choice", o.T0 + 450 * o.MS, {
            "index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Why did the span end?"}}),
        o.event("gen_ai.choice", o.T0 + 460 * o.MS, {
            "index": 1, "message": {"role": "assistant", "content": "another choice"}}),
    ]
    line = o.traces([o.span(TRACE, "c7ad6b7169203331", "chat", events=events_,
                            attrs={"gen_ai.request.model": "gpt-4o-mini"})])
    o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "events.jsonl", line))
    start, token, complete = await events(store, ids[0])
    assert isinstance(start, StartEvent) and start.options.prompt == "Tell me a joke"
    assert isinstance(token, TokenEvent)
    assert (token.value, token.ts) == ("Why did the span end?", T0_MS + 450)  # choice 0 only
    assert isinstance(complete, CompleteEvent) and complete.content == "Why did the span end?"


async def test_openinference_llm_span(tmp_path: Path) -> None:
    attrs = {
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
        "llm.invocation_parameters": json.dumps({"temperature": 0.5, "model": "gpt-4o-mini"}),
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "Assist.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": "Capital of France?",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "Paris.",
        "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_oi",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "cite",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"n":1}',
        "llm.token_count.prompt": 20, "llm.token_count.completion": 2,
        "llm.token_count.total": 22,
    }
    plain = {"openinference.span.kind": "LLM", "input.value": "Say yes",
             "output.value": "yes"}
    text = o.traces([o.span(TRACE, "1234567890abcdef", "ChatCompletion", attrs=attrs)]) + \
        o.traces([o.span(TRACE_B, "fedcba0987654321", "llm", attrs=plain)])
    for line in text.splitlines():
        o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "oi.jsonl", text))
    assert ids == [f"{TRACE}-1234567890abcdef", f"{TRACE}-1234567890abcdef-tool-0",
                   f"{TRACE_B}-fedcba0987654321"]
    start = (await events(store, ids[0]))[0]
    assert isinstance(start, StartEvent)
    assert (start.options.model, start.options.prompt) == ("gpt-4o-mini", "Capital of France?")
    assert start.options.extra == {"temperature": 0.5}
    assert import_info(start)["usage"] == {"llm.token_count.prompt": 20,
                                           "llm.token_count.completion": 2,
                                           "llm.token_count.total": 22}
    assert (await state(store, ids[0])).content == "Paris."
    assert (await state(store, ids[1])).content == '{"n":1}'
    plain_start = (await events(store, ids[2]))[0]
    assert isinstance(plain_start, StartEvent) and plain_start.options.prompt == "Say yes"
    assert (await state(store, ids[2])).content == "yes"
