"""``l0tui copy SRC DST [--stream ID]``: copy streams between any two stores."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from l0core import BaseEventStore, StoreConfigError, StreamNotFoundError
from l0tui.commands.common import describe_location, is_url, open_store
from l0tui.display.colours import terminal_style
from l0tui.display.vocabulary import Look, Role
from l0tui.output import Output

HELP = "copy streams between stores (file, SQLite, PostgreSQL, Redis)"
EPILOG = """examples:
  l0tui copy ./legacy-json-dir sqlite:///runs.db                every stream
  l0tui copy demo_streams postgresql://localhost/l0 --stream 03-guardrail-retry
  l0tui copy sqlite:///runs.db ./backup --force                 replace existing streams

SRC is opened read-only, DST writable. Seqs, timestamps and every field are kept.
A stream that already has events in DST is refused (nothing is written) unless
--force, which deletes it in DST first.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SRC", help="store to read (directory or URL)")
    parser.add_argument("destination", metavar="DST", help="store to write (directory or URL)")
    parser.add_argument("--stream", action="append", metavar="ID", dest="streams",
                        help="copy only this stream (repeatable; default: all)")
    parser.add_argument("--force", action="store_true",
                        help="replace streams that already exist in DST")
    parser.add_argument("--batch-size", type=int, default=5000, metavar="N",
                        help="events per append (default 5000)")
    parser.add_argument("--json", action="store_true", help="the result as JSON")
    parser.add_argument("--plain", action="store_true", help="no progress bar, plain text")


def _same_store(a: str, b: str) -> bool:
    if is_url(a) or is_url(b):
        return a.rstrip("/") == b.rstrip("/")
    return os.path.realpath(a) == os.path.realpath(b)


async def copy_stream(
    source: BaseEventStore, destination: BaseEventStore, stream_id: str, batch_size: int,
    advance: Any = None,
) -> int:
    """Copy one stream; the number of events written. Appends are guarded by expected_seq."""
    last = -1
    async for batch in source.iter_batches(stream_id, batch_size=batch_size):
        if not batch:
            continue
        last = await destination.append_many(stream_id, [env.event for env in batch],
                                             expected_seq=last)
        if advance is not None:
            advance(len(batch))
    return last + 1


async def run(args: argparse.Namespace, out: Output) -> int:
    if args.batch_size <= 0:
        raise ValueError(f"--batch-size must be > 0, got {args.batch_size}")
    if _same_store(args.source, args.destination):
        raise StoreConfigError("SRC and DST are the same store")
    async with open_store(args.source) as source:
        ids = sorted(args.streams) if args.streams else sorted(await source.list_streams())
        counts: dict[str, int] = {}
        for stream_id in ids:
            count = await source.get_event_count(stream_id)
            if count <= 0:
                raise StreamNotFoundError(stream_id, f"not in {describe_location(args.source)}")
            counts[stream_id] = count
        async with open_store(args.destination, read_only=False) as destination:
            existing = [sid for sid in ids if await destination.get_last_seq(sid) >= 0]
            if existing and not args.force:
                more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
                raise StoreConfigError(
                    f"stream {existing[0]!r}{more} already exist(s) in "
                    f"{describe_location(args.destination)}; nothing copied "
                    "(use --force to replace)")
            for stream_id in existing:
                await destination.delete(stream_id)
            copied = await _copy_all(source, destination, ids, counts, args.batch_size, out)
    total = sum(copied.values())
    if out.json_mode:
        out.json({"source": describe_location(args.source),
                  "destination": describe_location(args.destination),
                  "streams": len(copied), "events": total, "replaced": existing,
                  "copied": [{"streamId": sid, "events": n} for sid, n in copied.items()]})
    else:
        message = (f"copied {len(copied)} stream(s), {total} event(s) from "
                   f"{describe_location(args.source)} to {describe_location(args.destination)}")
        if existing:
            message += f" (replaced {len(existing)})"
        if out.rich:
            out.show(Text(message, style=terminal_style(Look(Role.SUCCESS))))
        else:
            out.line(message)
    return 0


async def _copy_all(
    source: BaseEventStore, destination: BaseEventStore, ids: list[str],
    counts: dict[str, int], batch_size: int, out: Output,
) -> dict[str, int]:
    copied: dict[str, int] = {}
    if not out.rich:
        for stream_id in ids:
            copied[stream_id] = await copy_stream(source, destination, stream_id, batch_size)
        return copied
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=out.console, transient=False) as progress:
        task = progress.add_task("copying", total=sum(counts.values()))
        for stream_id in ids:
            progress.update(task, description=f"copying {stream_id}")

            def advance(n: int) -> None:
                progress.advance(task, n)

            copied[stream_id] = await copy_stream(source, destination, stream_id, batch_size,
                                                  advance)
        progress.update(task, description="copied")
    return copied
