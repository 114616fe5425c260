"""A writer process for the NATS fault tests (``python -m tests.faults.nats_writer_proc``).

It appends ``--count`` tokens valued ``TAG:i`` to one recording, one at a time or in
batches of ``--batch``, and prints ``<seq> TAG:i`` for every acknowledged event,
flushed, so the parent knows exactly what was acknowledged before it kills the
writer. ``--wait-go`` waits for a line on stdin first (to start writers together).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from l0core import TokenEvent
from l0core.stores.base import StorageAdapterConfig
from l0core.stores.nats import NatsEventStore

ROOT = Path(__file__).resolve().parents[2]


def spawn(url: str, stream: str, *, count: int, tag: str, batch: int = 1,
          sid: str = "shared", wait_go: bool = False) -> subprocess.Popen[str]:
    """Start a writer; its stdout carries the acknowledgements."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [sys.executable, "-m", "tests.faults.nats_writer_proc", "--url", url, "--stream",
            stream, "--sid", sid, "--count", str(count), "--batch", str(batch), "--tag", tag]
    if wait_go:
        args.append("--wait-go")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def run(args: argparse.Namespace) -> None:
    cfg = StorageAdapterConfig(type="nats", connection=args.url,
                               options={"stream": args.stream, "retry_timeout": 60})
    store = await NatsEventStore(cfg).open()
    if args.wait_go:
        await asyncio.to_thread(sys.stdin.readline)
    out = sys.stdout
    i = 0
    while i < args.count:
        n = min(args.batch, args.count - i)
        events = [TokenEvent(ts=1.0 + i + k, value=f"{args.tag}:{i + k}", index=i + k)
                  for k in range(n)]
        if n == 1:
            last = await store.append(args.sid, events[0])
        else:
            last = await store.append_many(args.sid, events)
        out.write("".join(f"{last - n + 1 + k} {args.tag}:{i + k}\n" for k in range(n)))
        out.flush()
        i += n
    await store.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--stream", required=True)
    p.add_argument("--sid", default="shared")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--tag", default="0")
    p.add_argument("--wait-go", action="store_true")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
