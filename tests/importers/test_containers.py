"""The ways a capture is written down: SSE variants, timed JSON lines, file objects, progress."""

from __future__ import annotations

import io
import json
from pathlib import Path

from l0core import StartEvent, TokenEvent
from l0core.importers import iter_imported
from tests.importers import captures as c
from tests.importers.helpers import events, import_info, imported, state, write

ANSWER = c.anthropic_answer("msg_c", ["one", " two"])


def _contents(path: Path | io.BytesIO) -> list[tuple[str, str]]:
    out = []
    for item in iter_imported(path):
        text = "".join(e.value for e in item.events if isinstance(e, TokenEvent))
        out.append((item.stream_id, text))
    return out


def test_crlf_line_endings_and_comments(tmp_path: Path) -> None:
    text = ": connected\r\n\r\n" + c.sse_events(ANSWER).replace("\n", "\r\n")
    assert _contents(write(tmp_path, "crlf.sse", text)) == [("msg_c", "one two")]


def test_multi_line_data_is_joined_as_sse_says(tmp_path: Path) -> None:
    text = "".join(
        f"event: {o['type']}\n" + "".join(f"data: {line}\n"
                                          for line in json.dumps(o, indent=1).splitlines())
        + "\n" for o in ANSWER)
    assert _contents(write(tmp_path, "multi.sse", text)) == [("msg_c", "one two")]


def test_events_without_blank_lines_between_them(tmp_path: Path) -> None:
    tight = "".join(f"event: {o['type']}\ndata: {c.dumps(o)}\n" for o in ANSWER)
    assert _contents(write(tmp_path, "tight.sse", tight)) == [("msg_c", "one two")]
    data_only = "".join(f"data: {c.dumps(o)}\n" for o in ANSWER)
    assert _contents(write(tmp_path, "data.sse", data_only)) == [("msg_c", "one two")]


async def test_capture_times_in_seconds_and_iso_8601(tmp_path: Path) -> None:
    lines = [c.dumps({"t": 1733000000.25 + n / 10, "event": o}) for n, o in enumerate(ANSWER)]
    store, ids = await imported(write(tmp_path, "t.jsonl", "\n".join(lines) + "\n"))
    evs = await events(store, ids[0])
    assert evs[0].ts == 1733000000250.0
    assert [e.ts for e in evs if isinstance(e, TokenEvent)] == [1733000000450.0,
                                                                1733000000650.0]
    iso = [c.dumps({"ts": f"2024-12-01T00:00:0{n}.5Z", "chunk": o}) for n, o in enumerate(ANSWER)]
    store, ids = await imported(write(tmp_path, "iso.jsonl", "\n".join(iso) + "\n"))
    evs = await events(store, ids[0])
    assert evs[0].ts == 1733011200500
    assert import_info(evs[0])["timestamps"] == "source"


def test_a_binary_file_object(tmp_path: Path) -> None:
    data = io.BytesIO(c.sse_events(ANSWER).encode())
    items = []
    for item in iter_imported(data):
        evs = list(item.events)
        items.append(item)
        start = evs[0]
        assert isinstance(start, StartEvent)
        info = import_info(start)
        assert (info["source"], info["syntheticTs"]) == ("<input>", "0+1ms")
        assert [e.ts for e in evs] == list(range(len(evs)))
    assert [i.stream_id for i in items] == ["msg_c"]


def test_progress_reports_bytes_read_of_the_total(tmp_path: Path) -> None:
    text = c.sse_events(ANSWER)
    body = "".join(c.sse_events(c.anthropic_answer(f"msg_{n}", ["x" * 200] * 50))
                   for n in range(40))
    path = write(tmp_path, "big.sse", text + body)
    size = path.stat().st_size
    calls: list[tuple[int, int]] = []
    for item in iter_imported(path, progress=lambda done, total: calls.append((done, total))):
        list(item.events)
    assert len(calls) > 1
    assert all(total == size for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (size, size)


async def test_a_bom_and_a_stream_left_unread(tmp_path: Path) -> None:
    text = "\ufeff" + c.sse_events(ANSWER) + c.sse_events(c.anthropic_answer("msg_d", ["d"]))
    path = write(tmp_path, "bom.sse", text)
    ids = [item.stream_id for item in iter_imported(path)]  # no events read: each is skipped
    assert ids == ["msg_c", "msg_d"]
    store, _ = await imported(path)
    assert (await state(store, "msg_d")).content == "d"
