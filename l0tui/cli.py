"""The ``l0tui`` command line.

``l0tui [STORE] [--stream ID]`` opens the TUI; ``l0tui COMMAND ...`` runs a headless
subcommand (``ls``, ``show``, ``events``, ``replay``, ``diff``, ``copy``, ``verify``,
``export``, ``serve``). A first argument that is not a command name is a store, so
``l0tui demo_streams`` opens the TUI on that directory (write ``./ls`` for a
directory named like a command).

Errors are one line on stderr (``l0tui: <message>``) with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

from l0core import L0Error
from l0tui import commands
from l0tui.commands.common import default_location
from l0tui.display.escape import sanitize
from l0tui.output import Output

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

PROG = "l0tui"

TUI_EPILOG = """commands (l0tui COMMAND --help for each):
  ls        list the streams of a store, filtered and sorted by the store
  show      the state of a stream at a seq
  events    the events of a stream, filtered by seq range and kind
  replay    print a stream's tokens with the recorded timing
  diff      compare two streams (TUI on a terminal; exit 1 when they differ)
  copy      copy streams between stores (file, SQLite, PostgreSQL, Redis)
  verify    report torn tails and corruption (--repair fixes torn tails)
  export    a slice of events as JSONL, a Markdown report, OTLP JSON, or an HTML player
  import    provider stream captures (OpenAI, Anthropic) and OTLP traces into a store
  index     build or repair the catalog's stream summaries of a store
  prune     delete streams older than an age (the spec's retention practice)
  serve     the TUI in a browser, read-only (a token is required off loopback)

examples:
  l0tui demo_streams                 open the stream browser on a directory
  l0tui sqlite:///runs.db --stream l0_abc
  l0tui diff demo_streams 07a-compare-good 07b-compare-bad
"""


class UsageError(Exception):
    """A bad command line (argparse's complaint, as one line)."""


class _Done(Exception):
    """``--help`` or ``--version`` was printed."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, and writes to ``out``."""

    out: TextIO | None = None

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip())
        raise _Done(status)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            (self.out or sys.stdout).write(message)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


def build_tui_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        usage=f"{PROG} [STORE] [--stream ID]\n       {PROG} COMMAND [ARGS...]",
        description="A time-travel debugger for recorded LLM streams (L0 event sourcing).",
        epilog=TUI_EPILOG,
        formatter_class=_formatter,
    )
    parser.add_argument("store", nargs="?", default=None, metavar="STORE",
                        help="a directory, file://DIR, sqlite:///x.db, postgresql://..., "
                             "redis://..., redis+cluster://h1:7000,h2:7001/, "
                             "nats://host:4222/?stream=NAME (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--stream", metavar="ID", default=None,
                        help="open this stream in the debugger directly")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    return parser


def build_command_parser(name: str) -> tuple[argparse.ArgumentParser, commands.Command]:
    command = commands.load(name)
    parser = _Parser(prog=f"{PROG} {name}", description=command.help[:1].upper()
                     + command.help[1:] + ".", epilog=command.epilog, formatter_class=_formatter)
    command.configure(parser)
    return parser, command


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("l0tui")
    except Exception:
        return "unknown"


def _run_tui(args: argparse.Namespace) -> int:
    try:
        from l0tui.app import run_tui
    except ImportError as exc:
        raise UsageError(f"the TUI is not available: {exc}") from exc
    location = args.store or default_location()
    return run_tui(location, args.stream)


def run(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    isatty: bool | None = None,
) -> int:
    """Run the command line and return its exit status (never raises ``SystemExit``).

    ``stdout``/``stderr``/``isatty`` let tests run it in-process.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    out_stream = stdout if stdout is not None else sys.stdout
    err_stream = stderr if stderr is not None else sys.stderr
    try:
        if args_list and args_list[0] in commands.NAMES:
            parser, command = build_command_parser(args_list[0])
            args = _parse(parser, args_list[1:], out_stream)
            if args is None:
                return 0
            out = Output(out_stream, err_stream, json_mode=bool(getattr(args, "json", False)),
                         plain=bool(getattr(args, "plain", False)), isatty=isatty)
            if command.tui is not None:
                status = command.tui(args, out)
                if status is not None:
                    return status
            return asyncio.run(command.run(args, out))
        parser = build_tui_parser()
        args = _parse(parser, args_list, out_stream)
        if args is None:
            return 0
        return _run_tui(args)
    except UsageError as exc:
        return _fail(err_stream, str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``l0tui events ... | head``): stop quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out_stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    except (L0Error, OSError, ValueError) as exc:
        return _fail(err_stream, _describe(exc))


def _parse(
    parser: argparse.ArgumentParser, argv: list[str], stdout: TextIO
) -> argparse.Namespace | None:
    """Parse; help and version go to ``stdout`` and give None (nothing more to do)."""
    if isinstance(parser, _Parser):
        parser.out = stdout
    try:
        return parser.parse_args(argv)
    except _Done:
        return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file or directory"
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc) or type(exc).__name__
    return text


def _fail(stderr: TextIO, message: str) -> int:
    first = message.strip().splitlines()[0] if message.strip() else "error"
    stderr.write(f"{PROG}: {sanitize(first)}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: run and exit with the status."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
