"""``l0core.exporters.otlp``: every export is OTLP JSON the official classes read, and says
what the stream holds (docs/format.md, "OTLP mapping")."""

from __future__ import annotations

import io
import json
from fractions import Fraction

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from l0core import (
    CompleteEvent,
    EventEnvelope,
    FallbackEvent,
    InMemoryEventStore,
    RecordedEvent,
    RetryEvent,
    SerializedOptions,
    StartEvent,
    StreamNotFoundError,
    TokenEvent,
)
from l0core.codec import decode_event, encode_options
from l0core.exporters import otlp_chunks, otlp_line, span_id, trace_id, write_otlp
from l0core.exporters.otlp import EVENT_NAMES, time_unix_nano
from l0core.timeline import Timeline
from tests.cli.streams import T0, bad_run, error_run, good_run
from tests.exporters.otlp_read import attrs, demo_stream_ids, demo_timeline, parse_line, spans

DEMO_IDS = demo_stream_ids()
FAILED = ("retried", "fell_back", "errored")


def _timeline(events: list[RecordedEvent], stream_id: str = "s1") -> Timeline:
    return Timeline(stream_id, [EventEnvelope(stream_id, i, e) for i, e in enumerate(events)])


def _check_export(tl: Timeline) -> list[Span]:
    """Every mapping rule checked against the timeline; the parsed spans."""
    line = otlp_line(tl)
    assert line.endswith("\n") and len(line.splitlines()) == 1
    raw = json.loads(line)
    out = spans(parse_line(line))
    sid, state, attempts = tl.stream_id, tl.final_state(), tl.attempts()
    # ids: hex in the JSON, 16 / 8 bytes, one trace, distinct spans
    raw_spans = raw["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert {s["traceId"] for s in raw_spans} == {trace_id(sid)}
    assert all(len(s["spanId"]) == 16 and int(s["spanId"], 16) for s in raw_spans)
    assert all(span.trace_id == bytes.fromhex(trace_id(sid)) for span in out)
    assert len(out[0].trace_id) == 16 and len({span.span_id for span in out}) == len(out)
    resource = parse_line(line).resource_spans[0].resource
    assert attrs(resource.attributes) == {"service.name": "l0tui"}

    # the inference span
    inference, attempt_spans = out[0], out[1:]
    a = attrs(inference.attributes)
    start = tl.envelope(0).event
    assert isinstance(start, StartEvent)
    model = start.options.model
    assert inference.name == (f"chat {model}" if model else "chat")
    assert inference.kind == Span.SPAN_KIND_CLIENT and inference.parent_span_id == b""
    assert inference.span_id == bytes.fromhex(span_id(sid, 0))
    assert a["gen_ai.operation.name"] == "chat"
    assert a.get("gen_ai.request.model") == model
    assert a["l0.stream_id"] == sid
    assert json.loads(a["l0.options"]) == encode_options(start.options)
    assert a["gen_ai.usage.output_tokens"] == state.token_count
    if start.options.prompt is not None:
        assert json.loads(a["gen_ai.input.messages"]) == [
            {"role": "user", "parts": [{"type": "text", "content": start.options.prompt}]}]
    assert inference.start_time_unix_nano == int(time_unix_nano(start.ts))
    ended = state.completed or state.error is not None
    end_ts = state.end_ts if ended else tl.ts(tl.last_seq)
    assert inference.end_time_unix_nano == int(time_unix_nano(end_ts))
    if ended:
        finish = "error" if state.error is not None else "stop"
        assert a["gen_ai.response.finish_reasons"] == [finish]
        (message,) = json.loads(a["gen_ai.output.messages"])
        assert message == {"role": "assistant", "finish_reason": finish,
                           "parts": [{"type": "text", "content": state.content}]}
    else:
        assert "gen_ai.response.finish_reasons" not in a and "gen_ai.output.messages" not in a
    if state.error is not None:
        assert inference.status.code == Status.STATUS_CODE_ERROR
        assert inference.status.message == state.error.message
        last_error = tl.envelope(tl.landmarks("ERROR")[-1]).event
        assert a["error.type"] == last_error.failure_type  # type: ignore[union-attr]
    else:
        assert inference.status.code == Status.STATUS_CODE_UNSET and "error.type" not in a

    # one span per attempt, holding exactly its events
    assert len(attempt_spans) == len(attempts)
    seen_tokens = 0
    for attempt, span in zip(attempts, attempt_spans, strict=True):
        assert span.name == f"attempt {attempt.number}"
        assert span.parent_span_id == inference.span_id
        assert span.span_id == bytes.fromhex(span_id(sid, attempt.number))
        assert span.start_time_unix_nano == int(time_unix_nano(tl.ts(attempt.start_seq)))
        assert span.end_time_unix_nano == int(time_unix_nano(tl.ts(attempt.end_seq)))
        envs = tl.events(attempt.start_seq, attempt.end_seq + 1)
        assert len(span.events) == len(envs)
        tokens = [e for e in span.events if e.name == "l0.token"]
        assert len(tokens) == attempt.token_count
        seen_tokens += len(tokens)
        for env, ev in zip(envs, span.events, strict=True):
            assert ev.name == EVENT_NAMES[env.event.type]
            assert ev.time_unix_nano == int(time_unix_nano(env.event.ts))
            ea = attrs(ev.attributes)
            if isinstance(env.event, TokenEvent):
                assert ea == {"l0.token.value": env.event.value,
                              "l0.token.index": env.event.index}
            else:
                assert list(ea) == ["l0.event"]
                assert decode_event(json.loads(ea["l0.event"])) == env.event
        sa = attrs(span.attributes)
        if attempt.outcome in FAILED:
            assert span.status.code == Status.STATUS_CODE_ERROR and sa["error.type"]
        else:
            assert span.status.code == Status.STATUS_CODE_UNSET and "error.type" not in sa
    assert seen_tokens == tl.count("TOKEN")
    return out


@pytest.mark.parametrize("stream_id", DEMO_IDS)
async def test_every_demo_stream_exports_as_otlp(stream_id: str) -> None:
    _check_export(await demo_timeline(stream_id))


def test_demo_streams_cover_every_attempt_outcome() -> None:
    """The demo set exercises every branch of the mapping the test above checks."""
    import asyncio

    outcomes = set()
    for sid in DEMO_IDS:
        outcomes |= {a.outcome for a in asyncio.run(demo_timeline(sid)).attempts()}
    assert {"completed", "retried", "fell_back", "errored"} <= outcomes


def test_failed_attempts_say_why() -> None:
    retried = _check_export(_timeline(bad_run(), "bad_run"))
    assert attrs(retried[1].attributes) == {"error.type": "guardrail: fact-check"}
    assert retried[1].status.message == "guardrail: fact-check"
    errored = _check_export(_timeline(error_run(), "error_run"))
    assert attrs(errored[1].attributes) == {"error.type": "timeout"}
    assert errored[1].status.message == "no token for 5000 ms \x1b[2J"
    assert errored[0].status.message == "no token for 5000 ms \x1b[2J"
    fallback: list[RecordedEvent] = [
        StartEvent(ts=T0, options=SerializedOptions(model="m")),
        TokenEvent(ts=T0 + 1, value="a", index=0), FallbackEvent(ts=T0 + 2, to=1),
        TokenEvent(ts=T0 + 3, value="b", index=0),
        CompleteEvent(ts=T0 + 4, content="b", token_count=1)]
    fell = _check_export(_timeline(fallback))
    assert attrs(fell[1].attributes) == {"error.type": "fallback"}
    assert fell[1].status.message == "fell back to #1"
    assert [len(s.events) for s in fell[1:]] == [2, 3]  # the FALLBACK opens attempt 2


def test_request_parameters_and_provider_from_the_options() -> None:
    options = SerializedOptions(prompt="p", model="gpt-x", metadata={"temperature": 1},
                                extra={"provider": "openai", "maxTokens": 256, "topP": 0.5})
    tl = _timeline([StartEvent(ts=T0, options=options), TokenEvent(ts=T0 + 1, value="x", index=0),
                    CompleteEvent(ts=T0 + 2, content="x", token_count=1)])
    a = attrs(_check_export(tl)[0].attributes)
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.temperature"] == 1.0
    assert a["gen_ai.request.max_tokens"] == 256 and a["gen_ai.request.top_p"] == 0.5
    raw = json.loads(otlp_line(tl))["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    by_key = {kv["key"]: kv["value"] for kv in raw["attributes"]}
    assert by_key["gen_ai.request.temperature"] == {"doubleValue": 1.0}
    assert by_key["gen_ai.request.max_tokens"] == {"intValue": "256"}
    assert by_key["gen_ai.usage.output_tokens"] == {"intValue": "1"}
    plain = attrs(_check_export(_timeline(good_run(), "good_run"))[0].attributes)
    assert not {"gen_ai.provider.name", "gen_ai.request.temperature"} & set(plain)


def test_a_running_stream_ends_at_its_last_event() -> None:
    events = good_run()[:-2]
    tl = _timeline(events)
    inference = _check_export(tl)[0]
    assert inference.end_time_unix_nano == int(events[-1].ts) * 1_000_000


def test_times_are_exact_nanoseconds() -> None:
    assert time_unix_nano(1772442221932) == "1772442221932000000"
    assert time_unix_nano(1772442221932.0) == "1772442221932000000"
    python_port = 1795677495171.2114  # a float ts as ai2070-l0 writes it
    ns = int(time_unix_nano(python_port))
    assert ns / 1_000_000 == python_port
    assert abs(Fraction(ns, 1_000_000) - Fraction(python_port)) <= Fraction(1, 2_000_000)
    assert time_unix_nano(-5) == "0" and time_unix_nano(1e300) == str(2**64 - 1)


def test_hostile_text_stays_on_one_line_and_round_trips() -> None:
    nasty = "a\u2028b\u2029c\x85d\x9be\x7ff\nnew\rline\x1b[2J \u202etxet"
    tl = _timeline([StartEvent(ts=T0, options=SerializedOptions(prompt=nasty)),
                    TokenEvent(ts=T0 + 1, value=nasty, index=0),
                    CompleteEvent(ts=T0 + 2, content=nasty, token_count=1)])
    line = otlp_line(tl)
    assert len(line.splitlines()) == 1
    assert not any(c in line for c in "\u2028\u2029\x85\x9b\x7f\x1b\r")
    out = _check_export(tl)
    assert attrs(out[1].events[1].attributes)["l0.token.value"] == nasty


def test_export_is_deterministic_and_ids_differ_per_stream() -> None:
    tl = _timeline(bad_run(), "bad_run")
    assert otlp_line(tl) == otlp_line(_timeline(bad_run(), "bad_run"))
    assert trace_id("bad_run") != trace_id("good_run")
    assert len({span_id("bad_run", n) for n in range(50)}) == 50


def test_long_attempts_are_written_in_batches() -> None:
    n = 10_000  # more than two encoding batches per attempt
    events: list[RecordedEvent] = [StartEvent(ts=T0)]
    events += [TokenEvent(ts=T0 + i, value=f"w{i} ", index=i) for i in range(n)]
    events.append(RetryEvent(ts=T0 + n, reason="network_error", attempt=1,
                             counts_toward_limit=False))
    events += [TokenEvent(ts=T0 + n + i, value="z", index=i) for i in range(n + 1)]
    events.append(CompleteEvent(ts=T0 + 3 * n, content="z" * (n + 1), token_count=n + 1))
    tl = _timeline(events)
    chunks = list(otlp_chunks(tl))
    assert len(chunks) > 6 and max(map(len, chunks)) < len("".join(chunks)) / 3
    out = _check_export(tl)
    values = [attrs(e.attributes)["l0.token.value"] for e in out[1].events[1:]]
    assert values == [f"w{i} " for i in range(n)]


async def test_write_otlp_writes_one_line_per_stream() -> None:
    store = InMemoryEventStore()
    try:
        runs = {"good_run": good_run(), "bad_run": bad_run(), "error_run": error_run()}
        for sid, events in runs.items():
            await store.append_many(sid, events, expected_seq=-1)
        buf = io.StringIO()
        assert await write_otlp(store, list(runs), buf) == 3
        lines = buf.getvalue().splitlines(keepends=True)
        assert [attrs(spans(parse_line(x))[0].attributes)["l0.stream_id"] for x in lines] == list(
            runs)
        assert lines[1] == otlp_line(_timeline(bad_run(), "bad_run"))
        with pytest.raises(StreamNotFoundError):
            await write_otlp(store, ["missing"], io.StringIO())
    finally:
        await store.close()
