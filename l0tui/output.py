"""Command-line output: Rich on a terminal, plain text or JSON when piped, never raw stream text.

Everything a stream contains is hostile: Rich markup, ANSI/OSC escape sequences and
control characters are made visible (``\\x1b``) by :func:`sanitize` before they are
printed, and Rich output is built from :class:`rich.text.Text` objects, never from
markup strings that contain data.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from l0core import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    ErrorEvent,
    FallbackEvent,
    GuardrailEvent,
    RecordedEvent,
    RetryEvent,
    StartEvent,
    TokenEvent,
)

# C0 controls except tab and newline, DEL, and the C1 controls (U+009B is a one-byte CSI).
_CONTROL_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Bidirectional marks, overrides and isolates: shown as ``<U+202E>`` so RTL text
cannot reorder what surrounds it (RTL letters themselves are kept)."""
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def sanitize(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\r``).

    With ``keep_newlines`` newlines and tabs stay as they are (multi-line content);
    otherwise they become ``\\n`` and ``\\t`` so the result is one line.
    """
    pattern = _CONTROL_KEEP_LINES if keep_newlines else _CONTROL_ALL
    text = pattern.sub(_visible, text)
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def shorten(text: str, limit: int = 80) -> str:
    """One sanitized line of at most ``limit`` characters (an ellipsis marks the cut)."""
    if len(text) > limit * 4:  # do not sanitize a 1 MB token to show 80 characters of it
        text = text[: limit * 4]
    line = sanitize(text)
    return line if len(line) <= limit else line[: max(0, limit - 1)] + "…"


def safe_text(text: str, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A Rich ``Text`` of sanitized ``text``: markup in it is shown, never interpreted."""
    return Text(sanitize(text, keep_newlines=keep_newlines), style=style)


def to_json(obj: Any, *, indent: bool = True) -> str:
    """JSON text with every control character escaped (orjson leaves DEL and C1 raw)."""
    option = orjson.OPT_INDENT_2 if indent else 0
    raw = orjson.dumps(obj, option=option | orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)


# ───────────────────────────── formatting ─────────────────────────────


def format_ts(ts: float) -> str:
    """Unix ms as a UTC time, ``2026-01-02 03:04:05.678``; empty for 0."""
    if not ts:
        return ""
    try:
        moment = datetime.fromtimestamp(ts / 1000.0, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return str(ts)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def format_ms(ms: float | None) -> str:
    """A duration in ms for humans: ``850 ms``, ``1.25 s``, ``3 min 5.0 s``; ``-`` for None."""
    if ms is None:
        return "-"
    if abs(ms) < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000.0
    if abs(seconds) < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f} min {rest:.1f} s"


def event_summary(event: RecordedEvent, limit: int = 80) -> str:
    """One sanitized line that says what ``event`` carries."""
    if isinstance(event, TokenEvent):
        return f"#{event.index} {shorten(repr(event.value), limit)}"
    if isinstance(event, StartEvent):
        opts = event.options
        parts = []
        if opts.model:
            parts.append(f"model={opts.model}")
        if opts.prompt:
            parts.append(f"prompt={opts.prompt!r}")
        return shorten(" ".join(parts), limit)
    if isinstance(event, CheckpointEvent):
        return shorten(f"at {event.at}: {event.content!r}", limit)
    if isinstance(event, GuardrailEvent):
        rules = ", ".join(str(v.get("rule", "?")) for v in event.result.violations)
        flags = "".join([" retry" if event.result.should_retry else "",
                         " halt" if event.result.should_halt else ""])
        count = len(event.result.violations)
        return shorten(f"at {event.at}: {count} violation(s) {rules}{flags}", limit)
    if isinstance(event, DriftEvent):
        kinds = ",".join(event.result.types)
        state = "detected" if event.result.detected else "none"
        return shorten(f"at {event.at}: {state} {kinds} ({event.result.confidence:.2f})", limit)
    if isinstance(event, RetryEvent):
        counted = "" if event.counts_toward_limit else " (network, not counted)"
        return shorten(f"attempt {event.attempt}: {event.reason}{counted}", limit)
    if isinstance(event, FallbackEvent):
        return f"to model #{event.to}"
    if isinstance(event, ContinuationEvent):
        return shorten(f"at {event.at} from {event.checkpoint!r}", limit)
    if isinstance(event, CompleteEvent):
        return shorten(f"{event.token_count} tokens: {event.content!r}", limit)
    if isinstance(event, ErrorEvent):
        err = event.error
        return shorten(f"{err.name}: {err.message} [{event.failure_type}, "
                       f"{event.recovery_strategy}]", limit)
    return ""


_MS_WORDS = ("duration", "time_to_first_token", "ttft", "_ms")
DELTA_LABELS = {
    "tokens": "tokens",
    "token_count": "tokens",
    "duration_ms": "duration",
    "duration": "duration",
    "time_to_first_token_ms": "ttft",
    "time_to_first_token": "ttft",
    "retries": "retries",
    "retry_attempts": "retries",
    "violations": "violations",
    "fallback": "fallback",
    "fallback_index": "fallback",
    "status": "status",
    "final_status": "status",
}


def format_delta_value(name: str, value: Any) -> str:
    """A delta value for humans: milliseconds as ``350 ms``/``2.00 s``, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and any(w in name for w in _MS_WORDS):
        ms = float(value)
        return f"{ms:.0f} ms" if abs(ms) < 1000 else f"{ms / 1000:.2f} s"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return shorten(str(value), 40)


KIND_STYLES: dict[str, str] = {
    "START": "bold cyan",
    "TOKEN": "",
    "CHECKPOINT": "blue",
    "GUARDRAIL": "bold yellow",
    "DRIFT": "magenta",
    "RETRY": "bold yellow",
    "FALLBACK": "bold magenta",
    "CONTINUATION": "cyan",
    "COMPLETE": "bold green",
    "ERROR": "bold red",
}


# ───────────────────────────── the writer ─────────────────────────────


class Output:
    """Where a command writes: Rich when stdout is a terminal, plain or JSON otherwise."""

    def __init__(
        self,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        *,
        json_mode: bool = False,
        plain: bool = False,
        isatty: bool | None = None,
    ) -> None:
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        tty = self.stdout.isatty() if isatty is None else isatty
        self.tty = tty
        self.json_mode = json_mode
        self.rich = tty and not plain and not json_mode
        self.console = Console(
            file=self.stdout,
            force_terminal=self.rich,
            no_color=not self.rich,
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=False,
        )
        self.err_console = Console(file=self.stderr, highlight=False, emoji=False, markup=False)

    # plain lines (sanitized)
    def line(self, text: str = "", *, keep_newlines: bool = False) -> None:
        self.stdout.write(sanitize(text, keep_newlines=keep_newlines) + "\n")

    def row(self, cells: Iterable[str | Text]) -> None:
        """One tab-separated line; each cell sanitized to a single line."""
        self.stdout.write("\t".join(sanitize(c.plain if isinstance(c, Text) else c)
                                    for c in cells) + "\n")

    def show(self, renderable: RenderableType) -> None:
        """Print a Rich renderable (only call when :attr:`rich`)."""
        self.console.print(renderable)

    def json(self, obj: Any) -> None:
        self.stdout.write(to_json(obj) + "\n")

    def jsonl(self, obj: Any) -> None:
        self.stdout.write(to_json(obj, indent=False) + "\n")

    def note(self, message: str) -> None:
        """A one-line remark on stderr (progress, counts) that never pollutes stdout."""
        self.stderr.write(f"l0tui: {sanitize(message)}\n")

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[str | Text]],
        *,
        title: str = "",
        justify_right: Sequence[str] = (),
        wrap: Sequence[str] = (),
    ) -> None:
        """Rich table on a terminal, tab-separated lines with a header otherwise.

        Columns named in ``wrap`` take the spare width; numbers never wrap."""
        if self.rich:
            table = Table(title=safe_text(title) if title else None, header_style="bold",
                          expand=False)
            for col in columns:
                table.add_column(col, justify="right" if col in justify_right else "left",
                                 overflow="fold", no_wrap=col in justify_right,
                                 ratio=1 if col in wrap else None)
            for row in rows:
                table.add_row(*(c if isinstance(c, Text) else safe_text(c) for c in row))
            self.console.print(table)
            return
        self.row(columns)
        for row in rows:
            self.row(row)

    def fields(self, pairs: Iterable[tuple[str, str | Text]], *, title: str = "") -> None:
        """``name: value`` lines (a two-column grid on a terminal)."""
        if self.rich:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold")
            grid.add_column(overflow="fold")
            for name, value in pairs:
                grid.add_row(Text(name), value if isinstance(value, Text) else safe_text(value))
            if title:
                self.console.print(safe_text(title, "bold underline"))
            self.console.print(grid)
            return
        if title:
            self.line(title)
        for name, value in pairs:
            self.line(f"{name}: {value.plain if isinstance(value, Text) else value}")
