"""``l0tui prune STORE --older-than 30d``: the spec's retention practice, through the catalog.

A stream is old when it ended (or, still running, last wrote) before the cutoff. The
candidates come from the catalog's time index: only streams that *started* before
the cutoff can qualify, so the store is asked for exactly those, page by page.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from dataclasses import replace

from l0core.catalog import StreamSummary, SummaryFilter, SummaryQuery
from l0core.catalog.syntax import FilterSyntaxError, parse_age
from l0core.errors import StoreConfigError
from l0core.events import now_ms
from l0core.stores.base import BaseEventStore
from l0tui.commands.common import default_location, describe_location, open_store
from l0tui.output import Output

HELP = "delete streams older than an age (the spec's retention practice)"
EPILOG = """examples:
  l0tui prune sqlite:///runs.db --older-than 30d --dry-run      list what would go
  l0tui prune runs/ --older-than 30d --status completed         ask, then delete
  l0tui prune postgresql://localhost/l0 --older-than 90d --yes  no question

A stream is older than the age when it ended (a running one: its last event)
before now minus the age. prune says how many streams it will delete and asks
before deleting (type 'yes'); --yes skips the question, --dry-run lists them and
deletes nothing. Exit 0 when done, 1 when the question was declined.
"""

PAGE = 1000


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="?", default=None,
                        help="directory or URL (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--older-than", required=True, metavar="AGE",
                        help="30m, 12h, 30d, 2w: ended before now minus this")
    parser.add_argument("--status", action="append", metavar="STATUS",
                        choices=("running", "completed", "error"),
                        help="only streams with this status (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    parser.add_argument("--json", action="store_true", help="the ids and the result as JSON")
    parser.add_argument("--plain", action="store_true", help="plain text")


def is_old(summary: StreamSummary, cutoff: float) -> bool:
    """Ended (or, running, last wrote) before ``cutoff``."""
    return (summary.end_ts or summary.last_ts) < cutoff


async def old_streams(
    store: BaseEventStore, cutoff: float, statuses: frozenset[str] | None
) -> AsyncIterator[StreamSummary]:
    """Every stream that is old at ``cutoff``, oldest first, from the time index."""
    flt = SummaryFilter(until=cutoff,
                        status=statuses)  # type: ignore[arg-type]
    query = SummaryQuery(filter=flt, order="start_ts", descending=False, limit=PAGE)
    after = None
    while True:
        page = await store.query_summaries(replace(query, after=after))
        for summary in page.items:
            if summary.read_status == "ok" and is_old(summary, cutoff):
                yield summary
        if page.next_after is None:
            return
        after = page.next_after


def _confirm(count: int, where: str, out: Output) -> bool:
    if not sys.stdin.isatty():
        raise StoreConfigError(f"prune would delete {count} stream(s) from {where}; "
                               "stdin is not a terminal: pass --yes to delete, or --dry-run")
    out.stderr.write(f"Delete {count} stream(s) from {where}? Type 'yes' to delete: ")
    out.stderr.flush()
    return sys.stdin.readline().strip().lower() == "yes"


async def run(args: argparse.Namespace, out: Output) -> int:
    location = args.store or default_location()
    try:
        age = parse_age(args.older_than)
    except FilterSyntaxError as exc:
        raise StoreConfigError(f"--older-than: {exc}") from None
    cutoff = now_ms() - age
    statuses = frozenset(args.status) if args.status else None
    where = describe_location(location)
    async with open_store(location, read_only=args.dry_run) as store:
        doomed = [s.stream_id async for s in old_streams(store, cutoff, statuses)]
        if args.dry_run:
            if out.json_mode:
                out.json({"dryRun": True, "cutoffTs": cutoff, "streams": doomed})
            else:
                for stream_id in doomed:
                    out.line(stream_id)
                out.note(f"{len(doomed)} stream(s) would be deleted from {where} "
                         "(dry run: nothing deleted)")
            return 0
        if not doomed:
            if out.json_mode:
                out.json({"dryRun": False, "cutoffTs": cutoff, "deleted": []})
            else:
                out.note(f"no stream in {where} is older than {args.older_than}")
            return 0
        if not args.yes and not _confirm(len(doomed), where, out):
            out.note("nothing deleted")
            return 1
        for done, stream_id in enumerate(doomed, 1):
            await store.delete(stream_id)
            if not out.json_mode and out.stderr.isatty() and (done % 500 == 0
                                                              or done == len(doomed)):
                out.stderr.write(f"\rdeleted {done:,} of {len(doomed):,}")
                out.stderr.flush()
        if out.json_mode:
            out.json({"dryRun": False, "cutoffTs": cutoff, "deleted": doomed})
        else:
            if out.stderr.isatty():
                out.stderr.write("\n")
            out.note(f"deleted {len(doomed)} stream(s) from {where}")
    return 0
