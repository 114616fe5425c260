"""``l0tui.export``: the functions the command line and the debugger share."""

from __future__ import annotations

import json
from pathlib import Path

from l0core import CompleteEvent, EventEnvelope, StartEvent, TokenEvent
from l0core.codec import decode_envelope
from l0core.timeline import Timeline
from l0tui.export import (
    envelope_line,
    markdown_report,
    md_fence,
    md_inline,
    timeline_jsonl,
    write_text_file,
)
from tests.cli.streams import HOSTILE, bad_run


def _timeline(events: list[object], stream_id: str = "s1") -> Timeline:
    return Timeline(stream_id, [EventEnvelope(stream_id, i, e) for i, e in enumerate(events)])  # type: ignore[arg-type]


def test_timeline_jsonl_slice_round_trips() -> None:
    timeline = _timeline(bad_run(), "bad_run")
    text = timeline_jsonl(timeline, 7, 9)
    lines = text.splitlines()
    assert len(lines) == 2
    decoded = [decode_envelope(json.loads(line)) for line in lines]
    assert [d.seq for d in decoded] == [7, 8]
    assert decoded == [timeline.envelope(7), timeline.envelope(8)]
    assert timeline_jsonl(timeline).count("\n") == len(timeline)


def test_jsonl_escapes_every_control_character() -> None:
    env = EventEnvelope("s1", 0, TokenEvent(ts=1.0, value=HOSTILE + "\x7f\u2028", index=0))
    line = envelope_line(env)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in line)
    assert "\u2028" not in line
    assert decode_envelope(json.loads(line)) == env


def test_markdown_survives_hostile_content() -> None:
    content = "```\nrm -rf /\n```\x1b[2J | <script>alert(1)</script> [x](javascript:y)"
    timeline = _timeline([StartEvent(ts=1000.0), TokenEvent(ts=1100.0, value=content, index=0),
                          CompleteEvent(ts=1200.0, content=content, token_count=1)])
    report = markdown_report(timeline, source="sqlite:///x.db")
    fence = md_fence(content)
    assert fence.startswith("````text\n") and fence.rstrip().endswith("````")
    assert fence in report
    assert "\x1b" not in report and "\\x1b[2J" in report
    assert "<script>" not in md_inline(content)
    assert "&lt;script&gt;" in md_inline(content) and "\\|" in md_inline(content)
    assert "\\[x\\]" in md_inline(content)


def test_write_text_file_is_whole(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    target.write_text("old")
    assert write_text_file(target, "new\n") == str(target)
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_export_to_file_names_and_contents(tmp_path: Path) -> None:
    from l0tui.export import export_to_file

    timeline = _timeline(bad_run(), "bad_run")
    whole = export_to_file(timeline, "jsonl", tmp_path)
    assert whole == str(tmp_path / "bad_run.jsonl")
    assert Path(whole).read_text() == timeline_jsonl(timeline)
    part = export_to_file(timeline, "jsonl", tmp_path, start=7, stop=9)
    assert part == str(tmp_path / "bad_run-7-8.jsonl")
    assert len(Path(part).read_text().splitlines()) == 2
    report = export_to_file(timeline, "markdown", tmp_path, source="demo")
    assert report == str(tmp_path / "bad_run.md")
    assert Path(report).read_text().startswith("# Stream bad\\_run\n\nStore: demo\n")
    import pytest

    with pytest.raises(ValueError):
        export_to_file(timeline, "pdf", tmp_path)
