"""``l0tui events STORE ID [--from N --to M] [--kind RETRY]``: the events of a stream."""

from __future__ import annotations

import argparse

from rich.text import Text

from l0core import StreamNotFoundError
from l0core.codec import encode_envelope
from l0tui.commands.common import default_location, open_store
from l0tui.display.colours import kind_style
from l0tui.display.formatting import format_duration
from l0tui.display.vocabulary import KIND_NAMES
from l0tui.output import Output, event_summary

HELP = "the events of a stream, filtered by seq range and kind"
EPILOG = """examples:
  l0tui events demo_streams 03-guardrail-retry
  l0tui events demo_streams 03-guardrail-retry --from 10 --to 40
  l0tui events demo_streams 03-guardrail-retry --kind RETRY --kind GUARDRAIL
  l0tui events sqlite:///runs.db l0_abc --json > slice.jsonl

--from and --to are inclusive. --json writes one envelope per line (JSONL) in the
spec's wire format.
"""

KINDS = KIND_NAMES


def parse_kinds(values: list[str] | None) -> frozenset[str] | None:
    """``--kind RETRY --kind token,error`` -> {"RETRY", "TOKEN", "ERROR"}."""
    if not values:
        return None
    kinds: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().upper()
            if not name:
                continue
            if name not in KINDS:
                raise ValueError(f"unknown event kind {part.strip()!r} "
                                 f"(kinds: {', '.join(KINDS)})")
            kinds.add(name)
    return frozenset(kinds)


def add_range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_seq", type=int, default=0, metavar="N",
                        help="first seq (inclusive, default 0)")
    parser.add_argument("--to", dest="to_seq", type=int, default=None, metavar="M",
                        help="last seq (inclusive, default: the end)")


def check_range(from_seq: int, to_seq: int | None) -> None:
    if from_seq < 0:
        raise ValueError(f"--from must be >= 0, got {from_seq}")
    if to_seq is not None and to_seq < from_seq:
        raise ValueError(f"--to {to_seq} is before --from {from_seq}")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="directory or URL ('-' for $L0_STORE or ./l0-events)")
    parser.add_argument("stream_id", metavar="ID", help="the stream")
    add_range_arguments(parser)
    parser.add_argument("--kind", action="append", metavar="KIND",
                        help=f"only these kinds (repeat or comma-separate): {', '.join(KINDS)}")
    parser.add_argument("--json", action="store_true", help="JSONL: one wire envelope per line")
    parser.add_argument("--plain", action="store_true", help="tab-separated text, no colours")


async def run(args: argparse.Namespace, out: Output) -> int:
    check_range(args.from_seq, args.to_seq)
    kinds = parse_kinds(args.kind)
    location = default_location() if args.store == "-" else args.store
    async with open_store(location) as store:
        first = await store.read_events(args.stream_id, from_seq=0, to_seq=0)
        if not first:
            raise StreamNotFoundError(args.stream_id)
        t0 = first[0].event.ts
        if not out.json_mode and not out.rich:
            out.row(("seq", "t_ms", "delta_ms", "kind", "summary"))
        previous_ts: float | None = None
        shown = 0
        async for batch in store.iter_batches(args.stream_id, from_seq=args.from_seq):
            for env in batch:
                if args.to_seq is not None and env.seq > args.to_seq:
                    break
                event = env.event
                delta = 0.0 if previous_ts is None else event.ts - previous_ts
                previous_ts = event.ts
                if kinds is not None and event.type not in kinds:
                    continue
                shown += 1
                if out.json_mode:
                    out.jsonl(encode_envelope(env))
                elif out.rich:
                    out.show(Text.assemble(
                        (f"{env.seq:>7} ", "dim"),
                        f"{format_duration(event.ts - t0):>11} ",
                        (f"+{format_duration(delta):>10} ", "dim"),
                        (f"{event.type:<12} ", kind_style(event.type)),
                        event_summary(event, 100),
                    ))
                else:
                    out.row((str(env.seq), f"{event.ts - t0:.3f}", f"{delta:.3f}", event.type,
                             event_summary(event, 200)))
            else:
                continue
            break
    if out.rich:
        out.show(Text(f"{shown} event(s)", style="dim"))
    return 0
