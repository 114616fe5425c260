"""A loopback TCP proxy that hangs up after forwarding N bytes of each server reply stream.

Runs its own event loop on a thread, so a synchronous caller (the command line run
in-process) can sit behind it: every connection through it gets the first ``limit``
bytes the server sends, then both sides are closed mid-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType


class CuttingProxy:
    def __init__(self, host: str, port: int, limit: int) -> None:
        self.target = (host, port)
        self.limit = limit
        self.port = 0
        self.cuts = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _handle(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            c_writer.close()
            return

        async def up() -> None:
            while data := await c_reader.read(65536):
                s_writer.write(data)
                await s_writer.drain()

        async def down() -> None:
            sent = 0
            while data := await s_reader.read(65536):
                room = self.limit - sent
                c_writer.write(data[:room])
                await c_writer.drain()
                sent += min(room, len(data))
                if sent >= self.limit:
                    self.cuts += 1
                    return

        tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for writer in (c_writer, s_writer):
            writer.close()
