"""``l0tui ls STORE``: the streams of a store with their summaries."""

from __future__ import annotations

import argparse

from rich.text import Text

from l0core import get_stream_metadata
from l0tui.commands.common import (
    default_location,
    describe_location,
    metadata_to_json,
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
"""

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="?", default=None,
                        help="directory or URL (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--json", action="store_true", help="a JSON array of stream summaries")
    parser.add_argument("--plain", action="store_true", help="tab-separated text, no colours")


async def run(args: argparse.Namespace, out: Output) -> int:
    location = args.store or default_location()
    async with open_store(location) as store:
        ids = sorted(await store.list_streams())
        metas = []
        for stream_id in ids:
            meta = await get_stream_metadata(store, stream_id)
            if meta is not None:
                metas.append(meta)
    if out.json_mode:
        out.json([metadata_to_json(m) for m in metas])
        return 0
    columns = ("id", "model", "started (UTC)", "duration", "events", "tokens", "retries",
               "viol", "fb", "status")
    rows = [
        (m.stream_id, m.model, format_ts(m.start_ts)[:19], format_duration(m.duration_ms),
         str(m.event_count), str(m.token_count),
         str(m.retry_attempts + m.network_retry_count), str(m.violation_count),
         str(m.fallback_index),
         Text(m.status, style=terminal_style(STREAM_STATUS_LOOKS.get(m.status))))
        for m in metas
    ]
    out.table(columns, rows, title=f"{len(metas)} stream(s) in {describe_location(location)}",
              justify_right=("duration", "events", "tokens", "retries", "viol", "fb"),
              wrap=("id", "model"))
    return 0
