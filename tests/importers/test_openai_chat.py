"""OpenAI Chat Completions captures (SSE and JSON Lines) imported, checked field by field."""

from __future__ import annotations

from pathlib import Path

from l0core import CompleteEvent, ErrorEvent, StartEvent, TokenEvent
from l0core.importers import iter_imported
from tests.importers import captures as c
from tests.importers.helpers import events, import_info, imported, state, write


async def test_plain_answer_sse(tmp_path: Path) -> None:
    path = write(tmp_path, "chat.sse", c.sse_data(c.chat_text("chatcmpl-A1", ["The", " answer"])))
    items = []
    for item in iter_imported(path):
        assert len(list(item.events)) == 4
        items.append(item)
    assert len(items) == 1
    item = items[0]
    assert item.finish_reason == "stop"
    assert item.usage == c.chat_usage(completion=2)
    assert item.outcome == "completed"
    store, ids = await imported(path)
    assert ids == ["chatcmpl-A1"]
    st = await state(store, "chatcmpl-A1")
    assert (st.content, st.token_count, st.completed, st.error) == ("The answer", 2, True, None)
    stored = await events(store, "chatcmpl-A1")
    assert [e.type for e in stored] == ["START", "TOKEN", "TOKEN", "COMPLETE"]
    start = stored[0]
    assert isinstance(start, StartEvent)
    assert start.options.model == c.CHAT_MODEL
    info = import_info(start)
    assert (info["format"], info["container"], info["responseId"]) == (
        "openai-chat", "sse", "chatcmpl-A1")
    assert info["head"]["system_fingerprint"] == "fp_0ba0d124f1"
    # no capture times: created (s) * 1000 + 1 ms per event
    assert info["timestamps"] == "missing" and info["syntheticTs"] == "created+1ms"
    assert [e.ts for e in stored] == [c.CHAT_CREATED * 1000 + n for n in range(4)]


async def test_plain_answer_jsonl_with_request(tmp_path: Path) -> None:
    request = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
               "temperature": 0.7, "max_tokens": 64, "timeout": 30,
               "messages": [{"role": "system", "content": "Be brief."},
                            {"role": "user", "content": "What is 2+2?"}]}
    chunks = c.chat_text("chatcmpl-B2", ["4", "."])
    times = [1733000001000.5 + n for n in range(len(chunks))]
    path = write(tmp_path, "chat.jsonl", c.request_line(request) + c.jsonl(chunks, ts=times))
    store, ids = await imported(path)
    stored = await events(store, ids[0])
    start = stored[0]
    assert isinstance(start, StartEvent)
    assert start.options.prompt == "What is 2+2?"
    assert start.options.model == c.CHAT_MODEL
    assert start.options.timeout is None  # the request's "timeout" is not L0's option
    assert start.options.extra == {"temperature": 0.7, "max_tokens": 64, "request.timeout": 30}
    assert import_info(start)["timestamps"] == "source"
    assert start.ts == times[0]
    assert [e.ts for e in stored if isinstance(e, TokenEvent)] == [times[1], times[2]]
    complete = stored[-1]
    assert isinstance(complete, CompleteEvent) and complete.ts == times[3]  # the finish chunk
    st = await state(store, ids[0])
    assert (st.content, st.token_count, st.completed) == ("4.", 2, True)


async def test_tool_calls_are_their_own_streams(tmp_path: Path) -> None:
    chunks = c.chat_tool_calls("chatcmpl-T", [
        ("call_1", "get_weather", ['{"loc', 'ation": ', '"Paris"}']),
        ("call_2", "get_time", ['{"tz":"CET"}']),
    ])
    path = write(tmp_path, "tools.sse", c.sse_data(chunks))
    store, ids = await imported(path)
    assert ids == ["chatcmpl-T", "chatcmpl-T-tool-0", "chatcmpl-T-tool-1"]
    parent = await state(store, "chatcmpl-T")
    assert (parent.content, parent.token_count, parent.completed) == ("", 0, True)
    first = await state(store, "chatcmpl-T-tool-0")
    assert (first.content, first.token_count, first.completed) == ('{"location": "Paris"}', 3,
                                                                   True)
    second = await state(store, "chatcmpl-T-tool-1")
    assert (second.content, second.token_count) == ('{"tz":"CET"}', 1)
    for n, (call_id, name) in enumerate((("call_1", "get_weather"), ("call_2", "get_time"))):
        start = (await events(store, f"chatcmpl-T-tool-{n}"))[0]
        assert isinstance(start, StartEvent)
        meta = start.options.metadata or {}
        assert (meta["parentStreamId"], meta["toolIndex"], meta["toolCallId"],
                meta["toolName"]) == ("chatcmpl-T", n, call_id, name)


async def test_error_object_mid_stream(tmp_path: Path) -> None:
    chunks = c.chat_text("chatcmpl-E", ["Half", " way"], finish=None)
    path = write(tmp_path, "err.sse", c.sse_data([*chunks, c.chat_error(code="rate_limit")],
                                                 done=False))
    store, ids = await imported(path)
    st = await state(store, ids[0])
    assert (st.content, st.token_count, st.completed) == ("Half way", 2, False)
    assert st.error is not None
    assert st.error.name == "server_error"
    assert st.error.message == "The server had an error while processing your request."
    assert st.error.code == "rate_limit"
    last = (await events(store, ids[0]))[-1]
    assert isinstance(last, ErrorEvent) and last.failure_type == "model"


async def test_truncated_capture(tmp_path: Path) -> None:
    chunks = c.chat_text("chatcmpl-C", ["a", "b", "c"], finish=None)
    for name, body in (("no-finish.sse", c.sse_data(chunks, done=False)),
                       ("cut.jsonl", c.cut(c.jsonl(chunks), 20))):
        path = write(tmp_path, name, body)
        store, ids = await imported(path)
        st = await state(store, ids[0])
        kept = "abc" if name == "no-finish.sse" else "ab"
        assert (st.content, st.token_count, st.completed) == (kept, len(kept), False)
        assert st.error is not None and st.error.name == "IncompleteStreamError"
        assert "finish_reason" in st.error.message


async def test_several_streams(tmp_path: Path) -> None:
    body = (c.sse_data(c.chat_text("chatcmpl-1", ["one"]))
            + c.sse_data(c.chat_text("chatcmpl-2", ["two", " (cut)"], finish=None), done=False)
            + c.sse_data(c.chat_text("chatcmpl-3", ["three"])))
    path = write(tmp_path, "many.sse", body)
    store, ids = await imported(path)
    assert ids == ["chatcmpl-1", "chatcmpl-2", "chatcmpl-3"]
    one, two, three = [await state(store, i) for i in ids]
    assert (one.content, one.completed) == ("one", True)
    assert (two.content, two.token_count, two.completed) == ("two (cut)", 2, False)
    assert two.error is not None and two.error.name == "IncompleteStreamError"
    assert (three.content, three.completed) == ("three", True)


async def test_chunks_without_an_id_after_done_start_a_new_stream(tmp_path: Path) -> None:
    first = [{k: v for k, v in ch.items() if k != "id"} for ch in c.chat_text("x", ["A"])]
    second = [{k: v for k, v in ch.items() if k != "id"} for ch in c.chat_text("x", ["B"])]
    path = write(tmp_path, "noid.sse", c.sse_data(first) + c.sse_data(second))
    store, ids = await imported(path)
    assert ids == ["noid", "noid-2"]  # named after the file
    assert [(await state(store, i)).content for i in ids] == ["A", "B"]


async def test_a_first_chunk_that_carries_nothing_is_skipped(tmp_path: Path) -> None:
    # Azure OpenAI opens with its prompt filter results: empty id, model and choices
    filters = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
               "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
    path = write(tmp_path, "azure.sse", c.sse_data([filters, *c.chat_text("chatcmpl-Z", ["ok"])]))
    store, ids = await imported(path)
    assert ids == ["chatcmpl-Z"]
    st = await state(store, "chatcmpl-Z")
    assert (st.content, st.completed, st.error) == ("ok", True, None)
    start = (await events(store, "chatcmpl-Z"))[0]
    assert isinstance(start, StartEvent)
    assert start.options.model == c.CHAT_MODEL
    assert import_info(start)["line"] == 3 and import_info(start)["syntheticTs"] == "created+1ms"
