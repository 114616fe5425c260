"""Classify an exception as the spec's ``failureType`` (network, timeout, abort, ...).

Works on any exception without importing the HTTP client that raised it: it looks
at the exception types in the chain (``__cause__``/``__context__``), their class
names (``httpx.ReadTimeout``, ``openai.APIConnectionError``, ``aiohttp``'s
``ClientConnectionError``) and, last, well-known message fragments.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

_TIMEOUT_NAMES = ("timeout",)
_NETWORK_NAMES = (
    "connecterror", "connectionerror", "apiconnectionerror", "readerror", "writeerror",
    "remoteprotocolerror", "networkerror", "protocolerror", "serverdisconnected",
    "clientconnectionerror", "clientoserror", "clientpayloaderror", "incompleteread",
    "chunkedencodingerror", "streamreset",
)
_NETWORK_MESSAGES = (
    "connection reset", "connection refused", "connection aborted", "connection closed",
    "connection dropped", "connection lost", "broken pipe", "econnreset", "econnrefused",
    "network is unreachable", "network unreachable", "host unreachable",
    "name or service not known", "temporary failure in name resolution",
    "server disconnected", "incomplete chunked read", "peer closed connection",
)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not e for e in seen) and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify_failure(error: BaseException) -> str:
    """``"abort"``, ``"timeout"``, ``"network"`` or ``"unknown"`` for ``error``."""
    if isinstance(error, asyncio.CancelledError | KeyboardInterrupt | GeneratorExit):
        return "abort"
    chain = _chain(error)
    for exc in chain:
        if isinstance(exc, TimeoutError):
            return "timeout"
        names = [cls.__name__.lower() for cls in type(exc).__mro__]
        if any(t in name for name in names for t in _TIMEOUT_NAMES):
            return "timeout"
    for exc in chain:
        if isinstance(exc, ConnectionError | socket.gaierror | ssl.SSLError | EOFError):
            return "network"
        names = [cls.__name__.lower() for cls in type(exc).__mro__]
        if any(name in _NETWORK_NAMES for name in names):
            return "network"
        message = str(exc).lower()
        if "timed out" in message or "timeout" in message:
            return "timeout"
        if any(fragment in message for fragment in _NETWORK_MESSAGES):
            return "network"
    return "unknown"
