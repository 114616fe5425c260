"""Which format a capture is, from its first bytes or lines; what is refused, in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from l0core.importers import ImportFormatError, detect_format, iter_imported
from tests.importers import captures as c
from tests.importers import otlp_build as o
from tests.importers.helpers import imported, state, write

CHAT = c.chat_text("chatcmpl-1", ["hi"])
RESPONSES = c.Responses("resp_1").answer("msg_1", ["hi"])
ANTHROPIC = c.anthropic_answer("msg_1", ["hi"])
OTLP_LINE = o.traces([o.span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "chat",
                             attrs={"gen_ai.operation.name": "chat"})])


@pytest.mark.parametrize(("text", "expected"), [
    (c.sse_data(CHAT), "openai-chat"),
    (c.jsonl(CHAT), "openai-chat"),
    (c.jsonl(CHAT, ts=list(range(len(CHAT)))), "openai-chat"),
    ("data: [DONE]\n\n", "openai-chat"),
    (c.sse_data([c.chat_error()], done=False), "openai-chat"),
    (c.sse_events(RESPONSES), "openai-responses"),
    (c.jsonl(RESPONSES), "openai-responses"),
    (c.jsonl([c.Responses("r").error()]), "openai-responses"),
    (c.sse_events(ANTHROPIC), "anthropic"),
    (c.jsonl(ANTHROPIC), "anthropic"),
    (c.sse_events([c.PING, *ANTHROPIC]), "anthropic"),
    (c.jsonl([c.anthropic_error()]), "anthropic"),
    (c.request_line({"model": "m", "messages": []}) + c.jsonl(ANTHROPIC), "anthropic"),
    (": keep-alive comment\n\n" + c.sse_events(ANTHROPIC), "anthropic"),
    (OTLP_LINE, "otlp"),
    (json.dumps(json.loads(OTLP_LINE), indent=2), "otlp"),
    (json.dumps(ANTHROPIC, indent=1), "anthropic"),
])
def test_each_format_is_recognised(text: str, expected: str) -> None:
    data = text.encode()
    assert detect_format(data, complete=True) == expected
    assert detect_format(data.splitlines()) == expected
    assert detect_format(text.splitlines()) == expected


def test_a_first_line_longer_than_the_head_is_sniffed() -> None:
    huge = OTLP_LINE.encode()[:40]  # the head ends inside the first line
    assert detect_format(huge) == "otlp"
    chunk = c.jsonl(CHAT).encode()
    assert detect_format(chunk[:60]) == "openai-chat"


@pytest.mark.parametrize(("data", "message"), [
    (b"", "cap.txt: empty file: nothing to import"),
    (b"\n  \n\n", "cap.txt: empty file: nothing to import"),
    (b"\xef\xbb\xbf", "cap.txt: empty file: nothing to import"),
    (b"PK\x03\x04\x00\x00binary", "cap.txt: line 1: binary data, not a text capture"),
    (b"ok\n\xff\xfe\xfd\n", "cap.txt: line 2: binary data, not a text capture"),
    (b"hello world\n", "cap.txt: line 1: neither JSON nor SSE: 'hello world'"),
    (b'\n{"foo": 1, "bar": [2]}\n', "cap.txt: line 2: JSON with keys 'foo', 'bar' is not a "
     "stream of a known format (openai-chat, openai-responses, anthropic, otlp)"),
    (b'{"type": "message", "id": "x"}\n', "cap.txt: line 1: JSON with type 'message' is not a "
     "stream of a known format (openai-chat, openai-responses, anthropic, otlp)"),
    (b"42\n", "cap.txt: line 1: expected a JSON object, got '42'"),
    (b'{"request": {"model": "m"}}\n', "cap.txt: line 1: no stream events in the first lines"),
])
def test_what_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImportFormatError) as caught:
        detect_format(data, name="cap.txt", complete=True)
    assert str(caught.value) == message


async def test_pretty_printed_documents_import(tmp_path: Path) -> None:
    otlp = json.loads(o.traces([o.span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174",
                                       "chat", attrs={"gen_ai.operation.name": "chat",
                                                      "output.value": "doc"})]))
    path = write(tmp_path, "trace.json", json.dumps(otlp, indent=2))
    store, ids = await imported(path)
    assert (await state(store, ids[0])).content == "doc"
    path = write(tmp_path, "events.json", json.dumps(c.anthropic_answer("msg_d", ["arr"]),
                                                     indent=2))
    store, ids = await imported(path)
    assert ids == ["msg_d"] and (await state(store, "msg_d")).content == "arr"


def test_iter_imported_detects_from_the_file(tmp_path: Path) -> None:
    for name, text, fmt in (("a.sse", c.sse_events(ANTHROPIC), "anthropic"),
                            ("c.jsonl", c.jsonl(CHAT), "openai-chat"),
                            ("r.sse", c.sse_events(RESPONSES), "openai-responses"),
                            ("t.jsonl", OTLP_LINE, "otlp")):
        items = [(s.source_format, s.container, list(s.events))
                 for s in iter_imported(write(tmp_path, name, text))]
        assert [(f, k) for f, k, _ in items] == [
            (fmt, "sse" if name.endswith(".sse") else "jsonl")]


def test_an_unknown_format_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "x.sse", c.sse_events(ANTHROPIC))
    with pytest.raises(ValueError, match="unknown import format 'gemini'"):
        list(iter_imported(path, format="gemini"))
