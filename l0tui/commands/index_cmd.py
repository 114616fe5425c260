"""``l0tui index STORE``: build or repair the catalog's summaries of a writable store.

Stores written before the catalog existed (and directories the TypeScript library
or ``ai2070-l0`` wrote) have no summaries; browsing them scans every stream each
time. ``index`` writes the summaries once, with progress, so later listings are
instant. A store that keeps no summaries at all (a read-only foreign layout) says so.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from typing import cast

from l0core.errors import StoreConfigError
from l0tui.commands.common import default_location, describe_location, open_store
from l0tui.output import Output

HELP = "build or repair the catalog's stream summaries of a store"
EPILOG = """examples:
  l0tui index ./old-runs              a file store written before summaries existed
  l0tui index sqlite:///runs.db

The store is opened writable. Summaries are rebuilt from the events, so running
index on an up-to-date store changes nothing.
"""

Build = Callable[[Callable[[int, int], None] | None], Awaitable[int]]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="?", default=None,
                        help="directory or URL (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--json", action="store_true", help="the result as JSON")
    parser.add_argument("--plain", action="store_true", help="plain text")


async def run(args: argparse.Namespace, out: Output) -> int:
    location = args.store or default_location()
    where = describe_location(location)
    started = time.monotonic()
    async with open_store(location, read_only=False) as store:
        build = getattr(store, "build_catalog", None)
        if build is None:
            raise StoreConfigError(f"{where} keeps no summaries of its own (it is listed by "
                                   "reading every stream); nothing to index")
        tty = out.stderr.isatty() and not out.json_mode

        def progress(done: int, total: int) -> None:
            if tty and (done == total or done % 200 == 0):
                out.stderr.write(f"\rindexing stream {done:,} of {total:,}")
                out.stderr.flush()

        count = await cast(Build, build)(progress)
        if tty:
            out.stderr.write("\n")
    seconds = time.monotonic() - started
    if out.json_mode:
        out.json({"store": where, "streams": count, "seconds": round(seconds, 3)})
    else:
        out.note(f"indexed {count:,} stream(s) of {where} in {seconds:.1f} s")
    return 0
