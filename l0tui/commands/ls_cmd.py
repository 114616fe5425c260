"""``l0tui ls STORE``: the streams of a store with their summaries."""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from l0core.codec import encode_metadata
from l0core.stores.listing import ListedStream, list_with_status
from l0tui.commands.common import (
    default_location,
    describe_location,
    open_store,
)
from l0tui.display.colours import terminal_style
from l0tui.display.formatting import format_duration, format_ts
from l0tui.display.vocabulary import STREAM_STATUS_LOOKS
from l0tui.output import Output

HELP = "list the streams of a store"
EPILOG = """examples:
  l0tui ls demo_streams
  l0tui ls sqlite:///runs.db --json | jq '.[] | select(.status == "error") | .streamId'

A stream that cannot be read is listed as "unreadable" (or "other stream" when its
file's events name another stream id) with the reason in the note column, and ls
exits 1; a stream whose stored seqs are damaged (duplicates or gaps, possible in the
spec example layouts) reads, with the damage in the note column.
"""

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="?", default=None,
                        help="directory or URL (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--json", action="store_true", help="a JSON array of stream summaries")
    parser.add_argument("--plain", action="store_true", help="tab-separated text, no colours")


async def run(args: argparse.Namespace, out: Output) -> int:
    location = args.store or default_location()
    async with open_store(location) as store:
        listed = await list_with_status(store)
    unreadable = [e for e in listed if e.metadata is None]
    if out.json_mode:
        out.json([_entry_json(e) for e in listed])
        return 1 if unreadable else 0
    notes = any(e.reason for e in listed)
    columns = ("id", "model", "started (UTC)", "duration", "events", "tokens", "retries",
               "viol", "fb", "status") + (("note",) if notes else ())
    rows = [_row(e, notes) for e in listed]
    title = f"{len(listed)} stream(s) in {describe_location(location)}"
    if unreadable:
        title += f", {len(unreadable)} unreadable"
    out.table(columns, rows, title=title,
              justify_right=("duration", "events", "tokens", "retries", "viol", "fb"),
              wrap=("id", "model", "note"))
    return 1 if unreadable else 0


def _status_text(status: str) -> Text:
    return Text(status, style=terminal_style(STREAM_STATUS_LOOKS.get(status)))


def _row(entry: ListedStream, notes: bool) -> tuple[str | Text, ...]:
    note: tuple[str, ...] = (entry.reason,) if notes else ()
    m = entry.metadata
    if m is None:
        status = "other stream" if entry.read_status == "other_stream" else "unreadable"
        return (entry.stream_id, "", "", "", "", "", "", "", "", _status_text(status), *note)
    return (m.stream_id, m.model, format_ts(m.start_ts)[:19], format_duration(m.duration_ms),
            str(m.event_count), str(m.token_count),
            str(m.retry_attempts + m.network_retry_count), str(m.violation_count),
            str(m.fallback_index), _status_text(m.status), *note)


def _entry_json(entry: ListedStream) -> dict[str, Any]:
    if entry.metadata is None:
        return {"streamId": entry.stream_id, "status": "unreadable",
                "readStatus": entry.read_status, "reason": entry.reason}
    data = encode_metadata(entry.metadata)
    if entry.reason:
        data["readStatus"] = entry.read_status
        data["reason"] = entry.reason
    return data
