"""Exports and reference states for the HTML player tests, through the real CLI."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from l0core import create_event_store
from l0core.timeline import Timeline, load_timeline
from l0tui.cli import run as cli_run

T = TypeVar("T")

SNAKE = {
    "content": "content", "tokenCount": "token_count", "checkpoint": "checkpoint",
    "violations": "violations", "driftDetected": "drift_detected",
    "retryAttempts": "retry_attempts", "networkRetryCount": "network_retry_count",
    "fallbackIndex": "fallback_index", "completed": "completed", "error": "error",
    "startTs": "start_ts", "endTs": "end_ts",
}
"""The player's (and ``show --json``'s) field names -> ``ReplayedState`` attributes."""


def in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` on another thread: sync Playwright keeps an event loop on this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def cli(*args: str) -> str:
    """Run ``l0tui ARGS`` in-process; its stdout (fails on a non-zero status)."""
    out, err = io.StringIO(), io.StringIO()
    status = in_thread(lambda: cli_run(list(args), stdout=out, stderr=err, isatty=False))
    assert status == 0, f"l0tui {' '.join(args)} exited {status}: {err.getvalue()}"
    return out.getvalue()


def export_html(store: Path | str, stream_id: str, target: Path) -> Path:
    cli("export", str(store), stream_id, "--format", "html", "-o", str(target))
    return target


def show_state(store: Path | str, stream_id: str, seq: int) -> dict[str, Any]:
    """``l0tui show STORE ID --seq N --json``'s state."""
    state: dict[str, Any] = json.loads(cli("show", str(store), stream_id, "--seq", str(seq),
                                           "--json"))["state"]
    return state


@cache
def timeline(store: Path | str, stream_id: str) -> Timeline:
    """The stream as a :class:`Timeline` (cached: the tests only read it)."""
    async def load() -> Timeline:
        st = await create_event_store(str(store), read_only=True)
        try:
            return await load_timeline(st, stream_id)
        finally:
            await st.close()

    return in_thread(lambda: asyncio.run(load()))


def js_length(text: str) -> int:
    """``text.length`` as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2
