"""``l0tui verify STORE [--repair]``: report torn tails and corruption."""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from l0core import BaseEventStore, CorruptionError, EventValidationError
from l0core.stores.verify import StreamCheck, VerifyReport
from l0tui.commands.common import default_location, describe_location, open_store
from l0tui.display.colours import terminal_style
from l0tui.display.vocabulary import CHECK_STATUS_LOOKS
from l0tui.output import Output

HELP = "report torn tails and corruption (--repair cuts torn tails off)"
EPILOG = """examples:
  l0tui verify demo_streams
  l0tui verify ./l0-events --repair
  l0tui verify sqlite:///runs.db --json

Exit status: 0 when every stream is intact (or was repaired), 1 when problems
remain, 2 on an error. --repair only ever cuts off a torn tail (a partial last
line left by a crash); corruption in the middle of a stream is reported, never
"fixed". Stores without their own check (memory, PostgreSQL, Redis) are checked by
reading every stream and checking its seqs.
"""

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="?", default=None,
                        help="directory or URL (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--repair", action="store_true",
                        help="cut torn tails off (opens the store writable)")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    parser.add_argument("--plain", action="store_true", help="tab-separated text, no colours")


async def generic_verify(store: BaseEventStore, name: str) -> VerifyReport:
    """Read every stream and check that its seqs are 0..n-1 (stores without ``verify``)."""
    report = VerifyReport(store=name)
    for stream_id in sorted(await store.list_streams()):
        count = 0
        try:
            async for batch in store.iter_batches(stream_id):
                for env in batch:
                    if env.seq != count:
                        raise CorruptionError(f"expected seq {count}, found {env.seq}")
                    count += 1
        except (CorruptionError, EventValidationError) as exc:
            report.streams.append(StreamCheck(stream_id, name, "corrupt", count, str(exc)))
            continue
        report.streams.append(StreamCheck(stream_id, name, "ok", count))
    return report


def _check_json(check: StreamCheck) -> dict[str, Any]:
    return {"streamId": check.stream_id, "path": check.path, "status": check.status,
            "events": check.events, "detail": check.detail, "offset": check.offset,
            "repaired": check.repaired, "healthy": check.healthy}


async def run(args: argparse.Namespace, out: Output) -> int:
    location = args.store or default_location()
    name = describe_location(location)
    async with open_store(location, read_only=not args.repair) as store:
        verify = getattr(store, "verify", None)
        if callable(verify):
            report: VerifyReport = await verify(repair=args.repair)
        else:
            report = await generic_verify(store, name)
    if out.json_mode:
        out.json({"store": report.store, "ok": report.ok,
                  "streams": [_check_json(c) for c in report.streams], "notes": report.notes})
    else:
        rows = [
            (c.stream_id, Text(c.status + (" (repaired)" if c.repaired else ""),
                               style=terminal_style(CHECK_STATUS_LOOKS.get(
                                   "repaired" if c.repaired else c.status))),
             str(c.events), "" if c.offset is None else str(c.offset), c.detail)
            for c in report.streams
        ]
        out.table(("stream", "status", "events", "offset", "detail"), rows, wrap=("detail",),
                  justify_right=("events", "offset"))
        for note in report.notes:
            out.line(f"note: {note}")
        bad = report.problems()
        summary = (f"{name}: {len(report.streams)} stream(s), "
                   + ("all intact" if not bad else f"{len(bad)} with problems"))
        repaired = sum(1 for c in report.streams if c.repaired)
        if repaired:
            summary += f", {repaired} repaired"
        if out.rich:
            out.show(Text(summary, style=terminal_style(
                CHECK_STATUS_LOOKS["ok" if not bad else "corrupt"])))
        else:
            out.line(summary)
    return 0 if report.ok else 1
