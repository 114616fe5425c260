"""``l0tui serve [STORE]``: the TUI in a browser, read-only (see :mod:`l0tui.serve`)."""

from __future__ import annotations

import argparse

from l0tui.commands.common import default_location, open_store
from l0tui.output import Output

HELP = "serve the TUI to a browser, read-only (a token is required off loopback)"
EPILOG = """examples:
  l0tui serve demo_streams                       http://127.0.0.1:8000/ on this machine
  l0tui serve demo_streams --port 9000
  l0tui serve sqlite:///runs.db --host 0.0.0.0   on the network: prints a URL with a token

Every browser tab runs its own read-only TUI process on STORE. On loopback (the
default) no token is asked; any other --host (or --token) makes a random token,
printed once inside the URL, and every request without it gets a 403 page.
Ctrl-C stops the server and the sessions.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", nargs="?", default=None,
                        help="directory or URL (default: $L0_STORE or ./l0-events)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to bind (default: 8000; 0 picks a free one)")
    parser.add_argument("--token", action="store_true",
                        help="require a token even on loopback (other users of this machine)")
    parser.add_argument("--max-sessions", type=int, default=8, metavar="N",
                        help="TUI processes allowed at once (default: 8)")


async def run(args: argparse.Namespace, out: Output) -> int:
    try:
        from l0tui.serve import ServeSettings, serve
    except ImportError as exc:
        raise ValueError(f"serving needs textual-serve (pip install textual-serve): {exc}") from exc
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port} is not a port number")
    if args.max_sessions < 1:
        raise ValueError("--max-sessions must be at least 1")
    location = args.store or default_location()
    async with open_store(location):
        pass  # fail now, on the command line, rather than in every browser tab
    settings = ServeSettings.create(location, args.host, args.port, force_token=args.token,
                                    max_sessions=args.max_sessions)
    return await serve(settings, out=out.stdout)
