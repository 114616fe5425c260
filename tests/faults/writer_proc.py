"""A separate writer process for the fault tests (run with ``python -m``).

Modes:

- ``append``: append ``--count`` tokens ("TAG:i") one at a time (or in batches of
  ``--batch``) and print the seq of every acknowledged event on stdout, flushed,
  so the parent knows exactly what was acknowledged before it kills us. With
  ``--wait-go`` it first waits for a line on stdin (to start writers together).
- ``diskfull``: lower RLIMIT_FSIZE just above the store's current size, so the
  kernel refuses the next write (EFBIG: a real failed write, no mock), try an
  append, lift the limit, append again; print what happened as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys

from l0core import TokenEvent
from l0core.stores.base import BaseEventStore
from l0core.stores.file import FileEventStore
from l0core.stores.sqlite import SQLiteEventStore


def open_store(kind: str, path: str) -> BaseEventStore:
    if kind == "file":
        return FileEventStore(path)
    return SQLiteEventStore(f"sqlite:///{path}")


async def append_mode(args: argparse.Namespace) -> None:
    store = open_store(args.store, args.path)
    if args.wait_go:
        sys.stdin.readline()
    out = sys.stdout
    i = 0
    while i < args.count:
        n = min(args.batch, args.count - i)
        events = [TokenEvent(ts=1.0 + i + k, value=f"{args.tag}:{i + k}" + "." * args.pad,
                             index=i + k) for k in range(n)]
        if n == 1:
            last = await store.append(args.stream, events[0])
        else:
            last = await store.append_many(args.stream, events)
        out.write("".join(f"{last - n + 1 + k} {args.tag}:{i + k}{'.' * args.pad}\n"
                          for k in range(n)))
        out.flush()
        i += n
    await store.close()


def _files_size(kind: str, path: str) -> int:
    if kind == "file":
        return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    return max(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


async def diskfull_mode(args: argparse.Namespace) -> None:
    store = open_store(args.store, args.path)
    result: dict[str, object] = {}
    await store.append_many(args.stream, [TokenEvent(ts=1, value=f"ok{i}", index=i)
                                          for i in range(100)])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (_files_size(args.store, args.path) + 200, hard))
    big = [TokenEvent(ts=2, value="x" * 100 + str(i), index=100 + i) for i in range(200)]
    try:
        seq = await store.append_many(args.stream, big)
        result["failed"] = None
        result["acked"] = seq
    except Exception as exc:
        result["failed"] = f"{type(exc).__name__}: {exc}"
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    result["after_failure"] = [e.seq for e in await store.get_events(args.stream)]
    result["next_seq"] = await store.append(args.stream, TokenEvent(ts=3, value="again",
                                                                    index=100))
    await store.close()
    reopened = open_store(args.store, args.path)
    events = await reopened.get_events(args.stream)
    result["reopened"] = [e.seq for e in events]
    result["last_value"] = getattr(events[-1].event, "value", None)
    await reopened.close()
    print(json.dumps(result), flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["append", "diskfull"])
    p.add_argument("--store", choices=["file", "sqlite"], required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--stream", default="s1")
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--tag", default="w")
    p.add_argument("--pad", type=int, default=0, help="dots after each value (bigger writes)")
    p.add_argument("--wait-go", action="store_true")
    args = p.parse_args()
    asyncio.run(append_mode(args) if args.mode == "append" else diskfull_mode(args))


if __name__ == "__main__":
    main()
