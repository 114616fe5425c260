"""Our own OTLP exports read back exactly: the ``l0.*`` span events of docs/format.md §9."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from l0core import EventEnvelope, StartEvent, create_event_store, create_in_memory_event_store
from l0core.codec import encode_event, encode_state
from l0core.exporters import otlp_chunks
from l0core.importers import ImportFormatError, import_into, iter_imported
from l0core.timeline import Timeline, load_timeline
from tests.importers import otlp_build as o
from tests.importers.helpers import events, imported, state, write
from tests.paths import DEMO_STREAMS

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
DEMO = ["02-network-retry-continuation", "03-guardrail-retry",
        "04-fallback-after-two-failures", "05-drift-mid-stream", "06-error-zero-tokens",
        "08-hostile-content"]


async def _demo(stream_id: str) -> Timeline:
    store = await create_event_store(str(DEMO_STREAMS), read_only=True)
    try:
        return await load_timeline(store, stream_id)
    finally:
        await store.close()


async def test_export_then_import_gives_the_same_streams(tmp_path: Path) -> None:
    timelines = [await _demo(sid) for sid in DEMO]
    path = tmp_path / "demo.otlp.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for tl in timelines:
            f.writelines(otlp_chunks(tl))
    store = create_in_memory_event_store()
    assert await import_into(store, path, batch_size=7) == DEMO
    for tl in timelines:
        got = await store.get_events(tl.stream_id)
        assert [encode_event(e.event) for e in got] == [
            encode_event(e.event) for e in tl.events(0, len(tl))]
        assert encode_state(await state(store, tl.stream_id)) == encode_state(tl.final_state())
        assert Timeline(tl.stream_id, got).attempts() == tl.attempts()


def _l0_span(events_: list[dict[str, object]], **attrs: object) -> dict[str, object]:
    base: dict[str, object] = {"l0.stream_id": "run/7", "gen_ai.operation.name": "chat",
                               "l0.options": json.dumps({"model": "m1", "prompt": "p"}),
                               "gen_ai.output.messages": o.genai_messages("assistant", "NOT")}
    base.update(attrs)
    return o.span(TRACE, "00f067aa0ba902b7", "chat m1", attrs=base, events=events_)


def _token(value: str, index: int, ms: int, seq: int | None = None) -> dict[str, object]:
    attrs: dict[str, object] = {"l0.token.value": value, "l0.token.index": index}
    if seq is not None:
        attrs["l0.seq"] = seq
    return o.event("l0.token", o.T0 + ms * o.MS, attrs)


async def test_start_from_options_order_by_seq_and_a_running_stream(tmp_path: Path) -> None:
    # no l0.start event; events written out of order but numbered; no COMPLETE/ERROR
    checkpoint = {"type": "CHECKPOINT", "ts": o.T0 // o.MS + 20, "at": 1, "content": "ab"}
    spans = [_l0_span([
        _token("b", 1, 11, seq=2),
        o.event("l0.checkpoint", o.T0 + 20 * o.MS, {"l0.event": json.dumps(checkpoint),
                                                    "l0.seq": 3}),
        _token("a", 0, 10, seq=1),
    ])]
    line = o.traces(spans)
    o.check_otlp(line)
    store, ids = await imported(write(tmp_path, "l0.jsonl", line))
    assert ids == ["run_7"]  # l0.stream_id, made safe
    evs = await events(store, "run_7")
    assert [e.type for e in evs] == ["START", "TOKEN", "TOKEN", "CHECKPOINT"]
    start = evs[0]
    assert isinstance(start, StartEvent)
    assert start.ts == o.T0 // o.MS
    assert (start.options.model, start.options.prompt) == ("m1", "p")
    st = await state(store, "run_7")
    # the l0 events win over the GenAI output ("NOT"), and nothing is added: still running
    assert (st.content, st.token_count, st.checkpoint) == ("ab", 2, "ab")
    assert (st.completed, st.error) == (False, None)
    items = list(iter_imported(write(tmp_path, "again.jsonl", line)))
    assert len(items) == 1
    list(items[0].events)
    assert items[0].outcome == "running"


async def test_a_bad_l0_event_names_the_line(tmp_path: Path) -> None:
    bad = o.event("l0.retry", o.T0, {"l0.event": json.dumps({"type": "RETRY", "ts": 1})})
    path = write(tmp_path, "bad.jsonl", o.traces([_l0_span([bad])]))
    with pytest.raises(ImportFormatError) as caught:
        for item in iter_imported(path):
            list(item.events)
    assert str(caught.value).startswith(f"{path}: line 1: l0.retry event: bad l0.event")


async def test_envelopes_keep_their_order_across_attempt_spans(tmp_path: Path) -> None:
    tl = await _demo("04-fallback-after-two-failures")
    path = tmp_path / "one.jsonl"
    path.write_text("".join(otlp_chunks(tl)), encoding="utf-8")
    (item,) = [(i.stream_id, list(i.events)) for i in iter_imported(path)]
    stream_id, got = item
    assert stream_id == tl.stream_id
    back = Timeline(stream_id, [EventEnvelope(stream_id, n, e) for n, e in enumerate(got)])
    assert back.attempts() == tl.attempts()
    assert len(back.attempts()) > 1
