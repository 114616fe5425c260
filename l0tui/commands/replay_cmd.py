"""``l0tui replay STORE ID [--speed X]``: print a stream's tokens with the recorded timing."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text

from l0core import EventReplayer, StreamNotFoundError, TokenEvent
from l0tui.commands.common import default_location, open_store
from l0tui.display.colours import kind_style
from l0tui.display.escape import sanitize
from l0tui.output import Output, event_summary

HELP = "print a stream's tokens with the recorded timing"
EPILOG = """examples:
  l0tui replay demo_streams 03-guardrail-retry              recorded timing
  l0tui replay demo_streams 03-guardrail-retry --speed 4    four times faster
  l0tui replay demo_streams 03-guardrail-retry --speed 0    instant
  l0tui replay demo_streams 01-clean-completion --max-gap 500   pauses of 500 ms at most

On a terminal, events other than tokens (RETRY, GUARDRAIL, ...) show as markers;
--json writes one line per token: {"seq": 3, "ts": 1712345678123, "value": "Hi"}.
"""

Sleep = Callable[[float], Awaitable[Any]]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="directory or URL ('-' for $L0_STORE or ./l0-events)")
    parser.add_argument("stream_id", metavar="ID", help="the stream")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="1 = recorded timing (default), 4 = four times faster, 0 = instant")
    parser.add_argument("--max-gap", type=float, default=None, metavar="MS",
                        help="cap any single pause at MS recorded milliseconds")
    parser.add_argument("--tokens-only", action="store_true",
                        help="no markers for other events, even on a terminal")
    parser.add_argument("--json", action="store_true", help="JSON lines, one per token")
    parser.add_argument("--plain", action="store_true", help="no colours, no markers")


async def run(args: argparse.Namespace, out: Output, *, sleep: Sleep | None = None) -> int:
    if args.speed < 0:
        raise ValueError(f"--speed must be >= 0, got {args.speed}")
    if args.max_gap is not None and args.max_gap < 0:
        raise ValueError(f"--max-gap must be >= 0, got {args.max_gap}")
    location = default_location() if args.store == "-" else args.store
    markers = out.rich and not args.tokens_only
    async with open_store(location) as store:
        if await store.get_last_seq(args.stream_id) < 0:
            raise StreamNotFoundError(args.stream_id)
        replayer = EventReplayer(store, sleep=sleep or asyncio.sleep)
        async for env in replayer.replay(args.stream_id, speed=args.speed,
                                         max_gap_ms=args.max_gap):
            event = env.event
            if isinstance(event, TokenEvent):
                if out.json_mode:
                    out.jsonl({"seq": env.seq, "ts": event.ts, "value": event.value})
                elif out.rich:
                    out.console.print(Text(sanitize(event.value, keep_newlines=True)), end="")
                else:
                    out.stdout.write(sanitize(event.value, keep_newlines=True))
                out.stdout.flush()
            elif markers:
                out.console.print(Text.assemble(
                    "\n⟨", (event.type, kind_style(event.type)), " ",
                    event_summary(event, 80), "⟩\n"), end="")
    if not out.json_mode:
        out.stdout.write("\n")
    return 0
