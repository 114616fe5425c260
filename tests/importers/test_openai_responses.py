"""OpenAI Responses API captures imported, checked field by field."""

from __future__ import annotations

from pathlib import Path

from l0core import ErrorEvent, StartEvent, TokenEvent
from tests.importers import captures as c
from tests.importers.helpers import events, import_info, imported, state, write


async def test_plain_answer(tmp_path: Path) -> None:
    r = c.Responses("resp_A")
    path = write(tmp_path, "resp.sse", c.sse_events(r.answer("msg_A", ["Bonjour", " !"])))
    store, ids = await imported(path)
    assert ids == ["resp_A"]
    st = await state(store, "resp_A")
    assert (st.content, st.token_count, st.completed, st.error) == ("Bonjour !", 2, True, None)
    stored = await events(store, "resp_A")
    assert [e.type for e in stored] == ["START", "TOKEN", "TOKEN", "COMPLETE"]
    start = stored[0]
    assert isinstance(start, StartEvent)
    assert start.options.model == c.RESPONSES_MODEL
    # the parameters response.created echoes, under their own names
    assert start.options.extra["temperature"] == 0.2
    assert start.options.extra["max_output_tokens"] == 256
    assert start.options.extra["instructions"] == "Answer briefly."
    info = import_info(start)
    assert info["format"] == "openai-responses"
    assert info["syntheticTs"] == "created+1ms"
    assert stored[0].ts == c.RESPONSES_CREATED * 1000


async def test_request_line_gives_the_prompt(tmp_path: Path) -> None:
    r = c.Responses("resp_P")
    request = {"model": "gpt-4.1", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Translate: cat"}]}]}
    path = write(tmp_path, "resp.jsonl",
                 c.request_line(request) + c.jsonl(r.answer("msg_P", ["chat"])))
    store, ids = await imported(path)
    start = (await events(store, ids[0]))[0]
    assert isinstance(start, StartEvent)
    assert start.options.prompt == "Translate: cat"


async def test_function_call_is_its_own_stream(tmp_path: Path) -> None:
    r = c.Responses("resp_F")
    objs = [*r.created(), *r.message("msg_F", ["Checking."]),
            *r.function_call("fc_1", "call_F1", "search", ['{"q":', ' "otters"}'],
                             output_index=1),
            r.completed()]
    path = write(tmp_path, "fc.sse", c.sse_events(objs))
    store, ids = await imported(path)
    assert ids == ["resp_F", "resp_F-tool-0"]
    st = await state(store, "resp_F")
    assert (st.content, st.token_count, st.completed) == ("Checking.", 1, True)
    tool = await state(store, "resp_F-tool-0")
    assert (tool.content, tool.token_count, tool.completed) == ('{"q": "otters"}', 2, True)
    start = (await events(store, "resp_F-tool-0"))[0]
    assert isinstance(start, StartEvent)
    meta = start.options.metadata or {}
    assert (meta["toolCallId"], meta["toolName"], meta["api"]) == ("call_F1", "search",
                                                                   "responses")


async def test_failed_incomplete_and_error_events(tmp_path: Path) -> None:
    cases = {
        "failed": (lambda r: r.failed("server_error", "The model crashed."),
                   ("server_error", "The model crashed.", "server_error")),
        "incomplete": (lambda r: r.incomplete("max_output_tokens"),
                       ("ResponseIncomplete", "response incomplete: max_output_tokens",
                        "max_output_tokens")),
        "error": (lambda r: r.error("rate_limit_exceeded", "Slow down."),
                  ("rate_limit_exceeded", "Slow down.", "rate_limit_exceeded")),
    }
    for name, (end, (err_name, message, code)) in cases.items():
        r = c.Responses(f"resp_{name}")
        objs = [*r.created(), *r.message("msg_x", ["Part", "ial"], done=False), end(r)]
        path = write(tmp_path, f"{name}.sse", c.sse_events(objs))
        store, ids = await imported(path)
        st = await state(store, ids[0])
        assert (st.content, st.token_count, st.completed) == ("Partial", 2, False)
        assert st.error is not None
        assert (st.error.name, st.error.message, st.error.code) == (err_name, message, code)
        last = (await events(store, ids[0]))[-1]
        assert isinstance(last, ErrorEvent) and last.failure_type == "model"


async def test_truncated_capture(tmp_path: Path) -> None:
    r = c.Responses("resp_T")
    objs = [*r.created(), *r.message("msg_T", ["x", "y", "z"], done=False)]
    for name, body in (("clean.sse", c.sse_events(objs)),
                       ("cut.sse", c.cut(c.sse_events(objs), 40))):
        path = write(tmp_path, name, body)
        store, ids = await imported(path)
        st = await state(store, ids[0])
        kept = "xyz" if name == "clean.sse" else "xy"
        assert (st.content, st.token_count, st.completed) == (kept, len(kept), False)
        assert st.error is not None and st.error.name == "IncompleteStreamError"
        assert "response.completed" in st.error.message


async def test_several_responses_and_duplicated_events(tmp_path: Path) -> None:
    first, second = c.Responses("resp_1"), c.Responses("resp_2")
    one = first.answer("msg_1", ["uno"])
    duplicated = [*one[:5], one[4], *one[5:]]  # a capture that wrote one delta twice
    objs = [*duplicated, *second.answer("msg_2", ["dos", " tres"])]
    path = write(tmp_path, "two.jsonl", c.jsonl(objs))
    store, ids = await imported(path)
    assert ids == ["resp_1", "resp_2"]
    a, b = [await state(store, i) for i in ids]
    assert (a.content, a.token_count, a.completed) == ("uno", 1, True)
    assert (b.content, b.token_count, b.completed) == ("dos tres", 2, True)
    tokens = [e for e in await events(store, "resp_1") if isinstance(e, TokenEvent)]
    assert [t.value for t in tokens] == ["uno"]
