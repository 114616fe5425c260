"""Bad input stops an import with one line naming the file and the line; stores stay whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from l0core import InvalidStreamIdError, create_in_memory_event_store
from l0core.importers import ImportFormatError, StreamExistsError, import_into, iter_imported
from tests.importers import captures as c
from tests.importers.helpers import state, write


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


async def test_malformed_json_mid_file_deletes_the_half_written_stream(tmp_path: Path) -> None:
    lines = c.jsonl(c.anthropic_answer("msg_half", [f"w{n} " for n in range(20)])).splitlines()
    lines[15] = lines[15][:25]  # a broken line, not the last one
    path = write(tmp_path, "broken.jsonl", "\n".join(lines) + "\n")
    store = create_in_memory_event_store()
    with pytest.raises(ImportFormatError) as caught:
        await import_into(store, path, batch_size=3)  # batches were written before line 16
    assert _one_line(caught.value).startswith(f"{path}: line 16: invalid JSON")
    assert caught.value.line == 16
    assert await store.list_streams() == []


async def test_streams_before_the_error_stay_and_are_named(tmp_path: Path) -> None:
    good = c.sse_events(c.anthropic_answer("msg_ok", ["fine"]))
    bad = "event: message_start\ndata: {not json\n\n" + c.sse_events(
        c.anthropic_answer("msg_x", ["x"]))
    path = write(tmp_path, "mixed.sse", good + bad)
    store = create_in_memory_event_store()
    with pytest.raises(ImportFormatError) as caught:
        await import_into(store, path)
    message = _one_line(caught.value)
    line = good.count("\n") + 1
    assert message.startswith(f"{path}: line {line}: invalid JSON in SSE data")
    assert message.endswith("(imported before it: msg_ok)")
    assert caught.value.written == ["msg_ok"]
    assert await store.list_streams() == ["msg_ok"]
    assert (await state(store, "msg_ok")).content == "fine"


async def test_an_object_of_another_format(tmp_path: Path) -> None:
    path = write(tmp_path, "chat.jsonl", c.jsonl(c.chat_text("chatcmpl-1", ["a"])))
    with pytest.raises(ImportFormatError) as caught:
        for item in iter_imported(path, format="anthropic"):
            list(item.events)
    assert _one_line(caught.value).startswith(
        f"{path}: line 1: not an Anthropic stream event: keys 'id', 'object'")
    mixed = c.jsonl([*c.anthropic_answer("msg_1", ["a"])[:3], c.Responses("r").error()])
    path = write(tmp_path, "mixed.jsonl", mixed)
    with pytest.raises(ImportFormatError, match=r"line 4: not an Anthropic stream event: "
                                                r"type 'error'"):
        for item in iter_imported(path):
            list(item.events)


async def test_a_line_that_is_not_sse(tmp_path: Path) -> None:
    text = c.sse_events(c.anthropic_answer("msg_1", ["a"]))
    lines = text.splitlines()
    lines.insert(3, "HTTP/1.1 200 OK")
    path = write(tmp_path, "noise.sse", "\n".join(lines) + "\n")
    with pytest.raises(ImportFormatError) as caught:
        for item in iter_imported(path):
            list(item.events)
    assert _one_line(caught.value) == f"{path}: line 4: not an SSE line: 'HTTP/1.1 200 OK'"


async def test_a_file_without_streams(tmp_path: Path) -> None:
    path = write(tmp_path, "pings.sse", c.sse_events([c.PING, c.PING]))
    store = create_in_memory_event_store()
    with pytest.raises(ImportFormatError) as caught:
        await import_into(store, path)
    assert _one_line(caught.value) == f"{path}: no stream found in it (nothing imported)"


async def test_an_existing_stream_is_never_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path, "a.sse", c.sse_events(c.anthropic_answer("msg_1", ["first"])))
    store = create_in_memory_event_store()
    assert await import_into(store, path) == ["msg_1"]
    before = await store.get_event_count("msg_1")
    again = write(tmp_path, "b.sse", c.sse_events(c.anthropic_answer("msg_1", ["second",
                                                                               " try"])))
    with pytest.raises(StreamExistsError) as caught:
        await import_into(store, again)
    assert _one_line(caught.value).startswith("stream 'msg_1' already exists in memory")
    assert await store.get_event_count("msg_1") == before
    assert (await state(store, "msg_1")).content == "first"
    assert await import_into(store, again, stream_id="msg_1-retake") == ["msg_1-retake"]


async def test_a_bad_stream_id(tmp_path: Path) -> None:
    path = write(tmp_path, "a.sse", c.sse_events(c.anthropic_answer("msg_1", ["x"])))
    with pytest.raises(InvalidStreamIdError):
        await import_into(create_in_memory_event_store(), path, stream_id="../etc")


async def test_unsafe_source_ids_are_made_safe(tmp_path: Path) -> None:
    path = write(tmp_path, "a.sse", c.sse_events(c.anthropic_answer("msg/01:é" + "x" * 300,
                                                                    ["x"])))
    store = create_in_memory_event_store()
    (sid,) = await import_into(store, path)
    assert sid == ("msg_01__" + "x" * 300)[:200]
