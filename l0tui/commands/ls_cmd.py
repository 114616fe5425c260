"""``l0tui ls STORE``: the streams of a store with their summaries, filtered by the store.

The filter, the order and the limit go to the store's catalog (``docs/format.md``,
"The catalog"), so listing the 50 latest errors of a million streams reads 50
summaries, not a million streams.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from l0core.catalog import SORT_FIELDS, StreamSummary, SummaryQuery
from l0core.catalog.syntax import FilterSyntaxError, parse_filter, parse_time
from l0core.codec import encode_metadata
from l0core.errors import StoreConfigError
from l0core.events import now_ms
from l0core.metadata import metadata_from_summary
from l0core.stores.base import BaseEventStore
from l0tui.commands.common import default_location, describe_location, open_store
from l0tui.display.colours import terminal_style
from l0tui.display.formatting import format_duration, format_ts
from l0tui.display.vocabulary import STREAM_STATUS_LOOKS
from l0tui.output import Output

if TYPE_CHECKING:
    from rich.text import Text

HELP = "list the streams of a store, filtered and sorted by the store"
EPILOG = """examples:
  l0tui ls demo_streams
  l0tui ls sqlite:///runs.db --status error --since 2h --limit 50
  l0tui ls runs/ --where 'model:gpt-4o retries>0' --grep refund
  l0tui ls postgresql://postgres@localhost/l0 --jsonl --limit 0 | jq -r .streamId

--where takes the browser's filter syntax:
  status:error model:gpt-4o since:2h until:2026-03-02 failure:network id:run-
  has:retries no:drift retries>0 tokens>=100 "words in the content"

The table shows --limit rows (default 1000); --json and --jsonl list every match
unless --limit is given, --jsonl one object per line as the store pages them.

A stream that cannot be read is listed as "unreadable" (or "other stream" when its
file's events name another stream id) with the reason in the note column, and ls
exits 1; a stream whose stored seqs are damaged (duplicates or gaps, possible in the
spec example layouts) reads, with the damage in the note column.
"""

TABLE_LIMIT = 1000
PAGE = 1000
"""Summaries asked of the store per page when streaming many."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="?", default=None,
                        help="directory or URL (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--status", action="append", metavar="STATUS",
                        choices=("running", "completed", "error"),
                        help="running, completed or error (repeat for several)")
    parser.add_argument("--model", metavar="NAME", help="exact model name")
    parser.add_argument("--since", metavar="WHEN",
                        help="started at or after: 30m, 2h, 7d (ago) or a date (UTC)")
    parser.add_argument("--until", metavar="WHEN", help="started before (same forms)")
    parser.add_argument("--where", metavar="FILTER", default="",
                        help="a filter in the browser's syntax (see below)")
    parser.add_argument("--grep", metavar="TEXT",
                        help="words that must all occur in the final content")
    parser.add_argument("--sort", metavar="FIELD[:asc|desc]", default="start_ts:desc",
                        help=f"order: {', '.join(SORT_FIELDS)} (default start_ts:desc)")
    parser.add_argument("--limit", type=int, metavar="N", default=None,
                        help=f"at most N streams (0: all; table default {TABLE_LIMIT})")
    parser.add_argument("--json", action="store_true", help="a JSON array of stream summaries")
    parser.add_argument("--jsonl", action="store_true",
                        help="one JSON summary per line, streamed")
    parser.add_argument("--plain", action="store_true", help="tab-separated text, no colours")


def build_query(args: argparse.Namespace, *, now: float | None = None) -> SummaryQuery:
    """The command line as a :class:`SummaryQuery` (``limit`` is the page size)."""
    at = now_ms() if now is None else now
    try:
        flt = parse_filter(args.where or "", now=lambda: at)
        values: dict[str, Any] = {}
        if args.status:
            values["status"] = frozenset(args.status)
        if args.model:
            values["model"] = args.model
        if args.since:
            values["since"] = parse_time(args.since, at)
        if args.until:
            values["until"] = parse_time(args.until, at)
        if args.grep:
            values["text"] = args.grep
    except FilterSyntaxError as exc:
        raise StoreConfigError(str(exc)) from None
    flt = replace(flt, **values)
    field, _, direction = args.sort.partition(":")
    if field not in SORT_FIELDS:
        raise StoreConfigError(f"--sort {field!r}: use one of {', '.join(SORT_FIELDS)}")
    if direction not in ("", "asc", "desc"):
        raise StoreConfigError(f"--sort {args.sort!r}: the direction is asc or desc")
    descending = direction != "asc" if direction else field != "stream_id"
    return SummaryQuery(filter=flt, order=field, descending=descending,
                        limit=PAGE)


async def iter_matches(
    store: BaseEventStore, query: SummaryQuery, limit: int | None
) -> AsyncIterator[StreamSummary]:
    """Every match in order, page by page, up to ``limit`` (None: all)."""
    left = limit
    after = None
    while left is None or left > 0:
        size = PAGE if left is None else min(PAGE, left)
        page = await store.query_summaries(replace(query, limit=size, after=after))
        for summary in page.items:
            yield summary
        if left is not None:
            left -= len(page.items)
        if page.next_after is None or not page.items:
            return
        after = page.next_after


async def run(args: argparse.Namespace, out: Output) -> int:
    location = args.store or default_location()
    if args.limit is not None and args.limit < 0:
        raise StoreConfigError("--limit must be 0 (all) or more")
    query = build_query(args)
    streaming = args.json or args.jsonl
    limit = args.limit if args.limit else (None if streaming or args.limit == 0
                                           else TABLE_LIMIT)
    async with open_store(location) as store:
        if out.stderr.isatty():  # a scan, or the unindexed rest of a partial index
            await store.prepare_catalog(_progress(out))
        if args.jsonl:
            unreadable = 0
            async for summary in iter_matches(store, query, limit):
                unreadable += summary.read_status in ("unreadable", "other_stream")
                out.jsonl(summary_json(summary))
            return 1 if unreadable else 0
        listed = [s async for s in iter_matches(store, query, limit)]
        # The total is for the title, which only a terminal shows: counting the matches
        # can cost more than listing 50 of them (a million rows without a vacuum).
        total = await store.count_summaries(query.filter) if out.rich else None
    unreadable_rows = [s for s in listed if s.read_status in ("unreadable", "other_stream")]
    if args.json:
        out.json([summary_json(s) for s in listed])
        return 1 if unreadable_rows else 0
    notes = any(s.read_note for s in listed)
    columns = ("id", "model", "started (UTC)", "duration", "events", "tokens", "retries",
               "viol", "fb", "status") + (("note",) if notes else ())
    rows = [_row(s, notes, out.rich) for s in listed]
    shown = len(listed)
    title = f"{total} stream(s) in {describe_location(location)}"
    if not query.filter.is_empty():
        title = f"{total} matching stream(s) in {describe_location(location)}"
    if total is not None and shown < total:
        title += f", showing {shown} (--limit 0 for all)"
    if unreadable_rows:
        title += f", {len(unreadable_rows)} unreadable"
    out.table(columns, rows, title=title,
              justify_right=("duration", "events", "tokens", "retries", "viol", "fb"),
              wrap=("id", "model", "note"))
    return 1 if unreadable_rows else 0


def _progress(out: Output) -> Callable[[int, int], None]:
    """Progress of a scan, on stderr, for stores that keep no summaries."""
    def report(done: int, total: int) -> None:
        if done == total or done % 200 == 0:
            end = "\n" if done == total else "\r"
            out.stderr.write(f"reading stream {done:,} of {total:,} (this store keeps no "
                          f"summaries){end}")
            out.stderr.flush()
    return report


def _status_cell(status: str, styled: bool) -> str | Text:
    """The status, coloured on a terminal (plain output never loads Rich)."""
    if not styled:
        return status
    from rich.text import Text

    return Text(status, style=terminal_style(STREAM_STATUS_LOOKS.get(status)))


def _row(s: StreamSummary, notes: bool, styled: bool) -> tuple[str | Text, ...]:
    note: tuple[str, ...] = (s.read_note,) if notes else ()
    if s.read_status in ("unreadable", "other_stream"):
        status = "other stream" if s.read_status == "other_stream" else "unreadable"
        return (s.stream_id, "", "", "", "", "", "", "", "", _status_cell(status, styled),
                *note)
    return (s.stream_id, s.model, format_ts(s.start_ts)[:19], format_duration(s.duration_ms),
            str(s.event_count), str(s.token_count), str(s.retries), str(s.violation_count),
            str(s.fallback_index), _status_cell(s.status, styled), *note)


def summary_json(s: StreamSummary) -> dict[str, Any]:
    """The JSON ``ls`` prints: the metadata's shape plus the catalog's extra fields."""
    if s.read_status in ("unreadable", "other_stream"):
        return {"streamId": s.stream_id, "status": "unreadable",
                "readStatus": s.read_status, "reason": s.read_note}
    data = encode_metadata(metadata_from_summary(s))
    data["promptHead"] = s.prompt_head
    if s.failure_type:
        data["failureType"] = s.failure_type
    if s.error_head:
        data["errorHead"] = s.error_head
    if s.read_note:
        data["readStatus"] = s.read_status
        data["reason"] = s.read_note
    return data

