"""A file-store writer of realistic runs for the catalog fault tests (``python -m``).

Appends ``--runs`` runs, one stream each (``<tag>-<k>``), in chunks of 1-20 events
with the streams interleaved, and with ``--shared NAME`` single TOKENs to a stream
every writer appends to. Prints ``ack`` after each acknowledged append (flushed).
``--yield`` gives the event loop a turn after every append (each append then ends
its lease: one index record per append); ``--wait-go`` waits for a line on stdin.

(Reconstructed by the SQL stores' helper after it overwrote this module by mistake;
the runs come from ``tests/faults/sql_catalog_writer.py``.)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys

from l0core.events import TokenEvent
from l0core.stores.file import FileEventStore
from tests.faults.sql_catalog_writer import run_events


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    store = FileEventStore(args.path)
    if args.wait_go:
        sys.stdin.readline()
    pending = {f"{args.tag}-{k}": run_events(rng, rng.randrange(5, 60))
               for k in range(args.runs)}
    shared = 0
    try:
        while pending:
            sid = rng.choice(sorted(pending))
            size = rng.choice([1, 1, 2, 5, 20])
            chunk, pending[sid] = pending[sid][:size], pending[sid][size:]
            if not pending[sid]:
                del pending[sid]
            if len(chunk) == 1:
                await store.append(sid, chunk[0])
            else:
                await store.append_many(sid, chunk)
            if args.shared and rng.random() < 0.3:
                await store.append(args.shared, TokenEvent(ts=2.0 + shared, value=args.tag,
                                                           index=shared))
                shared += 1
            sys.stdout.write("ack\n")
            sys.stdout.flush()
            if args.yield_:
                await asyncio.sleep(0)
    finally:
        await store.close()


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--path", required=True)
    p.add_argument("--tag", default="r")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--shared", default="")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--yield", dest="yield_", action="store_true")
    p.add_argument("--wait-go", action="store_true")
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
