"""An event loop on a daemon thread, for recordings made from synchronous code.

Stores are asynchronous. A synchronous SDK stream (``openai.OpenAI``,
``anthropic.Anthropic``) has no loop to append from, so its recording runs on
this one: started on first use, shared by every sync recording of the process,
and restarted after a ``fork`` (threads do not survive one).
"""

from __future__ import annotations

import asyncio
import os
import threading

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_pid = 0


def recording_loop() -> asyncio.AbstractEventLoop:
    """The running loop of l0core's recording thread (started if need be)."""
    global _loop, _thread, _pid
    with _lock:
        if _loop is not None and _thread is not None and _thread.is_alive() and _pid == os.getpid():
            return _loop
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=run, name="l0-record-loop", daemon=True)
        thread.start()
        ready.wait()
        _loop, _thread, _pid = loop, thread, os.getpid()
        return loop
