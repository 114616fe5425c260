"""The connection to a NATS server (or cluster), and retrying what a lost server interrupted.

A JetStream request whose reply never came (the server was killed, a cluster
elected a new leader) is sent again until ``retry_timeout`` runs out. Publishes
are safe to resend because each carries a ``Nats-Msg-Id`` the stream deduplicates
on; reads are safe anyway. The client keeps reconnecting (to any seed of the URL)
for as long as the store is open.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import PubAck, RawStreamMsg
from nats.js.manager import JetStreamManager

from l0core.errors import StoreClosedError, StoreConfigError, StoreConnectionError
from l0core.stores.urls import mask_secrets

T = TypeVar("T")

API = "$JS.API"

_TRANSIENT: tuple[type[BaseException], ...] = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
    ConnectionError,
)
_TRANSIENT_CODES = {10008}  # "JetStream system temporarily unavailable" (elections)

WRONG_LAST_SEQUENCE = 10071
"""JetStream's error code for a failed ``Nats-Expected-Last-Subject-Sequence`` check."""


def nats_servers(url: str) -> list[str]:
    """The seed URLs of ``nats://[user:pass@]host:port[,host:port...]/``.

    Several hosts separated by commas are the seeds of one cluster; the client
    learns the rest of the cluster from whichever answers."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "nats":
        raise StoreConfigError(f"a NATS URL starts with nats://, got {mask_secrets(url)!r}")
    netloc = rest.split("/", 1)[0].split("?", 1)[0]
    userinfo, at, hosts = netloc.rpartition("@")
    auth = userinfo + at
    seeds = [h for h in hosts.split(",") if h]
    if not seeds:
        seeds = ["127.0.0.1:4222"]
    return [f"nats://{auth}{h}" for h in seeds]


def transient(exc: BaseException) -> bool:
    """True for failures a retry may get past (lost replies, elections, reconnects)."""
    if isinstance(exc, _TRANSIENT):
        return True
    if isinstance(exc, nats.js.errors.APIError):
        return exc.code == 503 or exc.err_code in _TRANSIENT_CODES
    return False


class NatsLink:
    """One client connection, its JetStream contexts, and the retry policy."""

    def __init__(self, servers: list[str], where: str, *, timeout: float,
                 retry_timeout: float) -> None:
        self.servers = servers
        self.where = where
        self.timeout = timeout
        self.retry_timeout = retry_timeout
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._jsm: JetStreamManager | None = None
        self.last_error = ""
        self.closed = False

    async def _on_error(self, exc: Exception) -> None:
        self.last_error = str(exc) or type(exc).__name__

    async def connect(self) -> None:
        """Connect to a seed; one clear line when none answers."""
        try:
            nc = await nats.connect(
                servers=self.servers, name="l0core", connect_timeout=2,
                allow_reconnect=True, max_reconnect_attempts=1, reconnect_time_wait=0.1,
                error_cb=self._on_error, disconnected_cb=self._quiet,
                reconnected_cb=self._quiet, closed_cb=self._quiet,
            )
        except (TimeoutError, nats.errors.Error, OSError) as exc:
            reason = self.last_error or str(exc) or type(exc).__name__
            raise StoreConnectionError(
                f"cannot connect to NATS at {self.where}: {reason}") from None
        # Connected: from now on keep reconnecting for as long as the store is open.
        nc.options["max_reconnect_attempts"] = -1
        self._nc = nc
        self._js = nc.jetstream(timeout=self.timeout)
        self._jsm = nc.jsm(timeout=self.timeout)

    async def _quiet(self) -> None:
        return None

    @property
    def nc(self) -> NATS:
        if self._nc is None:
            raise StoreClosedError("the NATS store is not open: await store.open() first")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None, "not connected"
        return self._js

    @property
    def jsm(self) -> JetStreamManager:
        assert self._jsm is not None, "not connected"
        return self._jsm

    @property
    def max_payload(self) -> int:
        return int(self.nc.max_payload)

    async def close(self) -> None:
        self.closed = True
        if self._nc is not None:
            nc, self._nc = self._nc, None
            try:
                await nc.close()
            except (TimeoutError, nats.errors.Error, OSError):
                pass

    async def run(self, fn: Callable[[], Awaitable[T]], what: str) -> T:
        """``fn()``, again after each transient failure until ``retry_timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_timeout
        attempt = 0
        while True:
            if self.closed:
                raise StoreClosedError("NatsEventStore is closed")
            try:
                return await fn()
            except nats.errors.ConnectionClosedError:
                if self.closed:
                    raise StoreClosedError("NatsEventStore is closed") from None
                raise StoreConnectionError(
                    f"the connection to NATS at {self.where} was closed ({what})") from None
            except nats.errors.AuthorizationError as exc:
                raise StoreConnectionError(f"NATS at {self.where} refused us: {exc}") from None
            except Exception as exc:
                if not transient(exc):
                    raise
                reason = str(exc) or type(exc).__name__
            attempt += 1
            if loop.time() >= deadline:
                raise StoreConnectionError(
                    f"NATS at {self.where} did not answer ({what}, {attempt} attempts): "
                    f"{reason}") from None
            await asyncio.sleep(min(0.5, 0.02 * 2 ** min(attempt, 5)))

    # ── JetStream requests, each retried ──

    async def api(self, subject: str, request: dict[str, Any] | None, what: str) -> dict[str, Any]:
        """A JetStream API request (``$JS.API.<subject>``); an error reply raises APIError."""
        payload = b"" if request is None else json.dumps(request).encode()

        async def go() -> dict[str, Any]:
            msg = await self.nc.request(f"{API}.{subject}", payload, timeout=self.timeout)
            resp: dict[str, Any] = json.loads(msg.data)
            if "error" in resp:
                raise nats.js.errors.APIError.from_error(resp["error"])
            return resp

        return await self.run(go, what)

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str],
                      what: str) -> PubAck:
        """A JetStream publish, resent with the same headers (and msg id) until acknowledged."""
        return await self.run(lambda: self.js.publish(subject, payload, headers=dict(headers)),
                              what)

    async def get_msg(self, stream: str, what: str, *, seq: int | None = None,
                      last_by_subject: str | None = None,
                      next_by_subject: str | None = None) -> RawStreamMsg | None:
        """One stored message (the stream leader answers); None when there is none."""
        if last_by_subject is not None:
            kwargs: dict[str, Any] = {"subject": last_by_subject}
        elif next_by_subject is not None:
            kwargs = {"seq": max(1, seq or 1), "subject": next_by_subject, "next": True}
        else:
            kwargs = {"seq": seq}
        try:
            return await self.run(lambda: self.jsm.get_msg(stream, **kwargs), what)
        except nats.js.errors.NotFoundError:
            return None

    async def subscribe(self, subject: str) -> Any:
        return await self.nc.subscribe(subject, pending_msgs_limit=1_000_000,
                                       pending_bytes_limit=512 * 1024 * 1024)

    def new_inbox(self) -> str:
        return self.nc.new_inbox()


def is_status(msg: Msg) -> str | None:
    """The status code of a JetStream control message (404, 408, 409, 100), else None."""
    if msg.data or not msg.headers:
        return None
    status = msg.headers.get("Status")
    return str(status) if status else None
