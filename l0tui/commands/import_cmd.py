"""``l0tui import FILE STORE``: provider stream captures and OTLP traces into a store."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any, TextIO

from l0core.importers import DEFAULT_BATCH, FORMATS, ImportedStream, import_into
from l0tui.commands.common import default_location, describe_location, open_store
from l0tui.output import Output

HELP = "import provider stream captures (OpenAI, Anthropic: SSE or JSONL) and OTLP JSON traces"
EPILOG = """examples:
  l0tui import capture.sse ./l0-events                    an Anthropic or OpenAI SSE capture
  l0tui import chunks.jsonl sqlite:///runs.db --stream checkout-42
  l0tui import traces.otlp.jsonl - --format otlp           into $L0_STORE or ./l0-events
  l0tui import capture.sse ./l0-events --json              ids, outcomes, finish reasons

Formats (found from the first lines unless --format): openai-chat, openai-responses,
anthropic (SSE with data:/event: lines, JSON Lines of the objects, a JSON array) and
otlp (the OpenTelemetry file exporter's JSON Lines; our own OTLP exports come back
exactly). Each response becomes a stream, each of its tool calls a stream ID-tool-N;
a capture cut short ends in ERROR with every token kept. Ids come from the source
(response or message id, l0.stream_id, trace-span id) unless --stream names them
(ID, ID-2, ...). An id that already has events in STORE is never overwritten: the
import stops there. The stream ids written are printed, one per line.
"""

PROGRESS_MIN_BYTES = 4 << 20
"""Files at least this big show progress on a terminal without --progress."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the capture or trace file")
    parser.add_argument("store", metavar="STORE",
                        help="directory or URL to write into ('-' for $L0_STORE or ./l0-events)")
    parser.add_argument("--stream", metavar="ID", default=None,
                        help="the id of the first stream (the next ones ID-2, ID-3, ...)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="the file's format (default: detected)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, metavar="N",
                        help=f"events per append (default {DEFAULT_BATCH})")
    parser.add_argument("--progress", action="store_true",
                        help="show progress on stderr even when it is not a terminal")
    parser.add_argument("--json", action="store_true", help="the result as JSON")
    parser.add_argument("--plain", action="store_true", help="plain text")


class ProgressLine:
    """Bytes read, percent and MB/s on stderr: one rewritten line on a terminal,
    a line per tenth of the file otherwise."""

    def __init__(self, stream: TextIO, name: str, *, tty: bool) -> None:
        self.stream = stream
        self.name = os.path.basename(name)
        self.tty = tty
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.last_tenth = -1
        self.drawn = False
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw >= 0.1 or (total and done >= total):
                self.last_draw = now
                self.stream.write("\r" + self.text(now) + "\x1b[K")
                self.stream.flush()
                self.drawn = True
            return
        tenth = done * 10 // total if total else 0
        if tenth > self.last_tenth:
            self.last_tenth = tenth
            self.stream.write(self.text(now) + "\n")
            self.drawn = True

    def text(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-6)
        mb, total_mb = self.done / 1e6, self.total / 1e6
        percent = f" {self.done * 100 // self.total}%" if self.total else ""
        return (f"l0tui: importing {self.name}: {mb:.1f}/{total_mb:.1f} MB{percent}, "
                f"{mb / elapsed:.1f} MB/s")

    def finish(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _progress(args: argparse.Namespace, out: Output) -> ProgressLine | None:
    tty = _isatty(out.stderr)
    try:
        size = os.path.getsize(args.file)
    except OSError:
        size = 0
    if args.progress or (tty and size >= PROGRESS_MIN_BYTES and not args.json):
        return ProgressLine(out.stderr, args.file, tty=tty)
    return None


def _check_file(path: str) -> None:
    """A missing file or a directory is one line, before any store is opened."""
    if not os.path.isfile(path):
        if os.path.isdir(path):
            raise ValueError(f"{path}: is a directory, not a capture file")
        raise FileNotFoundError(2, "no such file or directory", path)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def run(args: argparse.Namespace, out: Output) -> int:
    if args.batch_size <= 0:
        raise ValueError(f"--batch-size must be > 0, got {args.batch_size}")
    _check_file(args.file)
    location = default_location() if args.store == "-" else args.store
    rows: list[dict[str, Any]] = []

    def on_stream(stream_id: str, item: ImportedStream, count: int) -> None:
        rows.append(_row(stream_id, item, count))

    progress = _progress(args, out)
    started = time.monotonic()
    try:
        async with open_store(location, read_only=False) as store:
            await import_into(store, args.file, format=args.format, stream_id=args.stream,
                              progress=progress, batch_size=args.batch_size,
                              on_stream=on_stream)
    finally:
        if progress is not None:
            progress.finish()
    elapsed = time.monotonic() - started
    events = sum(row["events"] for row in rows)
    if out.json_mode:
        out.json({"file": args.file, "store": describe_location(location),
                  "format": rows[0]["format"] if rows else args.format,
                  "streams": rows, "events": events, "seconds": round(elapsed, 3)})
        return 0
    for row in rows:
        out.line(row["streamId"])
    errors = sum(1 for row in rows if row["outcome"] in ("error", "truncated"))
    note = f", {errors} ended in ERROR" if errors else ""
    out.note(f"imported {len(rows)} stream(s), {events} event(s) from {args.file} into "
             f"{describe_location(location)}{note}")
    return 0


def _row(stream_id: str, item: ImportedStream, count: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "streamId": stream_id, "events": count, "format": item.source_format,
        "container": item.container, "line": item.line, "outcome": item.outcome,
        "timestamps": "missing" if item.timestamps_missing else "source",
    }
    for key, value in (("responseId", item.response_id), ("finishReason", item.finish_reason),
                       ("usage", item.usage), ("parentStreamId", item.parent_id),
                       ("toolIndex", item.tool_index)):
        if value is not None:
            row[key] = value
    if item.skipped:
        row["skipped"] = item.skipped
    return row
