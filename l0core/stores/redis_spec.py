"""``SpecRedisEventStore``: the spec's Redis example keys, read-only.

The example adapter keeps one LIST per stream, ``<prefix>:stream:<id>``, of
envelope JSON texts (``{"streamId", "seq", "event"}``) appended with RPUSH after
an LLEN, and finds streams with ``KEYS <prefix>:stream:*``. This store reads such
keys as they are and never writes them:

- Streams are found with ``SCAN`` (``TYPE list``), never ``KEYS``.
- Order: the list's own order (RPUSH is atomic, so it is the order the appends
  landed); events are numbered by position, so the seqs read are always ``0..n-1``.
  An envelope's stored ``seq`` only tells :meth:`seq_damage` whether two writers
  raced (the same seq twice) or an entry went missing; ``streamId`` naming another
  stream is reported the same way.
- No snapshots (the example keeps none); follow polls.

Detected when a Redis store is opened read-only (``docs/format.md``), or named with
``?layout=spec``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from l0core.codec import decode_event, loads
from l0core.errors import (
    CorruptionError,
    EventValidationError,
    StoreClosedError,
    StoreConfigError,
    StoreConnectionError,
)
from l0core.events import EventEnvelope, Snapshot, validate_stream_id
from l0core.stores.base import ReadOnlyEventStore, StorageAdapterConfig, validate_prefix
from l0core.stores.layouts import copy_command
from l0core.stores.options import float_option, int_option
from l0core.stores.redis import OPTION_KEYS
from l0core.stores.redis_layout import inspect_redis_prefix
from l0core.stores.urls import mask_secrets, split_url_options
from l0core.stores.verify import SeqDamage, seq_damage_of

__all__ = ["SpecRedisEventStore"]

T = TypeVar("T")

_OPTION_KEYS = OPTION_KEYS
"""The same URL options as our Redis store (one list, so a new one is known to both)."""
_PAGE = 5_000


class SpecRedisEventStore(ReadOnlyEventStore):
    """The spec example's Redis LISTs, read as they are (see the module docstring)."""

    layout = "the spec example layout"

    def __init__(self, config: StorageAdapterConfig) -> None:
        url, url_options = split_url_options(config.connection or "redis://127.0.0.1:6379/0",
                                             _OPTION_KEYS, "Redis")
        options: dict[str, Any] = {**url_options, **config.options}
        prefix = None
        if config.prefix == "l0" and "prefix" in options:
            prefix = validate_prefix(options["prefix"])
        super().__init__(config, prefix=prefix, ttl=0, read_only=True)
        self._url = url
        self._retries = int_option(options, "retries", 3, 0)
        self._max_connections = int_option(options, "max_connections", 8, 1)
        self.poll_seconds = float_option(options, "poll_interval", 0.5)
        self._client: redis.asyncio.Redis | None = None

    def describe(self) -> str:
        return mask_secrets(self.config.connection or self._url)

    def layout_detail(self) -> str:
        return f"spec example layout (LISTs {self.prefix}:stream:<id>)"

    def write_refusal(self) -> str:
        return (f"{self.describe()} holds the {self.layout_detail()}, which l0core only "
                f"reads; to write, migrate it first: "
                f"{copy_command(self.config.connection or self._url, self.prefix)}")

    # ── lifecycle ──

    async def open(self) -> SpecRedisEventStore:
        if self._client is not None:
            return self
        try:
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self._url, max_connections=self._max_connections, timeout=10,
                retry=Retry(NoBackoff(), 0), socket_connect_timeout=5, socket_timeout=10)
        except (ValueError, TypeError) as exc:
            raise StoreConfigError(f"bad Redis URL {self.describe()}: {exc}") from None
        client = redis.asyncio.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        try:
            await client.ping()
        except (redis.exceptions.RedisError, OSError, TypeError) as exc:
            await client.aclose(close_connection_pool=True)
            raise StoreConnectionError(f"cannot connect to Redis at {self.describe()}: "
                                       f"{exc}") from None
        try:
            found = await inspect_redis_prefix(client, self.prefix)
        except (redis.exceptions.RedisError, OSError) as exc:
            await client.aclose(close_connection_pool=True)
            raise StoreConnectionError(f"Redis at {self.describe()}: {exc}") from None
        if found.layout == "l0core":
            await client.aclose(close_connection_pool=True)
            raise StoreConfigError(f"{self.describe()}: prefix {self.prefix!r} holds l0core's "
                                   f"own layout ({found.describe()}), not the spec example's: "
                                   "drop ?layout=spec")
        self._client = client
        return self

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._client is not None:
            await self._client.aclose(close_connection_pool=True)
            self._client = None

    async def _run(self, fn: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        """Run ``fn``; lost connections are retried, every failure is one line."""
        if self._closed:
            raise StoreClosedError(f"{type(self).__name__} is closed")
        client = self._client
        if client is None:
            raise StoreClosedError("SpecRedisEventStore is not open: await store.open() first")
        attempt = 0
        while True:
            try:
                return await fn(client)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    ConnectionError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
            except redis.exceptions.ResponseError as exc:
                if str(exc).startswith("WRONGTYPE"):
                    raise CorruptionError(f"a {self.prefix}:stream:<id> key is not a LIST "
                                          f"({exc})", path=self.describe()) from None
                raise StoreConnectionError(f"Redis at {self.describe()}: {exc}") from None
            except redis.exceptions.RedisError as exc:
                raise StoreConnectionError(f"Redis at {self.describe()}: {exc}") from None
            attempt += 1
            if attempt > self._retries:
                raise StoreConnectionError(f"lost the connection to Redis at {self.describe()} "
                                           f"({attempt} attempts): {reason}") from None
            await asyncio.sleep(min(1.0, 0.05 * 2 ** attempt))

    # ── reading ──

    def _decode(self, stream_id: str, position: int, raw: bytes) -> dict[str, Any]:
        try:
            value = loads(raw)
        except ValueError as exc:
            raise CorruptionError(f"{self.get_stream_key(stream_id)} item {position} is not "
                                  f"JSON: {exc}", path=self.describe()) from None
        if not isinstance(value, dict) or not isinstance(value.get("event"), dict):
            raise CorruptionError(f"{self.get_stream_key(stream_id)} item {position} is not an "
                                  "envelope {streamId, seq, event}", path=self.describe())
        return value

    def _envelopes(self, stream_id: str, first: int, items: list[bytes]) -> list[EventEnvelope]:
        out = []
        for i, raw in enumerate(items):
            envelope = self._decode(stream_id, first + i, raw)
            try:
                event = decode_event(envelope["event"])
            except EventValidationError as exc:
                raise CorruptionError(f"{self.get_stream_key(stream_id)} item {first + i}: "
                                      f"{exc}", path=self.describe()) from None
            out.append(EventEnvelope(stream_id, first + i, event))
        return out

    async def _range(self, stream_id: str, lo: int, hi: int) -> list[bytes]:
        key = self.get_stream_key(stream_id)

        async def go(client: redis.asyncio.Redis) -> list[bytes]:
            return cast(list[bytes], await client.lrange(key, lo, hi))

        return await self._run(go)

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        return await self.read_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        lo = max(0, from_seq)
        if to_seq is not None and to_seq < lo:
            return []
        return self._envelopes(stream_id, lo, await self._range(
            stream_id, lo, -1 if to_seq is None else to_seq))

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        validate_stream_id(stream_id)
        lo, size = max(0, from_seq), max(1, batch_size)
        while True:
            items = await self._range(stream_id, lo, lo + size - 1)
            if items:
                yield self._envelopes(stream_id, lo, items)
            if len(items) < size:
                return
            lo += len(items)

    async def get_last_seq(self, stream_id: str) -> int:
        validate_stream_id(stream_id)
        key = self.get_stream_key(stream_id)

        async def go(client: redis.asyncio.Redis) -> int:
            return int(await client.llen(key))

        return await self._run(go) - 1

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        last = await self.get_last_seq(stream_id)
        if last < 0:
            return None
        envs = await self.read_events(stream_id, from_seq=last, to_seq=last)
        return envs[0] if envs else None

    async def exists(self, stream_id: str) -> bool:
        return await self.get_last_seq(stream_id) >= 0

    async def list_streams(self) -> list[str]:
        head = f"{self.prefix}:stream:"

        async def go(client: redis.asyncio.Redis) -> list[str]:
            ids: set[str] = set()
            async for key in client.scan_iter(match=head + "*", count=1000, _type="list"):
                name = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
                ids.add(name[len(head):])
            return sorted(ids)

        return await self._run(go)

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        return []

    # ── damage ──

    async def seq_damage(self, stream_id: str) -> SeqDamage | None:
        validate_stream_id(stream_id)
        stored: list[int | None] = []
        other = 0
        lo = 0
        while True:
            items = await self._range(stream_id, lo, lo + _PAGE - 1)
            for i, raw in enumerate(items):
                envelope = self._decode(stream_id, lo + i, raw)
                seq = envelope.get("seq")
                stored.append(seq if type(seq) is int else None)
                sid = envelope.get("streamId", envelope.get("stream_id"))
                if sid != stream_id:
                    other += 1
            if len(items) < _PAGE:
                break
            lo += len(items)
        damage = seq_damage_of(stream_id, stored, other_stream=other)
        return damage if damage else None
