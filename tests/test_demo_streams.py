"""demo_streams/: rebuilt byte for byte by its generator; each scenario is what it says."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest

from l0core import (
    BaseEventStore,
    CheckpointEvent,
    ContinuationEvent,
    DriftEvent,
    EventEnvelope,
    FallbackEvent,
    GuardrailEvent,
    ReplayedState,
    RetryEvent,
    StartEvent,
    TokenEvent,
    create_event_replayer,
    create_event_store,
    fold,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo_streams"
SCRIPT = ROOT / "scripts" / "make_demo_streams.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_streams", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_demo_streams", module)
    spec.loader.exec_module(module)
    return module


gen = load_generator()


def read_dir(path: Path) -> dict[str, bytes]:
    # the recordings only: not the file store's .l0catalog/ index (it holds inode numbers)
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def committed_files() -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(DEMO.iterdir())
        if p.is_file() and not p.name.startswith(".")
        and p.name != f"{gen.LONG_STREAM_ID}.jsonl"
    }


async def test_generator_rebuilds_demo_streams_byte_for_byte(tmp_path: Path) -> None:
    ids = await gen.write_scenarios(tmp_path)
    built = read_dir(tmp_path)
    committed = committed_files()
    assert sorted(built) == sorted(committed), "run: python scripts/make_demo_streams.py"
    assert sorted(f"{i}.jsonl" for i in ids) == sorted(built)
    for name, data in built.items():
        assert data == committed[name], f"{name} differs; run: python scripts/make_demo_streams.py"
    total = sum(len(d) for d in committed.values())
    assert total < 3 * 1024 * 1024, f"committed demo streams are {total} bytes"


async def test_rewriting_over_an_existing_store_gives_the_same_bytes(tmp_path: Path) -> None:
    await gen.write_scenarios(tmp_path)
    first = read_dir(tmp_path)
    await gen.write_scenarios(tmp_path)  # deletes and rewrites, never appends twice
    assert read_dir(tmp_path) == first


# ───────────────────────────── what each scenario promises ─────────────────────────────


@pytest.fixture
async def demo() -> BaseEventStore:
    return await create_event_store(str(DEMO), read_only=True)


async def load(store: BaseEventStore, stream_id: str) -> tuple[list[EventEnvelope],
                                                              ReplayedState]:
    events = await store.get_events(stream_id)
    assert events, f"{stream_id} is missing from demo_streams/"
    state = await create_event_replayer(store).replay_to_state(stream_id)
    return events, state


def kinds(events: list[EventEnvelope]) -> list[str]:
    return [e.event.type.value for e in events if not isinstance(e.event, TokenEvent)]


async def test_every_stream_has_realistic_timing(demo: BaseEventStore) -> None:
    ids = await demo.list_streams()
    assert len(ids) >= 9
    for stream_id in ids:
        if stream_id == gen.LONG_STREAM_ID:
            continue
        events = await demo.get_events(stream_id)
        assert isinstance(events[0].event, StartEvent)
        ts = [e.event.ts for e in events]
        assert ts == sorted(ts), stream_id
        tokens = [e.event for e in events if isinstance(e.event, TokenEvent)]
        if not tokens:
            continue
        assert 300 <= tokens[0].ts - events[0].event.ts <= 900, stream_id
        gaps = [b.ts - a.ts for a, b in itertools.pairwise(tokens)]
        assert min(gaps) >= 15, stream_id
        assert sorted(gaps)[len(gaps) // 2] <= 60, stream_id  # median token gap


async def test_clean_completion(demo: BaseEventStore) -> None:
    events, state = await load(demo, "01-clean-completion")
    assert state.completed and state.error is None
    assert state.content == gen.HTTP_RETRIES
    assert (state.retry_attempts, state.network_retry_count, state.fallback_index) == (0, 0, 0)
    assert state.violations == [] and not state.drift_detected
    assert kinds(events).count("CHECKPOINT") >= 5
    assert "RETRY" not in kinds(events)


async def test_network_retry_with_continuation(demo: BaseEventStore) -> None:
    events, state = await load(demo, "02-network-retry-continuation")
    assert state.completed and state.content == gen.SQL_EXPLANATION
    assert state.network_retry_count == 1 and state.retry_attempts == 0
    i_retry = next(i for i, e in enumerate(events) if isinstance(e.event, RetryEvent))
    retry = events[i_retry].event
    assert isinstance(retry, RetryEvent) and not retry.counts_toward_limit
    assert "network" in retry.reason
    assert retry.ts - events[i_retry - 1].event.ts >= 3_000  # the stall before the retry
    last_checkpoint = next(e.event for e in reversed(events[:i_retry])
                           if isinstance(e.event, CheckpointEvent))
    cont = events[i_retry + 1].event
    assert isinstance(cont, ContinuationEvent)
    assert (cont.checkpoint, cont.at) == (last_checkpoint.content, last_checkpoint.at)
    # tokens produced after that checkpoint were lost and produced again
    lost = [e.event for e in events[:i_retry] if isinstance(e.event, TokenEvent)
            and e.event.index > cont.at]
    assert len(lost) >= 5
    resumed = next(e.event for e in events[i_retry:] if isinstance(e.event, TokenEvent))
    assert resumed.index == cont.at + 1


async def test_guardrail_violation_forces_a_retry(demo: BaseEventStore) -> None:
    events, state = await load(demo, "03-guardrail-retry")
    assert state.completed and state.content == gen.BOTTLE_FINAL
    assert "clinically" not in state.content
    assert state.retry_attempts == 1 and state.network_retry_count == 0
    assert [v["rule"] for v in state.violations] == ["no-medical-claims"]
    order = kinds(events)
    assert order.index("GUARDRAIL") + 1 == order.index("RETRY")
    guardrail = next(e.event for e in events if isinstance(e.event, GuardrailEvent))
    assert guardrail.result.should_retry and not guardrail.result.should_halt


async def test_fallback_after_two_failures(demo: BaseEventStore) -> None:
    events, state = await load(demo, "04-fallback-after-two-failures")
    assert state.completed and state.fallback_index == 1
    assert state.content == gen.INCIDENT_SUMMARY
    assert [k for k in kinds(events) if k != "CHECKPOINT"] == [
        "START", "RETRY", "FALLBACK", "COMPLETE"]
    i_fb = next(i for i, e in enumerate(events) if isinstance(e.event, FallbackEvent))
    assert events[i_fb].event.ts - events[i_fb - 1].event.ts >= 5_000  # second attempt timed out
    after = [e.event for e in events[i_fb:] if isinstance(e.event, TokenEvent)]
    assert after[0].index == 0


async def test_drift_detected_mid_stream(demo: BaseEventStore) -> None:
    events, state = await load(demo, "05-drift-mid-stream")
    assert state.drift_detected and state.completed
    drifts = [e.event for e in events if isinstance(e.event, DriftEvent)]
    assert not drifts[0].result.detected  # clean at first ...
    first_hit = next(d for d in drifts if d.result.detected)
    assert "meta_commentary" in first_hit.result.types
    assert 0 < first_hit.at < state.token_count - 1  # ... drifts in the middle


async def test_error_with_zero_tokens(demo: BaseEventStore) -> None:
    events, state = await load(demo, "06-error-zero-tokens")
    assert state.token_count == 0 and state.content == ""
    assert not state.completed
    assert state.error is not None and state.error.name == "TimeoutError"
    assert state.network_retry_count == 2
    assert kinds(events) == ["START", "RETRY", "RETRY", "ERROR"]
    assert not any(isinstance(e.event, TokenEvent) for e in events)


async def test_compare_pair_diverges(demo: BaseEventStore) -> None:
    good_events, good = await load(demo, "07a-compare-good")
    bad_events, bad = await load(demo, "07b-compare-bad")
    start_good, start_bad = good_events[0].event, bad_events[0].event
    assert isinstance(start_good, StartEvent) and isinstance(start_bad, StartEvent)
    assert start_good.options.prompt == start_bad.options.prompt
    assert start_good.options.model == start_bad.options.model
    assert good.completed and bad.completed
    assert good.content != bad.content
    common = 0
    while good.content[common] == bad.content[common]:
        common += 1
    assert common > 50  # same opening, then they part ways
    assert good.violations == [] and [v["severity"] for v in bad.violations] == ["warning"]


async def test_hostile_content(demo: BaseEventStore) -> None:
    events, state = await load(demo, "08-hostile-content")
    assert state.completed
    for needle in ("[bold red]", "\x1b[31m", "\x1b]52;", "\x1b]0;", "\x00", "\x07", "\r",
                   "\u202e", "مرحبا", "שלום", "👩‍💻"):
        assert needle in state.content, repr(needle)
    longest = max(len(e.event.value) for e in events if isinstance(e.event, TokenEvent))
    assert longest >= 100_000
    start = events[0].event
    assert isinstance(start, StartEvent) and start.options.prompt is not None
    assert "[bold red]" in start.options.prompt


async def test_long_stream_is_generated_on_demand(tmp_path: Path) -> None:
    assert await gen.write_long_stream(tmp_path) is True
    assert await gen.write_long_stream(tmp_path) is False  # present: left alone
    store = await create_event_store(str(tmp_path), read_only=True)
    events = await store.get_events(gen.LONG_STREAM_ID)
    assert len(events) >= 100_000
    state = fold(events)
    assert state.completed and state.network_retry_count == 1
    assert state.token_count >= 100_000
    assert (tmp_path / f"{gen.LONG_STREAM_ID}.jsonl").is_file()
