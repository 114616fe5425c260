"""A writer process for the catalog fault tests (run with ``python -m``).

Appends whole runs (START, tokens, retries, guardrails, continuations, an ERROR or
COMPLETE, or nothing: still running) to ``--streams`` streams of its own, in chunks of
1-20 events, the streams interleaved, plus single TOKENs to a ``shared`` stream every
writer appends to. Prints ``ack`` after each acknowledged append (flushed), so the
parent knows the writer got going before it kills it. Deterministic per ``--seed``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys

from l0core.events import (
    CompleteEvent,
    ContinuationEvent,
    ErrorEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)
from l0core.stores.base import BaseEventStore, StorageAdapterConfig

WORDS = ["refund ", "Straße ", "invoice ", "weather ", "ok ", "x"]


def run_events(rng: random.Random, n: int) -> list[RecordedEvent]:
    """One run of about ``n`` events."""
    ts = 1_700_000_000_000.0 + rng.randrange(10_000_000)
    out: list[RecordedEvent] = [StartEvent(ts=ts, options=SerializedOptions(
        model=rng.choice(["gpt-4o", "claude"]), prompt=f"p{rng.randrange(1000)}"))]
    index = 0
    while len(out) < n:
        ts += rng.choice([0.0, 1.0, 20.0])
        roll = rng.random()
        if roll < 0.8:
            out.append(TokenEvent(ts=ts, value=rng.choice(WORDS), index=index))
            index += 1
        elif roll < 0.87:
            out.append(RetryEvent(ts=ts, reason="rate_limit", attempt=1,
                                  counts_toward_limit=rng.random() < 0.5))
        elif roll < 0.94:
            out.append(GuardrailEvent(ts=ts, at=index, result=GuardrailEventResult(
                violations=[{"rule": "pii", "message": "m", "severity": "error"}])))
        else:
            out.append(ContinuationEvent(ts=ts, checkpoint="kept ", at=5))
    end = rng.random()
    if end < 0.45:
        out.append(CompleteEvent(ts=ts + 5, content="done " + rng.choice(WORDS),
                                 token_count=index))
    elif end < 0.8:
        out.append(ErrorEvent(ts=ts + 5, error=SerializedError(name="E", message="boom"),
                              failure_type="network", recovery_strategy="halt",
                              policy="default"))
    return out


async def open_store(args: argparse.Namespace) -> BaseEventStore:
    if args.store == "sqlite":
        from l0core.stores.sqlite import SQLiteEventStore

        return SQLiteEventStore(f"sqlite:///{args.path}")
    from l0core.stores.postgres import PostgresEventStore

    cfg = StorageAdapterConfig(type="postgres", connection=args.path,
                               options={"schema": args.schema})
    return await PostgresEventStore(cfg).open()


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    store = await open_store(args)
    if args.wait_go:
        sys.stdin.readline()
    pending = {f"{args.tag}-{k}": run_events(rng, rng.randrange(5, args.length))
               for k in range(args.streams)}
    shared = 0
    try:
        while pending:
            sid = rng.choice(sorted(pending))
            events = pending[sid]
            size = rng.choice([1, 1, 2, 5, 20])
            chunk, pending[sid] = events[:size], events[size:]
            if not pending[sid]:
                del pending[sid]
            if len(chunk) == 1:
                await store.append(sid, chunk[0])
            else:
                await store.append_many(sid, chunk)
            if rng.random() < 0.3:
                await store.append("shared", TokenEvent(ts=2.0 + shared, value=args.tag,
                                                        index=shared))
                shared += 1
            sys.stdout.write("ack\n")
            sys.stdout.flush()
    finally:
        await store.close()


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--store", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--path", required=True, help="database file, or PostgreSQL URL")
    p.add_argument("--schema", default="public")
    p.add_argument("--streams", type=int, default=30)
    p.add_argument("--length", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tag", default="w")
    p.add_argument("--wait-go", action="store_true")
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
