"""Command-line output: Rich on a terminal, plain text or JSON when piped, never raw stream text.

Everything a stream contains is hostile: every string is made visible by
:mod:`l0tui.display.escape` before it is printed, and Rich output is built from
:class:`rich.text.Text` objects, never from markup strings that contain data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

from l0tui.display.escape import sanitize, shorten, terminal_text, to_json

if TYPE_CHECKING:  # Rich loads with the first console or table: not for plain or JSON output
    from rich.console import Console, RenderableType
    from rich.text import Text

    from l0core.events import RecordedEvent


def event_summary(event: RecordedEvent, limit: int = 80) -> str:
    """One escaped line of at most ``limit`` characters that says what ``event`` carries."""
    from l0tui.display.vocabulary import describe_event

    return shorten(describe_event(event), limit)


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

    # The consoles are made on first use: ``rich.console`` costs a command that only
    # writes JSON lines (``ls --jsonl``) a tenth of its run.

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(file=self.stdout, force_terminal=self.rich, no_color=not self.rich,
                       highlight=False, emoji=False, markup=False, soft_wrap=False)

    @cached_property
    def err_console(self) -> Console:
        from rich.console import Console

        return Console(file=self.stderr, highlight=False, emoji=False, markup=False)

    # plain lines (sanitized)
    def line(self, text: str = "", *, keep_newlines: bool = False) -> None:
        self.stdout.write(sanitize(text, keep_newlines=keep_newlines) + "\n")

    def row(self, cells: Iterable[str | Text]) -> None:
        """One tab-separated line; each cell sanitized to a single line."""
        self.stdout.write("\t".join(sanitize(c if isinstance(c, str) else c.plain)
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
            from rich.table import Table

            table = Table(title=terminal_text(title) if title else None, header_style="bold",
                          expand=False)
            for col in columns:
                table.add_column(col, justify="right" if col in justify_right else "left",
                                 overflow="fold", no_wrap=col in justify_right,
                                 ratio=1 if col in wrap else None)
            for row in rows:
                table.add_row(*(terminal_text(c) if isinstance(c, str) else c for c in row))
            self.console.print(table)
            return
        self.row(columns)
        for row in rows:
            self.row(row)

    def fields(self, pairs: Iterable[tuple[str, str | Text]], *, title: str = "") -> None:
        """``name: value`` lines (a two-column grid on a terminal)."""
        if self.rich:
            from rich.table import Table
            from rich.text import Text

            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold")
            grid.add_column(overflow="fold")
            for name, value in pairs:
                grid.add_row(Text(name), terminal_text(value) if isinstance(value, str) else value)
            if title:
                self.console.print(terminal_text(title, "bold underline"))
            self.console.print(grid)
            return
        if title:
            self.line(title)
        for name, value in pairs:
            self.line(f"{name}: {value if isinstance(value, str) else value.plain}")
