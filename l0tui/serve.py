"""``l0tui serve``: the TUI in a browser, one read-only TUI process per browser session.

textual-serve runs a command per websocket and relays its terminal to xterm.js in
the page. This module wraps its aiohttp application with the checks a debugger
that shows recorded prompts and outputs needs before it listens on a network:

- on loopback (the default) no token is asked, but the ``Host`` header must name
  a loopback address, so a web page on another site cannot reach the server
  through DNS rebinding;
- anywhere else (or with ``--token``) every request, the websocket upgrade
  included, must carry the random token, as ``?token=`` or as the cookie the first
  page sets from it; anything else gets a 403 page and nothing more;
- a websocket whose ``Origin`` is another site is refused (browsers let any page
  open a websocket to any address);
- at most ``max_sessions`` TUI processes run at once.

Each session runs ``python -m l0tui`` (the same TUI as ``l0tui STORE``) with the
store in ``$L0_STORE`` rather than on its command line, so a password in a store
URL does not show in the process list, and in a scratch directory that is removed
on exit, so the debugger's export key cannot write next to the server's files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import ipaddress
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import quote, urlsplit

from aiohttp import web
from textual_serve.server import Server

TOKEN_COOKIE = "l0tui_token"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_SESSIONS = 8

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_FORBIDDEN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title></head>
<body><h1>403 Forbidden</h1><p>{reason}</p></body></html>
"""

_INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<style>
@font-face {{ font-family: "Roboto Mono";
  src: url("/static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }}
html, body {{ margin: 0; height: 100%; background: #0c181f; color: #e0e0e0;
  font-family: "Roboto Mono", monospace; }}
.textual-terminal {{ position: absolute; inset: 0; opacity: 0; transition: opacity .3s; }}
body.-first-byte .textual-terminal {{ opacity: 1; }}
.notice {{ position: absolute; inset: 0; display: flex; align-items: center;
  justify-content: center; font-size: 16px; }}
body.-first-byte .starting, .ended {{ display: none; }}
body.-closed .ended {{ display: flex; background: #0c181f; z-index: 10; }}
</style>
<script src="/static/js/textual.js"></script>
</head>
<body>
<div class="notice starting">starting {title}…</div>
<div class="notice ended">The session ended. Reload the page to start a new one.</div>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{websocket_url}"
     data-font-size="{font_size}"></div>
</body>
</html>
"""

_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""For the page we serve: xterm.js sets inline styles, nothing comes from elsewhere."""


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    """The name part of a ``Host`` header (``[::1]:8000`` -> ``::1``)."""
    return urlsplit(f"//{host_header}").hostname or ""


@dataclass
class ServeSettings:
    """What ``l0tui serve`` was asked for, and the token it made (None: no token)."""

    location: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    max_sessions: int = DEFAULT_MAX_SESSIONS
    title: str = "l0tui"

    @classmethod
    def create(cls, location: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
               force_token: bool = False, max_sessions: int = DEFAULT_MAX_SESSIONS
               ) -> ServeSettings:
        """Settings for ``location``; a token is made unless the host is loopback."""
        token = secrets.token_urlsafe(24) if force_token or not is_loopback(host) else None
        return cls(location, host, port, token, max_sessions)

    def url(self, port: int | None = None) -> str:
        """The address to open (with the token when there is one)."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1" if host != "::" else "::1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        base = f"http://{host}:{self.port if port is None else port}/"
        return base if self.token is None else f"{base}?token={quote(self.token)}"


@dataclass
class _Guard:
    """The checks in front of every request (see the module docstring)."""

    settings: ServeSettings
    sessions: int = 0

    def _token_ok(self, request: web.Request) -> bool:
        token = self.settings.token
        if token is None:
            return True
        supplied = request.query.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
        return hmac.compare_digest(supplied.encode(), token.encode())

    def refusal(self, request: web.Request) -> str | None:
        """Why ``request`` is refused (None: it may go on)."""
        if self.settings.token is None and not is_loopback(_host_name(request.host)):
            return "This server only answers requests addressed to this machine."
        if not self._token_ok(request):
            return "A valid token is needed: use the address l0tui serve printed."
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None:
            want = f"{'https' if request.secure else 'http'}://{request.host}"
            if origin.lower() != want.lower():
                return "A websocket from another site is not allowed."
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        reason = self.refusal(request)
        if reason is not None:
            return _forbidden(reason)
        if request.path == "/ws":
            if self.sessions >= self.settings.max_sessions:
                return web.Response(status=503, text="Too many sessions are open; try later.\n")
            self.sessions += 1
            try:
                return await handler(request)
            finally:
                self.sessions -= 1
        response = await handler(request)
        if not response.prepared:
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["X-Frame-Options"] = "DENY"
            token = self.settings.token
            if token is not None and request.query.get("token") == token:
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict",
                                    path="/")
        return response


def _forbidden(reason: str) -> web.Response:
    page = _FORBIDDEN_PAGE.format(reason=html.escape(reason))
    response = web.Response(status=403, text=page, content_type="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cache-Control"] = "no-store"
    return response


class L0Server(Server):
    """textual-serve's server with our guard in front and our own index page.

    The stock page builds its URLs from one fixed public address and loads a web
    font from another site; ours uses the address the browser asked for and only
    this server's files.
    """

    def __init__(self, settings: ServeSettings, command: str) -> None:
        super().__init__(command, host=settings.host, port=settings.port,
                         title=settings.title)
        self.settings = settings
        self.guard = _Guard(settings)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard.middleware)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Print nothing: :func:`serve` prints the address once it is bound."""

    async def handle_index(self, request: web.Request) -> web.Response:
        scheme = "wss" if request.secure else "ws"
        try:
            font_size = max(6, min(48, int(request.query.get("fontsize", "16"))))
        except ValueError:
            font_size = 16
        page = _INDEX_PAGE.format(
            title=html.escape(self.title),
            websocket_url=html.escape(f"{scheme}://{request.host}/ws"),
            font_size=font_size,
        )
        response = web.Response(text=page, content_type="text/html")
        response.headers["Content-Security-Policy"] = _PAGE_CSP
        return response


def tui_command() -> str:
    """The command each browser session runs: this interpreter's ``l0tui`` TUI."""
    return shlex.join([sys.executable, "-m", "l0tui"])


def resolve_location(location: str) -> str:
    """``location`` as the session processes (in another directory) must see it."""
    if "://" in location:
        return location
    return os.path.abspath(location)


async def serve(settings: ServeSettings, *, out: TextIO | None = None,
                stop: asyncio.Event | None = None) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop`` is set); the exit status.

    Prints the address (with the token, the only time it is shown) once bound.
    """
    out = out or sys.stdout
    scratch = tempfile.mkdtemp(prefix="l0tui-serve-")
    os.environ["L0_STORE"] = resolve_location(settings.location)
    command = f"cd {shlex.quote(scratch)} && exec {tui_command()}"
    server = L0Server(settings, command)
    runner = web.AppRunner(await server._make_app(), handle_signals=False, access_log=None,
                           shutdown_timeout=5.0)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        port = settings.port
        server_obj = getattr(site, "_server", None)
        sockets = getattr(server_obj, "sockets", None) or []
        if sockets:
            port = int(sockets[0].getsockname()[1])
        where = "this machine only" if is_loopback(settings.host) else settings.host
        out.write(f"l0tui: serving {settings.location} read-only ({where})\n")
        out.write(f"l0tui: open {settings.url(port)}\n")
        if settings.token is not None:
            out.write("l0tui: the token in that address is the only key; it is not shown again\n")
        out.write("l0tui: press Ctrl-C to stop\n")
        out.flush()
        await stop.wait()
        out.write("l0tui: stopping\n")
        out.flush()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        await runner.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0
