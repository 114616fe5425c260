"""Running the async API from synchronous code, even under a running event loop.

The ``*_sync`` forms exist for plain functions and sync tests. Inside a running
loop (an async test calling a sync helper) ``asyncio.run`` is refused, so the
coroutine then runs on its own loop in a worker thread; that suits stores not
bound to one loop (memory, file, SQLite). From async code, call the async form.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make()`` returns to completion and return its result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1, thread_name_prefix="l0-sync") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
