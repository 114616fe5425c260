"""Timeline benchmark: index a synthetic 1M-event stream, then ask for states at random seqs.

    .venv-bench/bin/python benchmarks/bench_timeline.py [--events N] [--samples K]
        [--anchor-seqs 1000,3000,10000,30000,100000]

Measures, in one run:
* Timeline build (one call, and fed in batches of 10,000 as a loading TUI does);
* ``state_at`` over K random seqs (median, p95), plus the other per-scrub queries;
* memory: RSS growth from building one Timeline, and after its lazy indexes
  (search, attempts, timing) are warm;
* ``diff_timelines`` against a similar run (a token changed near each end, 30
  tokens inserted in the middle) and an unrelated one (another seed), per alignment;
* the anchor (ai2070-l0 0.21.1): ``EventReplayer(InMemoryEventStore).replay_to_state``
  can only fold a whole stream from seq 0, so for each seq S of ``--anchor-seqs`` a
  stream holding events 0..S is loaded and folded (one run per S; loading is not
  timed). Its fold concatenates the content one token at a time, so its cost grows
  with the square of the content: the 1M-event stream is out of reach (a 300k
  prefix took 564 s here), which is why the sample stops at 100k by default.
  ``l0core.fold`` from seq 0 is shown next to it for the same seqs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import median_of, percentile, rss_mb, table
from synthetic import make_stream

from l0core.diff import diff_timelines
from l0core.events import EventEnvelope, RecordedEventType, TokenEvent
from l0core.fold import fold
from l0core.timeline import Timeline


def _to_anchor(ev: Any) -> Any:
    """The same event as ai2070-l0's dataclass."""
    import l0.eventsourcing as a

    kind = ev.type
    if kind == "TOKEN":
        return a.TokenEvent(ts=ev.ts, value=ev.value, index=ev.index)
    if kind == "START":
        o = ev.options
        return a.StartEvent(ts=ev.ts, options=a.SerializedOptions(
            prompt=o.prompt, model=o.model, retry=o.retry, timeout=o.timeout,
            check_intervals=o.check_intervals, fallback_count=o.fallback_count or 0,
            guardrail_count=o.guardrail_count or 0, metadata=o.metadata))
    if kind == "CHECKPOINT":
        return a.CheckpointEvent(ts=ev.ts, at=ev.at, content=ev.content)
    if kind == "GUARDRAIL":
        r = ev.result
        return a.GuardrailEvent(ts=ev.ts, at=ev.at, result=a.GuardrailEventResult(
            violations=r.violations, should_retry=r.should_retry, should_halt=r.should_halt))
    if kind == "DRIFT":
        r = ev.result
        return a.DriftEvent(ts=ev.ts, at=ev.at, result=a.DriftEventResult(
            detected=r.detected, types=r.types, confidence=r.confidence))
    if kind == "RETRY":
        return a.RetryEvent(ts=ev.ts, reason=ev.reason, attempt=ev.attempt,
                            counts_toward_limit=ev.counts_toward_limit)
    if kind == "FALLBACK":
        return a.FallbackEvent(ts=ev.ts, to=ev.to)
    if kind == "CONTINUATION":
        return a.ContinuationEvent(ts=ev.ts, checkpoint=ev.checkpoint, at=ev.at)
    if kind == "COMPLETE":
        return a.CompleteEvent(ts=ev.ts, content=ev.content, token_count=ev.token_count)
    e = ev.error
    return a.ErrorEvent(ts=ev.ts, error=a.SerializedError(
        name=e.name, message=e.message, code=e.code, stack=e.stack, metadata=e.metadata),
        failure_type=ev.failure_type, recovery_strategy=ev.recovery_strategy,
        policy=ev.policy if isinstance(ev.policy, str) else str(ev.policy))


async def _anchor_times(envs: list[EventEnvelope], seqs: list[int]) -> dict[int, float]:
    from l0.eventsourcing import EventReplayer, InMemoryEventStore

    store = InMemoryEventStore()
    converted = [_to_anchor(e.event) for e in envs[: max(seqs) + 1]]
    out: dict[int, float] = {}
    for s in seqs:
        sid = f"prefix-{s}"
        for ev in converted[: s + 1]:
            await store.append(sid, ev)
        replayer = EventReplayer(store)
        t0 = time.perf_counter()
        state = await replayer.replay_to_state(sid)
        out[s] = time.perf_counter() - t0
        await store.delete(sid)
        del state
        print(f"  anchor replay_to_state to seq {s:,}: {out[s] * 1000:,.1f} ms", flush=True)
    return out


def _time_calls(fn: Any, args: list[Any]) -> list[float]:
    samples = []
    for arg in args:
        t0 = time.perf_counter()
        fn(arg)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--anchor-seqs", default="1000,3000,10000,30000,100000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    anchor_seqs = [int(x) for x in args.anchor_seqs.split(",") if x]
    anchor_seqs = [s for s in anchor_seqs if s < args.events]

    t0 = time.perf_counter()
    envs = make_stream(args.events, seed=args.seed)
    print(f"synthetic stream: {len(envs):,} events in {time.perf_counter() - t0:.1f} s "
          "(not part of any figure)", flush=True)

    # build: three runs of one call, then fed in 10k batches
    builds = []
    for _ in range(3):
        gc.collect()
        t0 = time.perf_counter()
        tl = Timeline("bench", envs)
        builds.append(time.perf_counter() - t0)
        del tl
    gc.collect()
    t0 = time.perf_counter()
    tl = Timeline("bench")
    for lo in range(0, len(envs), 10_000):
        tl.extend(envs[lo : lo + 10_000])
    batched = time.perf_counter() - t0
    del tl
    gc.collect()
    rss0 = rss_mb()
    tl = Timeline("bench", envs)
    gc.collect()
    rss_built = rss_mb() - rss0

    rng = random.Random(args.seed)
    seqs = [rng.randrange(len(envs)) for _ in range(args.samples)]
    state_ms = _time_calls(tl.state_at, seqs)
    changed_ms = _time_calls(tl.changed_fields, seqs[:2000])
    history_ms = _time_calls(lambda s: tl.field_last_changed("fallback_index", s), seqs[:2000])
    landmark_ms = _time_calls(lambda s: tl.next_landmark(s, RecordedEventType.RETRY), seqs[:2000])
    minimap_ms = _time_calls(lambda _: tl.minimap(200), range(50))
    zoom_ms = _time_calls(lambda s: tl.minimap(200, s, s + 20_000), seqs[:200])

    t0 = time.perf_counter()
    tl.search("café")
    search_first = (time.perf_counter() - t0) * 1000
    search_ms = _time_calls(lambda p: tl.search(p), ["stable", "the model", "caf", "zzz"] * 3)
    t0 = time.perf_counter()
    tl.attempts()
    attempts_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    tl.timing()
    timing_ms = (time.perf_counter() - t0) * 1000
    gc.collect()
    rss_warm = rss_mb() - rss0

    # diff: the same run with a token changed near each end and 30 tokens inserted
    # in the middle (a "similar" pair), and an unrelated run (another seed)
    evs = [e.event for e in envs]
    for at in (10, len(evs) - 20):
        old = evs[at]
        if isinstance(old, TokenEvent):
            evs[at] = TokenEvent(ts=old.ts, value=" zebra", index=old.index)
    mid = len(evs) // 2
    evs[mid:mid] = [TokenEvent(ts=evs[mid].ts, value=" oops", index=0)] * 30
    similar = Timeline("similar", [EventEnvelope("similar", i, e) for i, e in enumerate(evs)])
    other = Timeline("other", [EventEnvelope("other", e.seq, e.event)
                               for e in make_stream(args.events, seed=args.seed + 1)])
    diff_s: dict[str, float] = {}
    for name, b in (("similar", similar), ("unrelated", other)):
        for align in ("content", "landmarks", "seq"):
            t0 = time.perf_counter()
            diff_timelines(tl, b, align=align)
            diff_s[f"{name} {align}"] = time.perf_counter() - t0
    del similar, other, evs
    gc.collect()

    print("timing the anchor (fold from seq 0 for each sampled seq)...", flush=True)
    anchor = asyncio.run(_anchor_times(envs, anchor_seqs)) if anchor_seqs else {}
    ours_fold: dict[int, float] = {}
    for s in anchor_seqs:
        t0 = time.perf_counter()
        fold(envs[: s + 1])
        ours_fold[s] = time.perf_counter() - t0

    n = f"{len(envs):,}"
    print()
    print(f"### Timeline on a synthetic {n}-event stream (seed {args.seed})")
    print()
    rows: list[list[Any]] = [
        ["build Timeline (one call), median of 3", f"{median_of(builds):.2f} s", "<= 2 s"],
        ["build via extend(), 10k batches", f"{batched:.2f} s", ""],
        [f"state_at, {args.samples:,} random seqs: median",
         f"{median_of(state_ms):.3f} ms", "<= 1 ms"],
        ["state_at: p95", f"{percentile(state_ms, 95):.3f} ms", ""],
        ["state_at: max", f"{max(state_ms):.3f} ms", ""],
        ["changed_fields: median", f"{median_of(changed_ms) * 1000:.1f} us", ""],
        ["field_last_changed: median", f"{median_of(history_ms) * 1000:.1f} us", ""],
        ["next_landmark(RETRY): median", f"{median_of(landmark_ms) * 1000:.1f} us", ""],
        ["minimap(200 cells), whole stream: median", f"{median_of(minimap_ms):.2f} ms", ""],
        ["minimap(200 cells), 20k-seq window: median", f"{median_of(zoom_ms):.2f} ms", ""],
        ["search, first call (payload cache, lower-cased text)", f"{search_first:.0f} ms", ""],
        ["search, warm, scope all: median", f"{median_of(search_ms):.1f} ms", ""],
        ["attempts() first call", f"{attempts_ms:.1f} ms", ""],
        ["timing() first call", f"{timing_ms:.0f} ms", ""],
        *[[f"diff_timelines, {key} run", f"{sec:.2f} s", ""] for key, sec in diff_s.items()],
        ["RSS growth: Timeline built", f"{rss_built:.0f} MB", ""],
        ["RSS growth: with search/attempts/timing indexes", f"{rss_warm:.0f} MB", ""],
    ]
    print(table(["measure", "l0core", "target"], rows))
    print()
    print("Envelopes themselves are not counted in the RSS growth (they exist before).")
    if anchor:
        print()
        print("### State at seq S: anchor fold from seq 0 vs Timeline.state_at")
        print()
        arows = []
        for s in anchor_seqs:
            ours = median_of(_time_calls(tl.state_at, [s] * 200))
            arows.append([
                f"{s:,}",
                f"{anchor[s] * 1000:,.1f} ms",
                f"{ours_fold[s] * 1000:,.1f} ms",
                f"{ours:.4f} ms",
                f"{anchor[s] * 1000 / ours:,.0f}x",
            ])
        print(table(["seq S", "ai2070-l0 replay_to_state (events 0..S)",
                     "l0core.fold (events 0..S)", "Timeline.state_at(S), median of 200",
                     "anchor / state_at"], arows))


if __name__ == "__main__":
    main()
