"""Finding the PostgreSQL and Redis servers the store tests run against.

``postgres_dsn()`` and ``redis_url()`` return a URL of a server that answered, or
skip the calling test with the reason; with ``L0_REQUIRE_SERVICES=1`` (set by
``.ci/run``) they fail it instead, so CI can never pass by skipping. Override the
addresses with ``L0_TEST_POSTGRES_URL`` / ``L0_TEST_REDIS_URL``.

Also here: :class:`FaultProxy`, a TCP proxy that drops a connection at a chosen
moment, to produce the "lost reply" failures a flaky network causes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def services_required() -> bool:
    return os.environ.get("L0_REQUIRE_SERVICES", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (L0_REQUIRE_SERVICES=1: these tests must not skip)",
                    pytrace=False)
    pytest.skip(reason)


def _tcp_answers(url: str, default_port: int) -> str | None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc.strerror or exc})"


@cache
def _postgres_problem(url: str) -> str | None:
    try:
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        return f"psycopg is not installed ({exc}); pip install 'l0tui[postgres]'"
    if (problem := _tcp_answers(url, 5432)) is not None:
        return f"PostgreSQL: {problem}"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {url} refused us: {' '.join(str(exc).split())}"
    return None


@cache
def _redis_problem(url: str) -> str | None:
    try:
        import redis
    except ImportError as exc:
        return f"redis-py is not installed ({exc}); pip install 'l0tui[redis]'"
    if (problem := _tcp_answers(url, 6379)) is not None:
        return f"Redis: {problem}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return f"Redis at {url} refused us: {exc}"
    return None


def postgres_dsn() -> str:
    """The test PostgreSQL URL; skips (or fails under L0_REQUIRE_SERVICES=1) if it is down."""
    url = os.environ.get("L0_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    problem = _postgres_problem(url)
    if problem is not None:
        _unavailable(problem)
    return url


def redis_url() -> str:
    """The test Redis URL; skips (or fails under L0_REQUIRE_SERVICES=1) if it is down."""
    url = os.environ.get("L0_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    problem = _redis_problem(url)
    if problem is not None:
        _unavailable(problem)
    return url


def unique_name(kind: str = "t") -> str:
    """A fresh identifier for one test's schema or key prefix."""
    return f"l0{kind}_{secrets.token_hex(6)}"


def drop_postgres_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def drop_postgres_prefix(url: str, schema: str, prefix: str) -> None:
    """Drop the tables and functions one prefix created in a shared schema."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        for suffix in ("migrations", "streams", "events", "snapshots", "summaries", "texts",
                       "catalog"):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                sql.Identifier(schema, f"{prefix}_{suffix}")))
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = ANY(%s)",
            (schema, [f"{prefix}_{f}" for f in ("append", "delete", "sweep")]),
        ).fetchall()
        for (signature,) in rows:
            conn.execute(sql.SQL("DROP FUNCTION IF EXISTS {}").format(sql.SQL(signature)))


def delete_redis_prefix(url: str, prefix: str) -> int:
    """Delete every key under ``prefix:`` (SCAN, test clean-up only)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def with_query(url: str, **params: str) -> str:
    sep = "&" if "?" in url else "?"
    return url + sep + "&".join(f"{k}={v}" for k, v in params.items())


def check_writers(envelopes: list[Any], acked: dict[tuple[int, int], int], writers: int,
                  per: int) -> None:
    """Contiguous seqs, every acknowledged append exactly once at its seq, order kept."""
    assert [e.seq for e in envelopes] == list(range(writers * per))
    values = [e.event.value for e in envelopes]
    assert len(set(values)) == len(values), "an append was written twice"
    position = {v: e.seq for v, e in zip(values, envelopes, strict=True)}
    for (w, i), seq in acked.items():
        assert position[f"{w}:{i}"] == seq
    for w in range(writers):
        mine = [int(v.split(":")[1]) for v in values if v.split(":")[0] == str(w)]
        assert mine == list(range(per))


class FaultProxy:
    """A TCP proxy in front of a server that can drop a connection on cue.

    ``arm(marker, after_server=True)``: the next client message containing
    ``marker`` is forwarded, then the server's reply is thrown away and both
    sockets are closed, so the server has done the work but the client never
    hears of it (the ambiguous failure). With ``after_server=False`` the message
    is dropped before it reaches the server. Each arm fires once.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.fired = 0
        self._marker: bytes | None = None
        self._after_server = True
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def arm(self, marker: bytes, *, after_server: bool = True) -> None:
        self._marker = marker
        self._after_server = after_server

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.close()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t
        await self._server.wait_closed()

    async def _handle(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            c_writer.close()
            return
        self._writers.update((c_writer, s_writer))
        doomed = asyncio.Event()  # set: drop the next server reply and hang up

        def hang_up() -> None:
            self.fired += 1
            c_writer.close()
            s_writer.close()

        async def upstream() -> None:
            tail = b""
            while data := await c_reader.read(65536):
                marker = self._marker
                if marker is not None and marker in tail + data:
                    self._marker = None
                    if not self._after_server:
                        hang_up()
                        return
                    doomed.set()
                tail = data[-64:]
                s_writer.write(data)
                await s_writer.drain()
            s_writer.close()

        async def downstream() -> None:
            while data := await s_reader.read(65536):
                if doomed.is_set():
                    hang_up()
                    return
                c_writer.write(data)
                await c_writer.drain()
            c_writer.close()

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        self._tasks.update(tasks)
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._tasks.difference_update(tasks)
            self._writers.difference_update((c_writer, s_writer))
            c_writer.close()
            s_writer.close()


# ── NATS JetStream ──

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


@cache
def _nats_problem(url: str) -> str | None:
    try:
        import nats  # noqa: F401
    except ImportError as exc:
        return f"nats-py is not installed ({exc}); pip install 'l0tui[nats]'"
    if (problem := _tcp_answers(url, 4222)) is not None:
        return f"NATS: {problem}"

    async def check() -> str | None:
        import nats

        nc = await nats.connect(url, connect_timeout=3, allow_reconnect=False)
        try:
            await nc.request("$JS.API.INFO", b"", timeout=3)
        except Exception as exc:
            return f"NATS at {url} has no JetStream (nats-server -js): {type(exc).__name__}"
        finally:
            await nc.close()
        return None

    try:
        found: str | None = _in_thread(check)
        return found
    except Exception as exc:
        return f"NATS at {url} refused us: {type(exc).__name__}: {exc}"


def _in_thread(fn: Any) -> Any:
    """``asyncio.run(fn())`` on a thread of its own: callable from async tests too."""
    import threading

    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(fn()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    return result[0] if result else None


def nats_url() -> str:
    """The test NATS URL (JetStream on); skips (or fails under L0_REQUIRE_SERVICES=1)."""
    url = os.environ.get("L0_TEST_NATS_URL", DEFAULT_NATS_URL)
    problem = _nats_problem(url)
    if problem is not None:
        _unavailable(problem)
    return url


def unique_stream(kind: str = "T") -> str:
    """A fresh JetStream stream name for one test."""
    return f"L0{kind}_{secrets.token_hex(5)}"


def delete_nats_stream(url: str, stream: str) -> list[str]:
    """Delete the JetStream stream ``stream`` and its key-value buckets; returns what went.

    Runs in a thread of its own, so async tests may call it too."""
    removed: list[str] = []

    async def go() -> None:
        import nats

        nc = await nats.connect(url, connect_timeout=3, allow_reconnect=False)
        try:
            jsm = nc.jsm()
            names = [stream]
            for info in await jsm.streams_info():
                name = info.config.name or ""
                if name.startswith(f"KV_{stream}_"):
                    names.append(name)
            for name in names:
                with contextlib.suppress(Exception):
                    if await jsm.delete_stream(name):
                        removed.append(name)
        finally:
            await nc.close()

    _in_thread(go)
    return removed
