"""``l0tui diff STORE A B``: compare two streams (the TUI on a terminal; exit 1 when they differ).

Two comparisons are reported: the events aligned (``--align``), and the final
texts word by word (:func:`l0core.diff.diff_words`), where two runs that cut the
same words into different tokens show no difference and the first different word
is named with the seq that wrote it on each side.

Where the streams live, in order of precedence:

- ``STORE_A:ID_A STORE_B:ID_B``: a spec is split on its LAST ``:`` when what follows
  is a valid stream id (``[A-Za-z0-9_-]``, at most 200 characters) and what precedes
  is an existing path or a URL (``scheme://...``); otherwise the whole spec is an id;
- ``--left-store`` / ``--right-store``: the store of an id without one;
- ``STORE A B``: both ids in ``STORE``;
- otherwise ``$L0_STORE`` or ``./l0-events``.
"""

from __future__ import annotations

import argparse
import os
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from l0core import InvalidStreamIdError, StoreConfigError, validate_stream_id
from l0tui.commands.common import (
    default_location,
    describe_location,
    is_url,
    load_timeline,
    open_store,
    payload_changes,
)
from l0tui.display.colours import terminal_style
from l0tui.display.escape import shorten, terminal_text
from l0tui.display.formatting import format_delta_value as format_value
from l0tui.display.vocabulary import DIFFERENT, DIFFERS, IDENTICAL, SAME, Look, Role
from l0tui.output import Output

if TYPE_CHECKING:
    from l0core.diff import StreamDiff, WordDiff
    from l0core.timeline import Timeline

HELP = "compare two streams (TUI on a terminal; exit 1 when they differ)"
EPILOG = """examples:
  l0tui diff demo_streams 07a-compare-good 07b-compare-bad     side by side (TUI)
  l0tui diff demo_streams 07a-compare-good 07b-compare-bad --json
  l0tui diff ./runs:l0_abc sqlite:///prod.db:l0_def        two stores
  l0tui diff --left-store ./runs --right-store sqlite:///prod.db l0_abc l0_def
  l0tui diff runs.db:baseline runs.db:candidate --plain || echo "runs differ"

Exit status (headless): 0 identical, 1 different, 2 error. The TUI opens when
stdout is a terminal and neither --json nor --plain is given (--no-tui prevents it).
STORE:ID is split at the LAST ':' only when the part after it is a valid stream id
and the part before it is an existing path or a URL (scheme://...).
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC",
                        help="STORE A B, or A B (each ID or STORE:ID)")
    parser.add_argument("--left-store", metavar="STORE", default=None,
                        help="store of the left stream")
    parser.add_argument("--right-store", metavar="STORE", default=None,
                        help="store of the right stream")
    parser.add_argument("--align", choices=("content", "landmarks", "seq"), default="content",
                        help="how events are paired (default: content)")
    parser.add_argument("--limit", type=int, default=50, metavar="N",
                        help="differences listed in text output (default 50; JSON lists all)")
    parser.add_argument("--words", type=int, default=20, metavar="N",
                        help="changed words listed in text output (default 20; JSON lists all)")
    parser.add_argument("--no-tui", action="store_true", help="never open the TUI")
    parser.add_argument("--json", action="store_true", help="the comparison as JSON")
    parser.add_argument("--plain", action="store_true", help="plain text, no colours, no TUI")


def split_spec(spec: str) -> tuple[str | None, str]:
    """``STORE:ID`` -> (STORE, ID) by the documented rule; a bare id -> (None, ID)."""
    if ":" in spec:
        location, _, stream_id = spec.rpartition(":")
        try:
            validate_stream_id(stream_id)
            valid = True
        except InvalidStreamIdError:
            valid = False
        if valid and location and (is_url(location) or os.path.exists(location)):
            return location, stream_id
    try:
        return None, validate_stream_id(spec)
    except InvalidStreamIdError as exc:
        if ":" in spec:
            raise StoreConfigError(
                f"{spec!r}: not a stream id, and the part before the last ':' is not an "
                "existing path or a URL") from exc
        raise


def resolve(args: argparse.Namespace) -> tuple[str, str, str, str]:
    """(left store, left id, right store, right id) from the command line."""
    specs = list(args.specs)
    if len(specs) == 3:
        common: str | None = specs.pop(0)
    elif len(specs) == 2:
        common = None
    else:
        raise ValueError(f"diff takes STORE A B or A B, got {len(specs)} argument(s)")
    sides = []
    for spec, flag in ((specs[0], args.left_store), (specs[1], args.right_store)):
        location, stream_id = split_spec(spec)
        sides.append((location or flag or common or default_location(), stream_id))
    return sides[0][0], sides[0][1], sides[1][0], sides[1][1]


def tui(args: argparse.Namespace, out: Output) -> int | None:
    """Open the diff screen when stdout is a terminal; None when headless output is wanted."""
    if not out.rich or args.no_tui:
        return None
    left_store, left_id, right_store, right_id = resolve(args)
    for location in (left_store, right_store):
        if not is_url(location) and not os.path.exists(location):
            raise StoreConfigError(f"{location}: no such file or directory")
    try:
        from l0tui.app import run_tui
    except ImportError:  # the browser/debugger app is not installed: host the screen alone
        from l0tui.screens.diff import run_diff_app

        return run_diff_app(left_store, left_id, right_store, right_id, align=args.align)
    return run_tui(left_store, None, (left_store, left_id, right_store, right_id))


def _plain_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _details(d: Any, a: Timeline, b: Timeline) -> str:
    """How two paired events differ, for ``event`` differences (``: path: x → y``)."""
    if d.kind != "event" or d.a_seq is None or d.b_seq is None:
        return ""
    changes = payload_changes(a.envelope(d.a_seq).event, b.envelope(d.b_seq).event)
    return (": " + "; ".join(changes)) if changes else ""


def words_json(words: WordDiff) -> dict[str, Any]:
    first = words.first
    return {
        "identical": words.identical,
        "firstDivergence": None if first is None else {
            "aWord": first.a_word, "bWord": first.b_word, "aOffset": first.a_offset,
            "bOffset": first.b_offset, "aSeq": first.a_seq, "bSeq": first.b_seq},
        "changes": [{"tag": c.tag, "aOffset": c.a_lo, "bOffset": c.b_lo, "a": c.a_text,
                     "b": c.b_text} for c in words.changes],
    }


def to_json(diff: StreamDiff, left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    first = next((d for d in diff.differences if d.a_seq is not None or d.b_seq is not None),
                 None)
    return {
        "identical": diff.identical,
        "align": diff.align,
        "left": left,
        "right": right,
        "firstDivergence": None if first is None else {"aSeq": first.a_seq, "bSeq": first.b_seq,
                                                       "kind": first.kind},
        "summary": [{"name": d.name, "a": _plain_value(d.a), "b": _plain_value(d.b),
                     "differs": bool(d.differs)} for d in diff.summary],
        "differences": [{"kind": d.kind, "aSeq": d.a_seq, "bSeq": d.b_seq,
                         "description": d.description} for d in diff.differences],
    }


async def run(args: argparse.Namespace, out: Output) -> int:
    if args.limit < 0:
        raise ValueError(f"--limit must be >= 0, got {args.limit}")
    from l0core.diff import diff_timelines, diff_words

    left_store, left_id, right_store, right_id = resolve(args)
    async with AsyncExitStack() as stack:
        store_a = await stack.enter_async_context(open_store(left_store))
        store_b = (store_a if right_store == left_store
                   else await stack.enter_async_context(open_store(right_store)))
        timeline_a = await load_timeline(store_a, left_id)
        timeline_b = await load_timeline(store_b, right_id)
    diff = diff_timelines(timeline_a, timeline_b, align=args.align)
    words = diff_words(timeline_a, timeline_b)
    left: dict[str, Any] = {"store": describe_location(left_store), "streamId": left_id,
                            "events": len(timeline_a)}
    right: dict[str, Any] = {"store": describe_location(right_store), "streamId": right_id,
                             "events": len(timeline_b)}
    status = 0 if diff.identical else 1
    if out.json_mode:
        out.json({**to_json(diff, left, right), "words": words_json(words)})
        return status
    if args.words < 0:
        raise ValueError(f"--words must be >= 0, got {args.words}")
    changed_words = words.changes[: args.words]
    shown = diff.differences[: args.limit]
    details = {id(d): _details(d, timeline_a, timeline_b) for d in shown}
    hidden = len(diff.differences) - len(shown)
    if out.rich:
        table = Table(title=Text(f"{left_id} ↔ {right_id}"), header_style="bold")
        for col in ("", left_id, right_id):
            table.add_column(col)
        for d in diff.summary:
            style = terminal_style(DIFFERS if d.differs else SAME)
            table.add_row(Text(str(d.name), style=style), terminal_text(format_value(d.name, d.a)),
                          terminal_text(format_value(d.name, d.b), style if d.differs else ""))
        out.show(table)
        muted, kind = terminal_style(SAME), terminal_style(Look(Role.WARNING))
        for dif in shown:
            a_seq = "-" if dif.a_seq is None else dif.a_seq
            b_seq = "-" if dif.b_seq is None else dif.b_seq
            where = f"a#{a_seq} b#{b_seq}"
            out.show(Text.assemble((f"{where:<16} ", muted), (f"{dif.kind:<12} ", kind),
                                   shorten(dif.description + details[id(dif)], 160)))
        if hidden:
            out.show(Text(f"… {hidden} more difference(s) (--limit, or --json for all)",
                          style=muted))
        out.show(_words_text(words, changed_words, muted))
        out.show(Text("identical" if diff.identical
                      else f"differ: {len(diff.differences)} difference(s)",
                      style=terminal_style(IDENTICAL if diff.identical else DIFFERENT)))
        return status
    out.row(("left", str(left["store"]), left_id, str(len(timeline_a))))
    out.row(("right", str(right["store"]), right_id, str(len(timeline_b))))
    for d in diff.summary:
        out.row(("delta", str(d.name), format_value(d.name, d.a), format_value(d.name, d.b),
                 "differs" if d.differs else "same"))
    for dif in shown:
        out.row(("difference", dif.kind, "-" if dif.a_seq is None else str(dif.a_seq),
                 "-" if dif.b_seq is None else str(dif.b_seq),
                 shorten(dif.description + details[id(dif)], 300)))
    if hidden:
        out.row(("more", str(hidden)))
    if words.first is not None:
        f = words.first
        out.row(("first-word", f.a_word, "-" if f.a_seq is None else str(f.a_seq),
                 f.b_word, "-" if f.b_seq is None else str(f.b_seq)))
    for c in changed_words:
        out.row(("word", c.tag, str(c.a_lo), str(c.b_lo), shorten(c.a_text, 140),
                 shorten(c.b_text, 140)))
    out.row(("words", "identical" if words.identical else "differ", str(len(words.changes))))
    out.row(("result", "identical" if diff.identical else "differ",
             str(len(diff.differences))))
    return status


def _words_text(words: WordDiff, shown: list[Any], muted: str) -> Text:
    """The word comparison on a terminal: the first different word, then each change
    as ``-removed+`` ``+added+`` with the words around it."""
    if words.identical:
        return Text("final text: the same words", style=terminal_style(IDENTICAL))
    out = Text()
    first = words.first
    if first is not None:
        out.append(shorten(first.describe(), 200) + "\n", style="bold")
    old, new = terminal_style(Look(Role.ERROR)), terminal_style(Look(Role.SUCCESS))
    for c in shown:
        before = words.a_text[max(0, c.a_lo - 30) : c.a_lo]
        after = words.a_text[c.a_hi : c.a_hi + 30]
        out.append(f"@{c.a_lo}/{c.b_lo}  ", style=muted)
        out.append(shorten(before, 30), style=muted)
        if c.a_text:
            out.append(shorten(c.a_text, 80), style=f"{old} strike")
        if c.b_text:
            out.append(shorten(c.b_text, 80), style=f"{new} underline")
        out.append(shorten(after, 30) + "\n", style=muted)
    more = len(words.changes) - len(shown)
    if more:
        out.append(f"… {more} more changed word run(s) (--words, or --json for all)\n",
                   style=muted)
    return out
