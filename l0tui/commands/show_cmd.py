"""``l0tui show STORE ID [--seq N] [--attempts] [--timing]``: the state of a stream at a
seq, or its attempts (what started each, backoff, what a continuation carried over)
and their timing (first token, gap percentiles, stalls, tokens per second)."""

from __future__ import annotations

import argparse

from rich.panel import Panel
from rich.text import Text

from l0core import EventReplayer, StreamNotFoundError
from l0core.codec import encode_event, encode_state
from l0core.stores.base import BaseEventStore
from l0core.timeline import attempt_lineage, load_timeline
from l0core.timeline.lineage import lineage_rows
from l0tui.attempt_report import (
    LINEAGE_COLUMNS,
    TIMING_COLUMNS,
    lineage_cells,
    ms,
    timing_cells,
    timing_json,
)
from l0tui.commands.common import default_location, open_store
from l0tui.display.colours import kind_style
from l0tui.display.escape import shorten, terminal_text
from l0tui.display.formatting import format_ts
from l0tui.output import Output, event_summary

PANEL_CHARS = 20_000
"""Characters of content shown in the terminal panel (its tail)."""

HELP = "the state of a stream at a seq (the last one by default)"
EPILOG = """examples:
  l0tui show demo_streams 03-guardrail-retry
  l0tui show demo_streams 03-guardrail-retry --seq 12
  l0tui show sqlite:///runs.db l0_abc --seq -1 --json | jq .state.retryAttempts
  l0tui show demo_streams 04-fallback-after-two-failures --attempts
  l0tui show demo_streams 02-network-retry-continuation --timing

--seq counts from the end when negative (-1 is the last event). --attempts and
--timing describe the whole stream instead of the state at a seq.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="directory or URL ('-' for $L0_STORE or ./l0-events)")
    parser.add_argument("stream_id", metavar="ID", help="the stream")
    parser.add_argument("--seq", type=int, default=-1,
                        help="state after events 0..N (default: -1, the last)")
    parser.add_argument("--attempts", action="store_true",
                        help="the attempt lineage: what started each attempt, its backoff, "
                             "tokens, how it ended, what a continuation carried over")
    parser.add_argument("--timing", action="store_true",
                        help="per attempt: time to first token, gap percentiles, stalls, "
                             "tokens per second")
    parser.add_argument("--stall-ms", type=float, default=2000.0,
                        help="a gap of at least this many ms is a stall (default 2000)")
    parser.add_argument("--json", action="store_true", help="the state as a JSON object")
    parser.add_argument("--plain", action="store_true", help="plain text, no colours")


async def run(args: argparse.Namespace, out: Output) -> int:
    location = default_location() if args.store == "-" else args.store
    async with open_store(location) as store:
        if args.attempts or args.timing:
            return await _attempts(store, args, out)
        last = await store.get_last_seq(args.stream_id)
        if last < 0:
            raise StreamNotFoundError(args.stream_id)
        seq = args.seq if args.seq >= 0 else last + 1 + args.seq
        if not 0 <= seq <= last:
            raise ValueError(f"--seq {args.seq} is outside the stream (seqs 0..{last})")
        state = await EventReplayer(store).replay_to_state(args.stream_id, to_seq=seq)
        envelope = (await store.read_events(args.stream_id, from_seq=seq, to_seq=seq))[0]
    event = envelope.event
    if out.json_mode:
        out.json({"streamId": args.stream_id, "seq": seq, "lastSeq": last,
                  "event": encode_event(event), "state": encode_state(state)})
        return 0
    rows: list[tuple[str, str | Text]] = [
        ("stream", args.stream_id),
        ("seq", f"{seq} of 0..{last}"),
        ("event", Text.assemble(Text(event.type, style=kind_style(event.type)),
                                " ", Text(event_summary(event, 100)))),
        ("time (UTC)", format_ts(event.ts)),
        ("token_count", str(state.token_count)),
        ("retry_attempts", str(state.retry_attempts)),
        ("network_retry_count", str(state.network_retry_count)),
        ("fallback_index", str(state.fallback_index)),
        ("drift_detected", str(state.drift_detected).lower()),
        ("violations", str(len(state.violations))),
        ("completed", str(state.completed).lower()),
        ("error", "" if state.error is None
         else shorten(f"{state.error.name}: {state.error.message}", 200)),
        ("start_ts", format_ts(state.start_ts)),
        ("end_ts", format_ts(state.end_ts)),
        ("checkpoint", shorten(repr(state.checkpoint), 200)),
    ]
    for violation in state.violations:
        rows.append(("  violation", shorten(
            f"{violation.get('rule', '?')} ({violation.get('severity', '?')}): "
            f"{violation.get('message', '')}", 200)))
    if out.rich:
        out.fields(rows, title=f"{args.stream_id} at seq {seq}")
        content = state.content
        shown = content[-PANEL_CHARS:]
        body = terminal_text(shown, keep_newlines=True)
        if len(shown) < len(content):
            body = Text.assemble((f"… {len(content) - len(shown):,} earlier chars "
                                  "(--plain or --json for all)\n", "dim italic"), body)
        out.show(Panel(body, title=f"content ({len(content):,} chars)", title_align="left"))
    else:
        rows.append(("content", state.content))
        out.fields(rows)
    return 0


async def _attempts(store: BaseEventStore, args: argparse.Namespace, out: Output) -> int:
    """``--attempts`` and/or ``--timing``: tables over the whole stream."""
    if await store.get_last_seq(args.stream_id) < 0:
        raise StreamNotFoundError(args.stream_id)
    tl = await load_timeline(store, args.stream_id)
    lineage = attempt_lineage(tl) if args.attempts else []
    timings = tl.attempt_timings(args.stall_ms) if args.timing else []
    if out.json_mode:
        doc: dict[str, object] = {"streamId": args.stream_id, "lastSeq": tl.last_seq}
        if args.attempts:
            doc["attempts"] = lineage_rows(lineage)
        if args.timing:
            overall = tl.timing(args.stall_ms)
            doc["timing"] = {"timeToFirstTokenMs": overall.time_to_first_token_ms,
                             "durationMs": overall.duration_ms,
                             "attempts": [timing_json(t) for t in timings]}
        out.json(doc)
        return 0
    if args.attempts:
        out.table(LINEAGE_COLUMNS, [lineage_cells(a) for a in lineage],
                  title=f"{args.stream_id}: attempts", justify_right=("#",),
                  wrap=("started by", "ended", "carried over"))
    if args.timing:
        overall = tl.timing(args.stall_ms)
        out.fields([("time to first token", ms(overall.time_to_first_token_ms)),
                    ("duration", ms(overall.duration_ms)),
                    ("stalls", f"{len(overall.stalls)} (gaps >= {args.stall_ms:g} ms)")],
                   title=f"{args.stream_id}: timing")
        out.table(TIMING_COLUMNS, [timing_cells(t) for t in timings],
                  justify_right=TIMING_COLUMNS[2:])
        for t in timings:
            for seq, gap in t.stalls:
                out.line(f"stall: attempt {t.attempt}, {ms(gap)} before #{seq}")
    return 0
