"""``import(export(stream))`` for every demo stream: the OTLP importer reads back what the
exporter wrote, to the same fold state, attempts and events."""

from __future__ import annotations

from pathlib import Path

import pytest

from l0core import EventEnvelope, RecordedEvent, create_event_store, fold
from l0core.codec import encode_event, encode_state
from l0core.exporters import otlp_chunks, otlp_line
from l0core.importers import iter_imported
from l0core.timeline import Timeline, load_timeline
from tests.cli.streams import bad_run
from tests.exporters.otlp_read import demo_stream_ids, demo_timeline
from tests.paths import INTEROP


def _first_difference(want: list[RecordedEvent], got: list[RecordedEvent]) -> str | None:
    """Where two event lists first differ: the seq and the wire fields that differ."""
    for seq, (a, b) in enumerate(zip(want, got, strict=False)):
        wa, wb = encode_event(a), encode_event(b)
        if wa != wb:
            fields = sorted(k for k in wa.keys() | wb.keys() if wa.get(k) != wb.get(k))
            return (f"seq {seq} ({wa['type']}): "
                    + "; ".join(f"{k}: {wa.get(k)!r} != {wb.get(k)!r}" for k in fields))
    if len(want) != len(got):
        return f"{len(want)} events exported, {len(got)} imported"
    return None


def _imported(path: Path) -> list[tuple[str, list[RecordedEvent]]]:
    """Each stream's id and events, read before the next stream is asked for."""
    return [(item.stream_id, [e.event if isinstance(e, EventEnvelope) else e for e in item.events])
            for item in iter_imported(path, format="otlp")]


def _check_same(tl: Timeline, got: list[RecordedEvent]) -> None:
    assert encode_state(fold(got)) == encode_state(tl.final_state())
    back = Timeline(tl.stream_id, [EventEnvelope(tl.stream_id, i, e) for i, e in enumerate(got)])
    assert back.attempts() == tl.attempts()
    assert _first_difference([env.event for env in tl.events(0, len(tl))], got) is None


@pytest.mark.parametrize("stream_id", demo_stream_ids())
async def test_import_of_export_is_the_same_stream(stream_id: str, tmp_path: Path) -> None:
    tl = await demo_timeline(stream_id)
    path = tmp_path / f"{stream_id}.otlp.jsonl"
    with path.open("w", encoding="utf-8") as f:
        f.writelines(otlp_chunks(tl))
    ((got_id, got),) = _imported(path)
    assert got_id == stream_id
    _check_same(tl, got)


async def test_every_demo_stream_in_one_file_comes_back_in_order(tmp_path: Path) -> None:
    ids = demo_stream_ids()
    timelines = [await demo_timeline(sid) for sid in ids]
    path = tmp_path / "demo.otlp.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for tl in timelines:
            f.writelines(otlp_chunks(tl))
    imported = _imported(path)
    assert [sid for sid, _ in imported] == ids
    for tl, (_, got) in zip(timelines, imported, strict=True):
        _check_same(tl, got)


@pytest.mark.parametrize("store_dir", ["py-file-store", "ts-file-store"])
async def test_recordings_of_the_other_implementations_come_back(store_dir: str,
                                                                 tmp_path: Path) -> None:
    """Float timestamps (ai2070-l0) and integer ones (the TypeScript library) survive."""
    store = await create_event_store(str(INTEROP / store_dir), read_only=True)
    try:
        tl = await load_timeline(store, "demo-stream")
    finally:
        await store.close()
    path = tmp_path / "interop.otlp.jsonl"
    path.write_text(otlp_line(tl), encoding="utf-8")
    ((_, got),) = _imported(path)
    _check_same(tl, got)


def test_a_running_stream_comes_back_running(tmp_path: Path) -> None:
    tl = Timeline("cut", [EventEnvelope("cut", i, e) for i, e in enumerate(bad_run()[:-3])])
    path = tmp_path / "cut.otlp.jsonl"
    path.write_text(otlp_line(tl), encoding="utf-8")
    ((_, got),) = _imported(path)
    _check_same(tl, got)
    assert not fold(got).completed and fold(got).error is None
