"""The in-process HTTP transport an SDK client replays recordings through.

The ``openai`` and ``anthropic`` SDKs send every request through an ``httpx2``
client; giving them one whose transport is :class:`ReplayTransport` means the
code under test uses the SDK unchanged and gets the recorded SSE bytes, chunk by
chunk, with no socket opened. Which recorded call a request replays is decided
by the SDK wrapper (:mod:`l0core.pytest_plugin.sdk_clients`) and carried in the
``x-l0-replay-call`` header; a request without it goes to the real network when
the run records, and is refused otherwise.

A body is a list of :class:`Piece` stamped with the recorded time of the event
that produced it; with ``speed`` > 0 the gaps between them are waited on the
:class:`~l0core.pytest_plugin.clock.Pacer`, divided by ``speed``. A stream that
was cut short in the recording is cut here too: the body raises
``httpx2.RemoteProtocolError`` after its last piece, as a dropped connection does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2

from l0core.pytest_plugin.clock import Pacer, RealClock

CALL_HEADER = "x-l0-replay-call"


@dataclass(frozen=True, slots=True)
class Piece:
    """Bytes of a response body and the recorded time (Unix ms) they were produced."""

    at_ms: float
    data: bytes


@dataclass(slots=True)
class ReplayBody:
    """What one replayed call answers: status, headers, pieces, and whether it is cut."""

    status: int
    headers: dict[str, str]
    pieces: list[Piece]
    start_ms: float
    cut: bool = False
    cut_reason: str = "the recorded stream was cut here"
    served: list[float] = field(default_factory=list)
    """The pacer's time at which each piece was handed to the SDK (for tests)."""


Plan = Callable[[httpx2.Request, int], ReplayBody]
"""Builds the body of call ``n`` (from 1) for a request."""


def _delays(body: ReplayBody, speed: float) -> Iterator[tuple[float, Piece]]:
    last = body.start_ms
    for piece in body.pieces:
        gap = (piece.at_ms - last) / 1000.0 if speed > 0 else 0.0
        last = max(last, piece.at_ms)
        yield (gap / speed if gap > 0 else 0.0), piece


def _cut(body: ReplayBody) -> httpx2.RemoteProtocolError:
    return httpx2.RemoteProtocolError(
        f"peer closed connection without sending complete message body (l0 replay: "
        f"{body.cut_reason})")


class _SyncBody(httpx2.SyncByteStream):
    def __init__(self, body: ReplayBody, speed: float, pacer: Pacer) -> None:
        self.body, self.speed, self.pacer = body, speed, pacer

    def __iter__(self) -> Iterator[bytes]:
        for delay, piece in _delays(self.body, self.speed):
            if delay:
                self.pacer.sleep(delay)
            self.body.served.append(self.pacer.monotonic())
            yield piece.data
        if self.body.cut:
            raise _cut(self.body)


class _AsyncBody(httpx2.AsyncByteStream):
    def __init__(self, body: ReplayBody, speed: float, pacer: Pacer) -> None:
        self.body, self.speed, self.pacer = body, speed, pacer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for delay, piece in _delays(self.body, self.speed):
            if delay:
                await self.pacer.async_sleep(delay)
            self.body.served.append(self.pacer.monotonic())
            yield piece.data
        if self.body.cut:
            raise _cut(self.body)


Refuse = Callable[[httpx2.Request, str], httpx2.Response]
"""Builds the error response for a request that cannot be replayed."""


class ReplayTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Serves recorded calls; forwards unmarked requests to the network only if ``live``."""

    def __init__(self, plan: Plan, refuse: Refuse, *, speed: float = 0.0,
                 pacer: Pacer | None = None, live: bool = False) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self.plan = plan
        self.refuse = refuse
        self.speed = speed
        self.pacer: Pacer = pacer or RealClock()
        self.live = live
        self.bodies: list[ReplayBody] = []
        self._sync: httpx2.HTTPTransport | None = None
        self._async: httpx2.AsyncHTTPTransport | None = None

    def _call_of(self, request: httpx2.Request) -> int | None:
        value = request.headers.get(CALL_HEADER)
        if value is None:
            return None
        del request.headers[CALL_HEADER]
        return int(value) if value.isdigit() else None

    def _replay(self, request: httpx2.Request, call: int, stream: Any) -> httpx2.Response:
        body = self.plan(request, call)
        self.bodies.append(body)
        headers = {**body.headers, "x-should-retry": "false"}  # the SDKs' no-retry signal
        return httpx2.Response(body.status, headers=headers,
                               stream=stream(body, self.speed, self.pacer), request=request)

    def _unmarked(self) -> str:
        return ("l0 replay: this request was not made through the client's create() or "
                "stream() (with_raw_response and other endpoints are not replayed), and this "
                "run does not record, so it was not sent")

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        call = self._call_of(request)
        if call is not None:
            return self._replay(request, call, _SyncBody)
        if not self.live:
            return self.refuse(request, self._unmarked())
        if self._sync is None:
            self._sync = httpx2.HTTPTransport()
        return self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        call = self._call_of(request)
        if call is not None:
            return self._replay(request, call, _AsyncBody)
        if not self.live:
            return self.refuse(request, self._unmarked())
        if self._async is None:
            self._async = httpx2.AsyncHTTPTransport()
        return await self._async.handle_async_request(request)

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
