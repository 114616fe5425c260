"""``RedisEventStore``: streams in Redis Streams, with server-side expiry.

Keys (``<prefix>`` is validated as an identifier; stream ids are ``[A-Za-z0-9_-]``):

- ``<prefix>:stream:<id>``: a Redis Stream; the event with seq ``n`` is the entry
  with id ``0-<n+1>``, so Redis itself refuses a second entry for a seq.
- ``<prefix>:snapshot:<id>``: a sorted set of snapshot JSON scored by seq.
- ``<prefix>:streams``: the index, a sorted set of stream ids scored by expiry
  time (ms, ``+inf`` without TTL), so ``list_streams`` needs no ``KEYS``/``SCAN``
  and drops expired ids lazily.

Every append is ONE Lua script (EVALSHA): it reads the last seq from the stream's
top entry, checks ``expected_seq``, XADDs the events, refreshes PEXPIRE on the
stream's keys and updates the index, atomically. The last entry of each batch
carries a client-made batch id and the server time, so a retry after a lost
reply finds its own batch and returns its seq instead of writing it twice.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from l0core.codec import decode_event, decode_snapshot, dumps, encode_snapshot, loads
from l0core.errors import (
    ConcurrencyConflictError,
    CorruptionError,
    StoreClosedError,
    StoreConfigError,
    StoreConnectionError,
)
from l0core.events import EventEnvelope, JSONDict, Snapshot, validate_stream_id
from l0core.stores.base import (
    BaseEventStore,
    BaseEventStoreWithSnapshots,
    Clock,
    StorageAdapterConfig,
    validate_prefix,
)
from l0core.stores.layouts import (
    ForeignLayoutError,
    choose_layout,
    foreign_refusal,
    open_own_or_spec,
    spec_refusal,
)
from l0core.stores.options import int_option
from l0core.stores.redis_layout import RedisPrefixContents, inspect_redis_prefix
from l0core.stores.urls import mask_secrets, split_url_options

__all__ = ["RedisEventStore", "create_redis_event_store", "open_store"]

T = TypeVar("T")
Entry = tuple[bytes, dict[bytes, bytes]]

_OPTION_KEYS = {"prefix", "ttl", "retries", "retry_timeout", "block_ms", "dedupe_window_ms",
                "max_connections", "layout", "poll_interval"}

# KEYS: stream, snapshots, index.
# ARGV: stream id, expected seq ('' = any), ttl ms, batch id, retry '1'/'0',
#       dedupe window ms, then one JSON text per event.
# Returns {status, last seq}: 0 appended, 1 conflict, 2 found by a retry,
# or {3, -1, key, type} when a key holds another type (written by something else).
_APPEND_LUA = """
local skey, snapkey, idx = KEYS[1], KEYS[2], KEYS[3]
local wanted = {'stream', 'zset', 'zset'}
for i = 1, 3 do
  local found = redis.call('TYPE', KEYS[i])['ok']
  if found ~= 'none' and found ~= wanted[i] then
    return {3, -1, KEYS[i], found}
  end
end
local sid, expected, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local batch, retry, window = ARGV[4], ARGV[5] == '1', tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function seq_of(id)
  return tonumber(string.match(id, '^0%-(%d+)$')) - 1
end
local last = -1
local top = redis.call('XREVRANGE', skey, '+', '-', 'COUNT', 1)
if #top > 0 then
  last = seq_of(top[1][1])
end
if retry and last >= 0 then
  local hi = '+'
  local stop = false
  while not stop do
    local chunk = redis.call('XREVRANGE', skey, hi, '-', 'COUNT', 512)
    if #chunk == 0 then break end
    for i = 1, #chunk do
      local fields = chunk[i][2]
      local b, at = nil, nil
      for j = 1, #fields, 2 do
        if fields[j] == 'b' then b = fields[j + 1]
        elseif fields[j] == 't' then at = tonumber(fields[j + 1]) end
      end
      if b == batch then
        return {2, seq_of(chunk[i][1])}
      end
      if at ~= nil and at < now - window then
        stop = true
        break
      end
    end
    hi = '(' .. chunk[#chunk][1]
  end
end
if expected ~= '' and tonumber(expected) ~= last then
  return {1, last}
end
local n = #ARGV - 6
for i = 1, n do
  local id = '0-' .. string.format('%d', last + 1 + i)
  if i == n then
    redis.call('XADD', skey, id, 'e', ARGV[6 + i], 'b', batch, 't', string.format('%d', now))
  else
    redis.call('XADD', skey, id, 'e', ARGV[6 + i])
  end
end
if ttl > 0 then
  redis.call('PEXPIRE', skey, ttl)
  redis.call('PEXPIRE', snapkey, ttl)
  redis.call('ZADD', idx, string.format('%d', now + ttl), sid)
else
  redis.call('PERSIST', skey)
  redis.call('PERSIST', snapkey)
  redis.call('ZADD', idx, '+inf', sid)
end
return {0, last + n}
"""

# KEYS: snapshots, stream. ARGV: seq, snapshot JSON, ttl ms.
_SAVE_SNAPSHOT_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local pttl = redis.call('PTTL', KEYS[2])
if pttl > 0 then
  redis.call('PEXPIRE', KEYS[1], pttl)
elseif pttl == -2 and tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""

# KEYS: index. Drops ids whose expiry has passed, returns the live ones.
_LIST_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""

# KEYS: stream. ARGV: first id, last id, count. Returns {first id, last id, JSON array
# of the events}: one bulk string instead of a nested reply per entry, which is
# what redis-py's pure-Python parser spends its time on.
_READ_LUA = """
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
local n = #entries
if n == 0 then return {} end
local parts = {}
for i = 1, n do
  local fields = entries[i][2]
  for j = 1, #fields, 2 do
    if fields[j] == 'e' then
      parts[i] = fields[j + 1]
      break
    end
  end
end
return {entries[1][1], entries[n][1], '[' .. table.concat(parts, ',') .. ']'}
"""
_READ_PAGE = 10_000

# KEYS: stream, snapshots, index. ARGV: stream id.
_DELETE_LUA = """
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""


def _seq_of(entry_id: bytes) -> int:
    return int(entry_id.rpartition(b"-")[2]) - 1


def _entry_id(seq: int) -> str:
    return f"0-{seq + 1}"


class RedisEventStore(BaseEventStoreWithSnapshots):
    """Event store on Redis Streams (redis-py asyncio).

    Create it with :func:`create_event_store` (``redis://host:6379/0``), or construct
    it and ``await store.open()``. TTL is enforced by Redis (PEXPIRE on every key of
    a stream, refreshed by each append), so it follows the server's clock, not
    ``clock``. Options (URL query or ``config.options``): ``max_connections`` (16),
    ``retries`` (5) and ``retry_timeout`` (s, 15) for lost connections,
    ``block_ms`` (1000) for live follow, ``dedupe_window_ms`` (60000); ``prefix``
    and ``ttl`` (ms) may also be given in the URL.
    """

    def __init__(
        self,
        config: StorageAdapterConfig | None = None,
        *,
        prefix: str | None = None,
        ttl: int | None = None,
        clock: Clock | None = None,
        read_only: bool | None = None,
    ) -> None:
        cfg = config or StorageAdapterConfig(type="redis", connection="redis://127.0.0.1:6379/0")
        url, url_options = split_url_options(cfg.connection or "redis://127.0.0.1:6379/0",
                                             _OPTION_KEYS, "Redis")
        options: dict[str, Any] = {**url_options, **cfg.options}
        if prefix is None and cfg.prefix == "l0" and "prefix" in options:
            prefix = validate_prefix(options["prefix"])
        if ttl is None and cfg.ttl == 0 and "ttl" in options:
            ttl = int_option(options, "ttl", 0, 0)
        super().__init__(cfg, prefix=prefix, ttl=ttl, clock=clock, read_only=read_only)
        self._url = url
        self._max_connections = int_option(options, "max_connections", 16, 1)
        self._retries = int_option(options, "retries", 5, 0)
        self._retry_timeout = float(int_option(options, "retry_timeout", 15, 1))
        self._block_ms = int_option(options, "block_ms", 1000, 1)
        self._dedupe_window_ms = int_option(options, "dedupe_window_ms", 60_000, 1000)
        self._client: redis.asyncio.Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._scripted_reads = True
        self.layout_option = choose_layout(options.get("layout"))

    # ── keys ──

    def get_index_key(self) -> str:
        return f"{self.prefix}:streams"

    def describe(self) -> str:
        return mask_secrets(self.config.connection or self._url)

    # ── lifecycle ──

    async def open(self) -> RedisEventStore:
        """Connect and check the server answers (one clear error if it does not)."""
        if self._client is not None:
            return self
        try:
            # A blocking pool: a task waits for a free connection instead of failing
            # with "Too many connections" (live followers hold one each in XREAD).
            pool: redis.asyncio.BlockingConnectionPool = (
                redis.asyncio.BlockingConnectionPool.from_url(
                    self._url,
                    max_connections=self._max_connections,
                    timeout=10,
                    # No silent re-sends: an append is only retried by _run, which
                    # marks the retry so the script can detect a first attempt
                    # that committed.
                    retry=Retry(NoBackoff(), 0),
                    socket_connect_timeout=5,
                    socket_timeout=max(5.0, self._block_ms / 1000 + 2),
                )
            )
        except (ValueError, TypeError) as exc:
            raise StoreConfigError(f"bad Redis URL {self.describe()}: {exc}") from None
        client = redis.asyncio.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        try:
            await client.ping()
        except redis.exceptions.AuthenticationError as exc:
            await client.aclose(close_connection_pool=True)
            raise StoreConnectionError(
                f"Redis at {self.describe()} refused the credentials: {exc}"
            ) from None
        except (redis.exceptions.RedisError, OSError) as exc:
            await client.aclose(close_connection_pool=True)
            raise StoreConnectionError(
                f"cannot connect to Redis at {self.describe()}: {exc}"
            ) from None
        except TypeError as exc:  # an unknown URL query parameter reaches the connection
            await client.aclose(close_connection_pool=True)
            raise StoreConfigError(f"bad Redis URL {self.describe()}: {exc}") from None
        try:
            found = await inspect_redis_prefix(client, self.prefix)
        except (redis.exceptions.RedisError, OSError) as exc:
            await client.aclose(close_connection_pool=True)
            raise StoreConnectionError(f"Redis at {self.describe()}: {exc}") from None
        if found.layout in ("spec", "foreign"):
            await client.aclose(close_connection_pool=True)
            raise self._layout_refusal(found)
        self._client = client
        self._scripts = {
            "append": client.register_script(_APPEND_LUA),
            "snapshot": client.register_script(_SAVE_SNAPSHOT_LUA),
            "list": client.register_script(_LIST_LUA),
            "delete": client.register_script(_DELETE_LUA),
            "read": client.register_script(_READ_LUA),
        }
        return self

    def _layout_refusal(self, found: RedisPrefixContents) -> ForeignLayoutError:
        location = self.config.connection or self._url
        if found.layout == "foreign":
            return foreign_refusal(location, self.prefix, found.describe())
        what = f"LISTs {self.prefix}:stream:<id>, e.g. {found.key}"
        if not self.read_only:
            return spec_refusal(location, self.prefix, what)
        how = ("drop ?layout=l0core to read it" if self.layout_option == "l0core" else
               "open it with create_event_store(), which reads it (or ?layout=spec)")
        return ForeignLayoutError(
            f"{self.describe()} holds the spec example layout ({what}): {how}", "spec")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._client is not None:
            await self._client.aclose(close_connection_pool=True)
            self._client = None

    # ── running commands, with retries on lost connections ──

    async def _run(self, fn: Callable[[redis.asyncio.Redis, bool], Awaitable[T]], *,
                   keep_permission_errors: bool = False) -> T:
        """Run ``fn(client, is_retry)``; a lost connection is retried on a fresh one."""
        if self._closed:
            raise StoreClosedError(f"{type(self).__name__} is closed")
        client = self._client
        if client is None:
            raise StoreClosedError("RedisEventStore is not open: await store.open() first")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_timeout
        attempt = 0
        while True:
            if self._closed:  # closed while a retry was waiting
                raise StoreClosedError(f"{type(self).__name__} is closed")
            try:
                return await fn(client, attempt > 0)
            except redis.exceptions.AuthenticationError as exc:
                raise StoreConnectionError(
                    f"Redis at {self.describe()} refused the credentials: {exc}"
                ) from None
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    ConnectionError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
            except redis.exceptions.NoPermissionError as exc:
                if keep_permission_errors:
                    raise
                raise StoreConnectionError(
                    f"Redis at {self.describe()} refused: {exc}") from None
            except redis.exceptions.ResponseError as exc:
                if str(exc).startswith("WRONGTYPE"):
                    raise CorruptionError(
                        f"a key of prefix {self.prefix!r} holds another type than l0core "
                        f"writes ({str(exc).split(' script:')[0]})", path=self.describe()
                    ) from None
                raise StoreConnectionError(f"Redis at {self.describe()}: {exc}") from None
            attempt += 1
            if attempt > self._retries or loop.time() >= deadline:
                raise StoreConnectionError(
                    f"lost the connection to Redis at {self.describe()} "
                    f"({attempt} attempts): {reason}"
                ) from None
            await asyncio.sleep(min(1.0, 0.02 * 2 ** attempt))

    # ── writing ──

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        keys = [self.get_stream_key(stream_id), self.get_snapshot_key(stream_id),
                self.get_index_key()]
        head: list[bytes | str | int] = [
            stream_id,
            "" if expected_seq is None else str(expected_seq),
            self.ttl,
            secrets.token_hex(8),
        ]
        tail: list[bytes | str | int] = [self._dedupe_window_ms, *(dumps(e) for e in events)]
        script = self._scripts["append"]

        async def go(_client: redis.asyncio.Redis, retry: bool) -> list[int]:
            args = [*head, "1" if retry else "0", *tail]
            return cast(list[int], await script(keys=keys, args=args))

        reply = await self._run(go)
        status, last = int(reply[0]), int(reply[1])
        if status == 3:
            key, found = (x.decode() if isinstance(x, bytes) else str(x) for x in reply[2:4])
            raise ForeignLayoutError(
                f"{self.describe()}: key {key} holds a {found}, which l0core did not write; "
                "nothing was written (choose another prefix with ?prefix=NAME)", "foreign")
        if status == 1:
            raise ConcurrencyConflictError(stream_id, -1 if expected_seq is None
                                           else expected_seq, last)
        return last

    async def delete(self, stream_id: str) -> None:
        self._check_writable()
        validate_stream_id(stream_id)
        keys = [self.get_stream_key(stream_id), self.get_snapshot_key(stream_id),
                self.get_index_key()]
        script = self._scripts["delete"]

        async def go(_client: redis.asyncio.Redis, _retry: bool) -> Any:
            return await script(keys=keys, args=[stream_id])

        await self._run(go)

    # ── reading ──

    def _envelopes(self, stream_id: str, entries: Sequence[Entry]) -> list[EventEnvelope]:
        return [EventEnvelope(stream_id, _seq_of(eid), decode_event(loads(fields[b"e"])))
                for eid, fields in entries]

    async def _xrange(
        self, stream_id: str, lo: str, hi: str, count: int | None = None
    ) -> list[Entry]:
        key = self.get_stream_key(stream_id)

        async def go(client: redis.asyncio.Redis, _retry: bool) -> list[Entry]:
            return cast(list[Entry], await client.xrange(key, lo, hi, count=count))

        return await self._run(go)

    async def _read_page(
        self, stream_id: str, lo: str, hi: str, count: int
    ) -> tuple[list[EventEnvelope], str | None]:
        """Up to ``count`` events from ``lo`` to ``hi``, and the id to continue after."""
        key = self.get_stream_key(stream_id)
        script = self._scripts["read"]

        async def go(_client: redis.asyncio.Redis, _retry: bool) -> list[bytes]:
            return cast(list[bytes], await script(keys=[key], args=[lo, hi, count]))

        if not self._scripted_reads:
            entries = await self._xrange(stream_id, lo, hi, count=count)
            cont = "(" + entries[-1][0].decode() if entries else None
            return self._envelopes(stream_id, entries), cont
        try:
            reply = await self._run(go, keep_permission_errors=True)
        except redis.exceptions.NoPermissionError:
            # A user allowed to read but not to run scripts (e.g. ACL +@read):
            # plain XRANGE from now on.
            self._scripted_reads = False
            return await self._read_page(stream_id, lo, hi, count)
        if not reply:
            return [], None
        first, last = _seq_of(reply[0]), _seq_of(reply[1])
        events = loads(reply[2])
        if len(events) != last - first + 1:  # not contiguous: never written by this store
            entries = await self._xrange(stream_id, lo, hi, count=count)
            envs = self._envelopes(stream_id, entries)
        else:
            envs = [EventEnvelope(stream_id, first + i, decode_event(e))
                    for i, e in enumerate(events)]
        return envs, "(" + reply[1].decode()

    async def get_events(self, stream_id: str) -> list[EventEnvelope]:
        return await self.read_events(stream_id)

    async def read_events(
        self, stream_id: str, *, from_seq: int = 0, to_seq: int | None = None
    ) -> list[EventEnvelope]:
        validate_stream_id(stream_id)
        if to_seq is not None and to_seq < max(0, from_seq):
            return []
        out: list[EventEnvelope] = []
        async for batch in self._pages(stream_id, from_seq, to_seq, _READ_PAGE):
            out.extend(batch)
        return out

    async def _pages(
        self, stream_id: str, from_seq: int, to_seq: int | None, size: int
    ) -> AsyncIterator[list[EventEnvelope]]:
        lo: str | None = _entry_id(max(0, from_seq))
        hi = "+" if to_seq is None else _entry_id(to_seq)
        while lo is not None:
            batch, lo = await self._read_page(stream_id, lo, hi, size)
            if batch:
                yield batch
            if len(batch) < size:
                return

    async def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]:
        """Pages of ``batch_size`` events: memory stays flat on long streams."""
        validate_stream_id(stream_id)
        async for batch in self._pages(stream_id, from_seq, None, max(1, batch_size)):
            yield batch

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)
        key = self.get_stream_key(stream_id)

        async def go(client: redis.asyncio.Redis, _retry: bool) -> list[Entry]:
            return cast(list[Entry], await client.xrevrange(key, "+", "-", count=1))

        envs = self._envelopes(stream_id, await self._run(go))
        return envs[0] if envs else None

    async def get_last_seq(self, stream_id: str) -> int:
        validate_stream_id(stream_id)
        key = self.get_stream_key(stream_id)

        async def go(client: redis.asyncio.Redis, _retry: bool) -> list[Entry]:
            return cast(list[Entry], await client.xrevrange(key, "+", "-", count=1))

        top = await self._run(go)
        return _seq_of(top[0][0]) if top else -1

    async def exists(self, stream_id: str) -> bool:
        validate_stream_id(stream_id)
        key = self.get_stream_key(stream_id)

        async def go(client: redis.asyncio.Redis, _retry: bool) -> int:
            return int(await client.exists(key))

        return await self._run(go) > 0

    async def list_streams(self) -> list[str]:
        idx = self.get_index_key()
        if self.read_only:
            async def go(client: redis.asyncio.Redis, _retry: bool) -> list[bytes]:
                secs, micros = await client.time()
                now = int(secs) * 1000 + int(micros) // 1000
                return cast(list[bytes], await client.zrangebyscore(idx, f"({now}", "+inf"))
        else:
            script = self._scripts["list"]

            async def go(client: redis.asyncio.Redis, _retry: bool) -> list[bytes]:
                return cast(list[bytes], await script(keys=[idx]))

        return sorted(sid.decode() for sid in await self._run(go))

    # ── snapshots ──

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_writable()
        data = dumps(encode_snapshot(snapshot))
        keys = [self.get_snapshot_key(snapshot.stream_id), self.get_stream_key(snapshot.stream_id)]
        script = self._scripts["snapshot"]

        async def go(_client: redis.asyncio.Redis, _retry: bool) -> Any:
            return await script(keys=keys, args=[snapshot.seq, data, self.ttl])

        await self._run(go)

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        key = self.get_snapshot_key(stream_id)

        async def go(client: redis.asyncio.Redis, _retry: bool) -> list[bytes]:
            return cast(list[bytes], await client.zrange(key, 0, -1))

        return [decode_snapshot(loads(raw)) for raw in await self._run(go)]

    async def get_snapshot_before(self, stream_id: str, seq: int) -> Snapshot | None:
        validate_stream_id(stream_id)
        key = self.get_snapshot_key(stream_id)

        async def go(client: redis.asyncio.Redis, _retry: bool) -> list[bytes]:
            return cast(list[bytes], await client.zrevrangebyscore(key, seq, "-inf", start=0,
                                                                   num=1))

        found = await self._run(go)
        return decode_snapshot(loads(found[0])) if found else None

    # ── live follow: blocking XREAD ──

    async def _wait_for_append(self, stream_id: str, last_seq: int, timeout: float) -> None:
        """Block in XREAD until an entry after ``last_seq`` exists (or ``block_ms`` passes)."""
        key = self.get_stream_key(stream_id)
        after = _entry_id(last_seq)

        async def go(client: redis.asyncio.Redis, _retry: bool) -> Any:
            return await client.xread({key: after}, count=1, block=self._block_ms)

        try:
            await self._run(go)
        except StoreConnectionError:
            await asyncio.sleep(timeout)

    # ── maintenance ──

    async def drop_all(self) -> int:
        """Delete every key of this prefix (SCAN, for clean-up tools); returns how many."""
        self._check_writable()

        async def go(client: redis.asyncio.Redis, _retry: bool) -> int:
            n = 0
            batch: list[bytes] = []
            async for key in client.scan_iter(match=f"{self.prefix}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    n += int(await client.unlink(*batch))
                    batch.clear()
            if batch:
                n += int(await client.unlink(*batch))
            return n

        return await self._run(go)


async def create_redis_event_store(
    url: str = "redis://127.0.0.1:6379/0",
    *,
    prefix: str = "l0",
    ttl: int = 0,
    options: Mapping[str, Any] | None = None,
    read_only: bool = False,
) -> RedisEventStore:
    """Open a :class:`RedisEventStore` on ``url`` (``redis://[:password@]host:6379/db``)."""
    cfg = StorageAdapterConfig(type="redis", connection=url, prefix=validate_prefix(prefix),
                               ttl=ttl, options=dict(options or {}), read_only=read_only)
    return await RedisEventStore(cfg).open()


async def open_store(config: StorageAdapterConfig) -> BaseEventStore:
    """Registry entry for ``redis://`` and ``rediss://``.

    A read-only open of a prefix in the spec example layout (or ``?layout=spec``)
    gives the read-only :class:`~l0core.stores.redis_spec.SpecRedisEventStore`.
    """
    from l0core.stores.redis_spec import SpecRedisEventStore

    return await open_own_or_spec(RedisEventStore(config),
                                  lambda: SpecRedisEventStore(config).open())
