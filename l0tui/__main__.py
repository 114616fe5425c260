"""``python -m l0tui [STORE] [STREAM_ID]``: open the TUI (the full CLI is ``l0tui``)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        from l0tui.cli import run as cli_run
    except ImportError:
        cli_run = None
    if cli_run is not None:
        return int(cli_run(args) or 0)
    from l0tui.app import run_tui

    location = args[0] if args else os.environ.get("L0_STORE", "./l0-events")
    stream_id = args[1] if len(args) > 1 else None
    return run_tui(location, stream_id)


if __name__ == "__main__":
    sys.exit(main())
