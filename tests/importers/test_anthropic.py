"""Anthropic Messages captures (SSE and JSON Lines) imported, checked field by field."""

from __future__ import annotations

from pathlib import Path

from l0core import CompleteEvent, ErrorEvent, StartEvent, TokenEvent
from l0core.importers import iter_imported
from tests.importers import captures as c
from tests.importers.helpers import events, import_info, imported, state, write

TEXTS = ["Hello", ",", " world", "!"]


async def test_plain_answer_sse(tmp_path: Path) -> None:
    path = write(tmp_path, "answer.sse", c.sse_events(c.anthropic_answer("msg_01A", TEXTS)))
    store, ids = await imported(path)
    assert ids == ["msg_01A"]
    st = await state(store, "msg_01A")
    assert st.content == "Hello, world!"
    assert st.token_count == 4
    assert st.completed is True
    assert st.error is None
    evs = await events(store, "msg_01A")
    assert [e.type for e in evs] == ["START", "TOKEN", "TOKEN", "TOKEN", "TOKEN", "COMPLETE"]
    assert [e.index for e in evs if isinstance(e, TokenEvent)] == [0, 1, 2, 3]
    start = evs[0]
    assert isinstance(start, StartEvent)
    assert start.options.model == c.ANTHROPIC_MODEL
    assert start.options.prompt is None  # an SSE capture holds only the response
    assert start.options.metadata is not None
    assert (start.options.metadata["provider"], start.options.metadata["api"]) == (
        "anthropic", "messages")
    info = import_info(start)
    assert info["format"] == "anthropic" and info["container"] == "sse"
    assert info["source"] == "answer.sse" and info["line"] == 1
    assert info["responseId"] == "msg_01A"
    assert info["timestamps"] == "missing" and info["syntheticTs"] == "mtime+1ms"
    # synthetic: mtime + 1 ms per event, monotone, never the wall clock
    mtime = int(path.stat().st_mtime * 1000)
    assert [e.ts for e in evs] == [mtime + n for n in range(len(evs))]


async def test_plain_answer_jsonl_with_request_and_capture_times(tmp_path: Path) -> None:
    objs = c.anthropic_answer("msg_02", ["Hi", " there"])
    times = [1733000000000 + 40 * n for n in range(len(objs))]
    request = {"model": "claude-sonnet-4-5", "max_tokens": 512, "temperature": 0.3,
               "system": "Be terse.", "metadata": {"user_id": "u1"}, "stream": True,
               "messages": [{"role": "user", "content": "Say hi"},
                            {"role": "assistant", "content": "Hi!"},
                            {"role": "user", "content": [{"type": "text", "text": "Again"}]}]}
    path = write(tmp_path, "answer.jsonl", c.request_line(request) + c.jsonl(objs, ts=times))
    store, ids = await imported(path)
    assert ids == ["msg_02"]
    evs = await events(store, "msg_02")
    start = evs[0]
    assert isinstance(start, StartEvent)
    assert start.options.model == c.ANTHROPIC_MODEL  # the response's, over the request's
    assert start.options.prompt == "Again"  # the last user message
    assert start.options.extra == {"max_tokens": 512, "temperature": 0.3,
                                   "system": "Be terse.", "request.metadata": {"user_id": "u1"}}
    assert import_info(start)["timestamps"] == "source"
    assert "syntheticTs" not in import_info(start)
    # each event at its line's capture time: message_start, the two deltas, message_stop
    tokens = [e for e in evs if isinstance(e, TokenEvent)]
    assert start.ts == times[0]
    assert [t.ts for t in tokens] == [times[2], times[4]]
    assert isinstance(evs[-1], CompleteEvent) and evs[-1].ts == times[-1]
    st = await state(store, "msg_02")
    assert (st.content, st.token_count, st.completed, st.error) == ("Hi there", 2, True, None)
    assert (st.start_ts, st.end_ts) == (times[0], times[-1])


async def test_tool_call_is_its_own_stream(tmp_path: Path) -> None:
    objs = [c.message_start("msg_tool"), *c.text_block(0, ["Let me check."]),
            *c.thinking_block(1, "The user wants weather."),
            *c.tool_block(2, "toolu_01X", "get_weather", ['{"city":', ' "Paris"', "}"]),
            *c.message_end("tool_use")]
    path = write(tmp_path, "tool.sse", c.sse_events(objs))
    streams = []
    for item in iter_imported(path):
        streams.append((item.stream_id, list(item.events), item))
    assert [s[0] for s in streams] == ["msg_tool", "msg_tool-tool-0"]
    parent, tool = streams[0][2], streams[1][2]
    assert parent.finish_reason == "tool_use"
    assert parent.skipped == 1  # the thinking delta is not read
    assert tool.parent_id == "msg_tool" and tool.tool_index == 0
    store, _ = await imported(path)
    st = await state(store, "msg_tool")
    assert (st.content, st.token_count, st.completed, st.error) == ("Let me check.", 1, True,
                                                                    None)
    tst = await state(store, "msg_tool-tool-0")
    assert tst.content == '{"city": "Paris"}'
    assert tst.token_count == 3 and tst.completed and tst.error is None
    tool_start = (await events(store, "msg_tool-tool-0"))[0]
    assert isinstance(tool_start, StartEvent)
    meta = tool_start.options.metadata or {}
    assert meta["parentStreamId"] == "msg_tool"
    assert (meta["toolIndex"], meta["toolCallId"], meta["toolName"]) == (
        0, "toolu_01X", "get_weather")
    assert tool_start.options.model == c.ANTHROPIC_MODEL


async def test_error_mid_stream_keeps_the_tokens(tmp_path: Path) -> None:
    objs = [c.message_start("msg_err"), *c.text_block(0, ["Partial", " answer"], stop=False),
            c.anthropic_error("overloaded_error", "Overloaded")]
    path = write(tmp_path, "err.sse", c.sse_events(objs))
    store, ids = await imported(path)
    assert ids == ["msg_err"]
    st = await state(store, "msg_err")
    assert st.content == "Partial answer"
    assert st.token_count == 2
    assert st.completed is False
    assert st.error is not None
    assert (st.error.name, st.error.message) == ("overloaded_error", "Overloaded")
    last = (await events(store, "msg_err"))[-1]
    assert isinstance(last, ErrorEvent)
    assert (last.failure_type, last.recovery_strategy, last.policy) == ("model", "halt",
                                                                        "default")
    meta = (last.error.metadata or {})["l0.import"]
    assert meta["line"] == 13 and meta["event"]["error"]["type"] == "overloaded_error"


async def test_truncated_capture_ends_in_error(tmp_path: Path) -> None:
    objs = [c.message_start("msg_cut"), *c.text_block(0, ["One", " two", " three"], stop=False)]
    text = c.sse_events(objs)
    for name, body in (("ends-cleanly.sse", text), ("cut-mid-line.sse", c.cut(text, 30))):
        path = write(tmp_path, name, body)
        store, ids = await imported(path)
        st = await state(store, ids[0])
        kept = "One two three" if name == "ends-cleanly.sse" else "One two"
        assert st.content == kept
        assert st.token_count == len(kept.split())
        assert st.completed is False
        assert st.error is not None and st.error.name == "IncompleteStreamError"
        assert "message_stop" in st.error.message
        last = (await events(store, ids[0]))[-1]
        assert isinstance(last, ErrorEvent) and last.failure_type == "network"


async def test_several_streams_in_one_file(tmp_path: Path) -> None:
    first = c.anthropic_answer("msg_1", ["First"])
    second = [c.message_start("msg_2"), *c.text_block(0, ["Second", " cut"], stop=False)]
    third = c.anthropic_answer("msg_1", ["Same id again"])
    path = write(tmp_path, "many.sse", c.sse_events(first + second + third))
    store, ids = await imported(path)
    assert ids == ["msg_1", "msg_2", "msg_1-2"]
    one, two, three = [await state(store, i) for i in ids]
    assert (one.content, one.completed, one.error) == ("First", True, None)
    assert (two.content, two.token_count, two.completed) == ("Second cut", 2, False)
    assert two.error is not None and "next stream begins" in two.error.message
    assert (three.content, three.token_count, three.completed) == ("Same id again", 1, True)


async def test_named_streams(tmp_path: Path) -> None:
    objs = [*c.anthropic_answer("msg_a", ["a"]),
            c.message_start("msg_b"), *c.tool_block(0, "toolu_b", "f", ["{}"]),
            *c.message_end("tool_use")]
    path = write(tmp_path, "named.jsonl", c.jsonl(objs))
    store, ids = await imported(path, stream_id="run")
    assert ids == ["run", "run-2", "run-2-tool-0"]
    tool_start = (await events(store, "run-2-tool-0"))[0]
    assert isinstance(tool_start, StartEvent)
    assert (tool_start.options.metadata or {})["parentStreamId"] == "run-2"
    assert (await state(store, "run-2-tool-0")).content == "{}"
