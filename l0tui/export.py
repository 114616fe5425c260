"""Exports of a recorded stream, shared by the command line and the debugger.

- :func:`jsonl_lines` / :func:`write_jsonl`: a slice of events as JSONL in the spec's
  wire format (``{"streamId", "seq", "event"}``, camelCase), one envelope per line;
- :func:`markdown_report`: a human report of a stream (summary, attempts,
  violations, errors, final content) from a :class:`~l0core.timeline.Timeline`;
- :func:`save_svg`: an SVG screenshot of a running Textual app's current screen;
- :func:`write_text_file`: write either export to a file atomically.

In the debugger: ``export_to_file(timeline, "jsonl", start=a, stop=b)``,
``export_to_file(timeline, "markdown", source=...)`` and ``save_svg(app, path)``
each write one file and return its path.

Stream text is hostile: JSON escapes every control character (including DEL and
the C1 range that orjson leaves raw); the Markdown report shows control characters
as visible escapes, escapes Markdown and HTML in table cells, and fences the final
content with a fence longer than any backtick run inside it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import orjson

from l0core import BaseEventStore, ErrorEvent, EventEnvelope, GuardrailEvent, StreamNotFoundError
from l0core.codec import encode_envelope
from l0core.timeline import Timeline, attempt_lineage
from l0tui.attempt_report import LINEAGE_COLUMNS, TIMING_COLUMNS, lineage_cells, timing_cells
from l0tui.display.escape import Scheme, clean

if TYPE_CHECKING:
    from textual.app import App

_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


# ───────────────────────────── JSONL ─────────────────────────────


def envelope_line(env: EventEnvelope) -> str:
    """One JSONL line (without the newline): the envelope in the spec's wire format."""
    raw = orjson.dumps(encode_envelope(env)).decode("utf-8")
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)


def jsonl_lines(envelopes: Iterable[EventEnvelope]) -> Iterator[str]:
    """JSONL lines (each ending in a newline) for ``envelopes``."""
    for env in envelopes:
        yield envelope_line(env) + "\n"


async def write_jsonl(
    store: BaseEventStore,
    stream_id: str,
    out: IO[str],
    *,
    from_seq: int = 0,
    to_seq: int | None = None,
) -> int:
    """Write events ``from_seq..to_seq`` (inclusive) of ``stream_id`` to ``out``; the count.

    Raises :class:`~l0core.errors.StreamNotFoundError` when the stream has no events.
    """
    if await store.get_last_seq(stream_id) < 0:
        raise StreamNotFoundError(stream_id)
    count = 0
    async for batch in store.iter_batches(stream_id, from_seq=from_seq):
        for env in batch:
            if to_seq is not None and env.seq > to_seq:
                return count
            out.write(envelope_line(env) + "\n")
            count += 1
    return count


_CHUNK = 20_000  # envelopes rebuilt at a time by timeline_jsonl


def timeline_jsonl(timeline: Timeline, start: int = 0, stop: int | None = None) -> str:
    """Events ``start <= seq < stop`` of a loaded timeline as JSONL text (the debugger's export)."""
    end = len(timeline) if stop is None else min(stop, len(timeline))
    # in chunks: the timeline rebuilds TOKEN envelopes on demand, so a whole
    # stream's worth at once would briefly cost what it saves
    return "".join(
        "".join(jsonl_lines(timeline.events(lo, min(end, lo + _CHUNK))))
        for lo in range(max(0, start), end, _CHUNK)
    )


# ───────────────────────────── Markdown ─────────────────────────────


def _visible(text: str) -> str:
    """Controls as backslash escapes: a document's scheme (see l0tui.display.escape)."""
    return clean(text, limit=None, multiline=True, scheme=Scheme.ESCAPES)


def md_inline(text: object, limit: int = 200) -> str:
    """Text safe inside a Markdown table cell or paragraph: one line, escaped, short."""
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + "…"
    value = _visible(value.replace("\r\n", "\n")).replace("\n", " ⏎ ").replace("\t", " ")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", value)


def md_fence(text: str, info: str = "text") -> str:
    """``text`` in a fenced code block whose fence no backtick run inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = _visible(text)
    if not body.endswith("\n"):
        body += "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def _utc(ts: float) -> str:
    if not ts:
        return "-"
    try:
        return datetime.fromtimestamp(ts / 1000.0, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return str(ts)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if abs(value) < 1000 else f"{value / 1000:.2f} s"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def markdown_report(timeline: Timeline, *, source: str = "") -> str:
    """A Markdown report of the whole stream in ``timeline``.

    Sections: summary, attempts (with their lineage: trigger, backoff, ending, text
    carried over; and their timing), guardrail violations, errors, final content.
    ``source`` names the store (shown under the title; mask passwords before).
    """
    if len(timeline) == 0:
        raise StreamNotFoundError(timeline.stream_id, "it has no events")
    final = timeline.state_at(timeline.last_seq)
    timing = timeline.timing()
    first = timeline.envelope(0).event
    model = getattr(getattr(first, "options", None), "model", None) or "-"
    status = "error" if final.error is not None else ("completed" if final.completed
                                                      else "running")
    lines: list[str] = [f"# Stream {md_inline(timeline.stream_id)}", ""]
    if source:
        lines += [f"Store: {md_inline(source)}", ""]
    lines += ["## Summary", ""]
    lines += _table(["field", "value"], [
        ["status", status],
        ["model", md_inline(model)],
        ["started", _utc(final.start_ts or timeline.envelope(0).event.ts)],
        ["duration", _ms(timing.duration_ms)],
        ["time to first token", _ms(timing.time_to_first_token_ms)],
        ["events", str(len(timeline))],
        ["tokens", str(final.token_count)],
        ["retries", f"{final.retry_attempts} (+{final.network_retry_count} network)"],
        ["guardrail violations", str(len(final.violations))],
        ["drift detected", "yes" if final.drift_detected else "no"],
        ["fallback index", str(final.fallback_index)],
        ["longest gap between tokens", _ms(timing.max_gap_ms)],
    ])
    lines += ["", "## Attempts", ""]
    lines += _table(
        ["#", "seqs", "started by", "tokens", "outcome", "reason", "output"],
        [[str(a.number), f"{a.start_seq}–{a.end_seq}", a.started_by, str(a.token_count),
          a.outcome, md_inline(a.reason or "-"), md_inline(a.resumed_from + a.content, 80)]
         for a in timeline.attempts()],
    )
    lines += ["", "### Attempt lineage", ""]
    lines += _table(list(LINEAGE_COLUMNS),
                    [[md_inline(cell) for cell in lineage_cells(a)]
                     for a in attempt_lineage(timeline)])
    lines += ["", "### Timing per attempt", ""]
    lines += _table(list(TIMING_COLUMNS),
                    [[md_inline(cell) for cell in timing_cells(t)]
                     for t in timeline.attempt_timings()])
    violations: list[list[str]] = []
    errors: list[list[str]] = []
    for seq in timeline.landmarks():
        event = timeline.envelope(seq).event
        if isinstance(event, GuardrailEvent):
            for v in event.result.violations:
                violations.append([str(seq), md_inline(v.get("rule", "?")),
                                   md_inline(v.get("severity", "-")),
                                   md_inline(v.get("message", "")),
                                   "yes" if event.result.should_retry else "no"])
        elif isinstance(event, ErrorEvent):
            err = event.error
            errors.append([str(seq), md_inline(err.name), md_inline(err.message),
                           md_inline(event.failure_type), md_inline(event.recovery_strategy)])
    lines += ["", "## Guardrail violations", ""]
    lines += (_table(["seq", "rule", "severity", "message", "retry"], violations)
              if violations else ["None."])
    lines += ["", "## Errors", ""]
    lines += (_table(["seq", "error", "message", "failure type", "recovery"], errors)
              if errors else ["None."])
    lines += ["", "## Final content", ""]
    lines.append(md_fence(final.content) if final.content else "(empty)\n")
    return "\n".join(lines).rstrip("\n") + "\n"


# ───────────────────────────── files ─────────────────────────────


def write_text_file(path: str | os.PathLike[str], text: str) -> str:
    """Write ``text`` to ``path`` whole (a temp file renamed over it); the path written."""
    target = os.fspath(path)
    tmp = f"{target}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def export_to_file(
    timeline: Timeline,
    kind: str,
    directory: str | os.PathLike[str] = ".",
    *,
    start: int = 0,
    stop: int | None = None,
    source: str = "",
) -> str:
    """Write a debugger export into ``directory``; the path written.

    ``kind`` ``"jsonl"``: events ``start <= seq < stop`` as
    ``<stream>.jsonl`` (``<stream>-<first>-<last>.jsonl`` for a slice);
    ``"markdown"``: the report as ``<stream>.md``.
    """
    name = timeline.stream_id
    if kind == "jsonl":
        end = len(timeline) if stop is None else min(stop, len(timeline))
        begin = max(0, start)
        whole = begin == 0 and end == len(timeline)
        filename = f"{name}.jsonl" if whole else f"{name}-{begin}-{end - 1}.jsonl"
        text = timeline_jsonl(timeline, begin, end)
    elif kind == "markdown":
        filename = f"{name}.md"
        text = markdown_report(timeline, source=source)
    else:
        raise ValueError(f"unknown export kind {kind!r} (jsonl or markdown)")
    return write_text_file(os.path.join(os.fspath(directory), filename), text)


# ───────────────────────────── screenshots ─────────────────────────────


def save_svg(app: App[Any], path: str | os.PathLike[str]) -> str:
    """Save an SVG screenshot of ``app``'s current screen to ``path``; the path written."""
    target = os.fspath(path)
    directory, filename = os.path.split(os.path.abspath(target))
    return app.save_screenshot(filename=filename, path=directory)
