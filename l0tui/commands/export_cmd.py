"""``l0tui export STORE ID --format jsonl|markdown|html|otlp``: a slice as JSONL, a report, a
player, an OpenTelemetry trace."""

from __future__ import annotations

import argparse
import io

from l0core import StreamNotFoundError
from l0core.exporters.otlp import otlp_chunks
from l0core.timeline import Timeline
from l0tui.commands.common import default_location, describe_location, open_store
from l0tui.commands.events_cmd import add_range_arguments, check_range
from l0tui.export import markdown_report, write_jsonl, write_text_file
from l0tui.output import Output

HELP = ("a slice of events as JSONL (the spec's wire format), a Markdown report, a "
        "self-contained HTML player, or an OTLP JSON trace")
EPILOG = """examples:
  l0tui export demo_streams 03-guardrail-retry > run.jsonl
  l0tui export demo_streams 03-guardrail-retry --from 10 --to 40 -o slice.jsonl
  l0tui export demo_streams 03-guardrail-retry --format markdown -o report.md
  l0tui export demo_streams 03-guardrail-retry --format markdown --to 25   (report as of seq 25)
  l0tui export demo_streams 03-guardrail-retry --format html -o run.html
  l0tui export demo_streams 03-guardrail-retry --format otlp -o run.otlp.jsonl

JSONL lines are {"streamId", "seq", "event"} envelopes, camelCase, exactly as the
stores write them; --from/--to are inclusive. A Markdown report covers the stream
from seq 0 (up to --to when given): summary, attempts, violations, errors, content.
An HTML export (also from seq 0, up to --to) is one file holding the recording and
its player: open it in any browser, offline; it loads nothing and runs nothing from
the stream. Without -o it is written to stdout, like the other formats.
An OTLP export (from seq 0, up to --to) is one line of OTLP JSON (TracesData, as the
OpenTelemetry file exporter writes it): the stream as a GenAI trace, one span per
attempt, every event a span event (docs/format.md, "OTLP mapping").
"""

_FROM_ZERO = {"markdown": "a Markdown report", "html": "an HTML export", "otlp": "an OTLP export"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="directory or URL ('-' for $L0_STORE or ./l0-events)")
    parser.add_argument("stream_id", metavar="ID", help="the stream")
    parser.add_argument("--format", choices=("jsonl", "markdown", "html", "otlp"),
                        default="jsonl", help="jsonl (default), markdown, html or otlp")
    add_range_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write to FILE instead of stdout")


async def run(args: argparse.Namespace, out: Output) -> int:
    check_range(args.from_seq, args.to_seq)
    if args.format in _FROM_ZERO and args.from_seq:
        raise ValueError(f"{_FROM_ZERO[args.format]} starts at seq 0: --from is for --format jsonl")
    location = default_location() if args.store == "-" else args.store
    buffer = io.StringIO()
    async with open_store(location) as store:
        if args.format == "jsonl":
            count = await write_jsonl(store, args.stream_id, buffer, from_seq=args.from_seq,
                                      to_seq=args.to_seq)
            what = f"{count} event(s)"
        else:
            timeline = Timeline(args.stream_id)
            async for batch in store.iter_batches(args.stream_id):
                if args.to_seq is not None:
                    batch = [env for env in batch if env.seq <= args.to_seq]
                    if not batch:
                        break
                timeline.extend(batch)
            if len(timeline) == 0:
                raise StreamNotFoundError(args.stream_id)
            if args.format == "otlp":
                buffer.writelines(otlp_chunks(timeline))
                what = f"a trace of {len(timeline)} event(s)"
            elif args.format == "html":
                from l0tui.html_export import render_html

                buffer.write(render_html(timeline, source=describe_location(location)))
                what = f"a player of {len(timeline)} event(s)"
            else:
                buffer.write(markdown_report(timeline, source=describe_location(location)))
                what = f"a report of {len(timeline)} event(s)"
    text = buffer.getvalue()
    if args.output in (None, "-"):
        out.stdout.write(text)
    else:
        write_text_file(args.output, text)
        out.note(f"wrote {what} to {args.output}")
    return 0

