"""A deterministic, realistic synthetic stream of N events, for benchmarks and demos.

Shape (fractions of N): START; tokens at ~20 ms with jitter and a few multi-second
stalls; a CHECKPOINT every 400 tokens; a GUARDRAIL (sometimes with violations)
and a DRIFT check now and then; attempt boundaries at 15 % (model RETRY), 35 %
(network RETRY + CONTINUATION), 55 % (ERROR + RETRY), 70 % (FALLBACK +
CONTINUATION); COMPLETE last, with the content the run returned (the last
attempt's checkpoint plus its own tokens) and its token count.

Checkpoints carry the last 2,000 characters of the content rather than all of it,
so that a 1M-event stream stays a few hundred MB in memory; a CONTINUATION
therefore resumes from that window (still a valid stream for every fold rule).

    python benchmarks/synthetic.py N OUT.jsonl [--seed S] [--stream-id ID]

writes the envelopes as JSONL in the wire format, one per line.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from l0core.codec import encode_envelope_line
from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    DriftEventResult,
    ErrorEvent,
    EventEnvelope,
    FallbackEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)

_WORDS = (
    "the", "model", "stream", "token", "data", "shows", "growth", "in", "of", "and",
    "a", "to", "latency", "retry", "we", "observe", "that", "results", "are", "stable",
    "across", "runs", "with", "some", "variance", "é", "naïve", "café", "日本", "🙂",
)
_CHECKPOINT_EVERY = 400
_CHECKPOINT_WINDOW = 2_000
_T0 = 1_767_225_600_000.0  # 2026-01-01T00:00:00Z in Unix ms

# (fraction of the stream, what ends the attempt there)
_BOUNDARIES = (
    (0.15, "retry"),
    (0.35, "network_retry+continuation"),
    (0.55, "error+retry"),
    (0.70, "fallback+continuation"),
)


def make_stream(n_events: int, seed: int = 0, stream_id: str = "bench") -> list[EventEnvelope]:
    """``n_events`` envelopes (seqs ``0..n_events-1``), identical for the same seed."""
    if n_events < 2:
        raise ValueError("a synthetic stream needs at least START and COMPLETE")
    rng = random.Random(seed)
    words = [(" " + w) for w in _WORDS] + ["\n", ".", ","]
    weights = [6] * len(_WORDS) + [1, 2, 2]
    events: list[RecordedEvent] = []
    ts = _T0
    events.append(StartEvent(ts=ts, options=SerializedOptions(
        prompt="Summarise the quarterly report.", model="synthetic-1",
        retry={"attempts": 3, "maxRetries": 6}, fallback_count=1, guardrail_count=2)))
    boundaries = [(max(1, int(f * n_events)), what) for f, what in _BOUNDARIES]
    next_boundary = 0
    index = 0
    retry_number = 0
    resumed = ""
    produced: list[str] = []
    checkpoint = ""
    room = n_events - 1  # the last event is COMPLETE
    # draw token values in chunks: far faster than one rng call per token
    pool = rng.choices(words, weights=weights, k=4096)
    gaps = [rng.uniform(5.0, 35.0) for _ in range(4096)]
    k = 0
    while len(events) < room:
        seq = len(events)
        if next_boundary < len(boundaries) and seq >= boundaries[next_boundary][0]:
            what = boundaries[next_boundary][1]
            next_boundary += 1
            for step in what.split("+"):
                if len(events) >= room:
                    break
                ts += rng.uniform(50.0, 400.0)
                events.append(_boundary_event(step, ts, retry_number + 1, checkpoint, rng))
                if step.endswith("retry"):
                    retry_number += 1
                    resumed, produced, index = "", [], 0
                elif step == "fallback":
                    resumed, produced, index = "", [], 0
                elif step == "continuation":
                    resumed = checkpoint
            continue
        k = (k + 1) & 4095
        if k == 0:
            pool = rng.choices(words, weights=weights, k=4096)
        value = pool[k]
        ts += gaps[(k * 7) & 4095] + (3_000.0 if seq % 250_000 == 125_000 else 0.0)
        events.append(TokenEvent(ts=ts, value=value, index=index))
        index += 1
        produced.append(value)
        if index % _CHECKPOINT_EVERY == 0 and len(events) < room:
            tail = resumed + "".join(produced[-_CHECKPOINT_WINDOW:])
            checkpoint = tail[-_CHECKPOINT_WINDOW:]
            events.append(CheckpointEvent(ts=ts, at=index, content=checkpoint))
        if index % 9_973 == 0 and len(events) < room:
            violations = (
                [{"rule": "no-pii", "message": "possible e-mail address", "severity": "warning",
                  "recoverable": True}]
                if rng.random() < 0.3 else []
            )
            events.append(GuardrailEvent(ts=ts, at=index, result=GuardrailEventResult(
                violations=violations, should_retry=False, should_halt=False)))
        if index % 24_989 == 0 and len(events) < room:
            detected = rng.random() < 0.25
            events.append(DriftEvent(ts=ts, at=index, result=DriftEventResult(
                detected=detected, types=["tone_shift"] if detected else [],
                confidence=round(rng.random(), 3))))
    ts += 10.0
    events.append(CompleteEvent(ts=ts, content=resumed + "".join(produced), token_count=index))
    return [EventEnvelope(stream_id, seq, ev) for seq, ev in enumerate(events)]


def _boundary_event(
    step: str, ts: float, attempt: int, checkpoint: str, rng: random.Random
) -> RecordedEvent:
    if step == "retry":
        return RetryEvent(ts=ts, reason="guardrail_violation", attempt=attempt,
                          counts_toward_limit=True)
    if step == "network_retry":
        return RetryEvent(ts=ts, reason="network_error", attempt=attempt,
                          counts_toward_limit=False)
    if step == "error":
        return ErrorEvent(ts=ts, error=SerializedError(
            name="TimeoutError", message=f"no token for {rng.randint(5, 30)} s",
            code="E_TIMEOUT"), failure_type="timeout", recovery_strategy="retry",
            policy="default")
    if step == "fallback":
        return FallbackEvent(ts=ts, to=1)
    if step == "continuation":
        return ContinuationEvent(ts=ts, checkpoint=checkpoint, at=len(checkpoint))
    raise ValueError(step)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n_events", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stream-id", default="bench")
    args = parser.parse_args(argv)
    envelopes = make_stream(args.n_events, args.seed, args.stream_id)
    with args.out.open("wb") as fh:
        for env in envelopes:
            fh.write(encode_envelope_line(env))
    print(f"wrote {len(envelopes):,} events of stream {args.stream_id!r} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
