"""A local HTTP server that streams like the OpenAI and Anthropic APIs, scripted per test.

Point the real SDKs at it and they run their own HTTP and SSE code::

    with FakeProvider(Reply(texts=["Hel", "lo"], cut_after=1)) as fake:
        client = openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0)
        client.chat.completions.create(model="m", messages=[...], stream=True)

It listens on 127.0.0.1 (a free port), in a thread, with only the standard
library; nothing here imports pytest. Routes: ``POST /v1/chat/completions``,
``/v1/responses`` and ``/v1/messages``, streaming with
:mod:`l0core.record.provider_sse`. Each request takes the next queued
:class:`Reply` (then ``default``) and is kept in :attr:`FakeProvider.requests`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from l0core.record.provider_sse import (
    ApiError,
    Script,
    ToolCall,
    anthropic_error_body,
    anthropic_messages_sse,
    as_script,
    openai_chat_sse,
    openai_error_body,
    openai_responses_sse,
)

HOLD_TIMEOUT = 30.0
"""A held stream goes on by itself after this many seconds (a test that forgot to release)."""


@dataclass(frozen=True)
class Reply:
    """How the fake answers one request.

    ``texts`` (or a :class:`Script`, whose ending "cut" drops the connection
    after its last event) and ``tool_calls`` are what it streams, under the
    request's model unless ``model`` is set. At most one of these
    changes the end: ``error_after=N`` sends the API's error event after the N-th
    text; ``cut_after=N`` closes the connection mid-body after the N-th text
    (``cut_after_events`` counts SSE events instead); ``status`` answers with that
    HTTP status and ``error`` as the body, no stream. ``delay`` sleeps before
    every SSE event; ``hold_after=N`` stops after the N-th text until
    :meth:`FakeProvider.release`.
    """

    texts: Sequence[str] | Script = ("Hello", ", ", "world", "!")
    tool_calls: Sequence[ToolCall] = ()
    model: str | None = None
    error_after: int | None = None
    error: ApiError = field(default_factory=ApiError)
    cut_after: int | None = None
    cut_after_events: int | None = None
    status: int | None = None
    delay: float = 0.0
    hold_after: int | None = None


@dataclass(frozen=True)
class Request:
    """A request the fake received: its path, JSON body and headers (names lowercased)."""

    path: str
    body: Mapping[str, Any]
    headers: Mapping[str, str]


Render = Callable[..., Iterator[bytes]]
_ROUTES: dict[str, tuple[Render, Callable[[ApiError], bytes]]] = {
    "/v1/chat/completions": (openai_chat_sse, openai_error_body),
    "/v1/responses": (openai_responses_sse, openai_error_body),
    "/v1/messages": (anthropic_messages_sse, anthropic_error_body),
}


def _events_through(render: Render, script: Script, texts: int) -> int:
    """How many SSE events ``render`` sends up to and including the ``texts``-th text."""
    prefix = Script(texts=script.texts[:texts], model=script.model, ending="cut")
    return sum(1 for _ in render(prefix))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    provider: FakeProvider


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read FakeProvider.requests instead

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        fake = self.server.provider
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake._received(Request(path=path, body=body, headers=headers))
        route = _ROUTES.get(path)
        if route is None:
            self._send_json(404, openai_error_body(ApiError(f"no route {path}", "not_found")))
            return
        render, error_body = route
        reply = fake._next_reply()
        if reply.status is not None:
            self._send_json(reply.status, error_body(reply.error))
            return
        if not body.get("stream"):
            self._send_json(400, error_body(ApiError(
                "the fake provider only answers stream=True requests", "invalid_request_error",
                status=400)))
            return
        self._stream(render, reply, body, fake)

    def _send_json(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def _stream(self, render: Render, reply: Reply, body: Mapping[str, Any],
                fake: FakeProvider) -> None:
        model = reply.model or (body.get("model") if isinstance(body.get("model"), str) else None)
        script = as_script(reply.texts, model=model, tool_calls=reply.tool_calls)
        if reply.error_after is not None:
            script = script.with_error_after(reply.error_after, reply.error)
        cut_at = reply.cut_after_events
        if reply.cut_after is not None:
            cut_at = _events_through(render, script, reply.cut_after)
        hold_at = (_events_through(render, script, reply.hold_after)
                   if reply.hold_after is not None else None)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.send_header("x-request-id", f"req_fake_{fake.request_count}")  # OpenAI's
        self.send_header("request-id", f"req_fake_{fake.request_count}")  # Anthropic's
        self.end_headers()
        try:
            for sent, data in enumerate(render(script), start=1):
                if reply.delay:
                    time.sleep(reply.delay)
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                if cut_at is not None and sent >= cut_at:
                    self._cut()
                    return
                if hold_at is not None and sent == hold_at:
                    fake._release.wait(HOLD_TIMEOUT)
            if script.ending == "cut":  # e.g. a recording that ended in a network error
                self._cut()
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (closed the stream early): nothing to finish

    def _cut(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FakeProvider:
    """The server; ``with FakeProvider(*replies) as fake:`` starts and stops it."""

    def __init__(self, *replies: Reply, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self.requests: list[Request] = []
        self._replies: deque[Reply] = deque(replies)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (Anthropic's ``base_url``)."""
        if self._server is None:
            raise RuntimeError("the fake provider is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """``base_url`` + ``/v1``, as the OpenAI client expects it."""
        return self.base_url + "/v1"

    anthropic_base_url = base_url

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    def release(self) -> None:
        """Let every held stream (``hold_after``) go on."""
        self._release.set()

    def start(self) -> Self:
        if self._server is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.provider = self
            self._server = server
            self._thread = threading.Thread(target=server.serve_forever, kwargs={
                "poll_interval": 0.01}, name="l0-fake-provider", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self.release()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _received(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self.default
