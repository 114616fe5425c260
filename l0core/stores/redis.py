"""``RedisEventStore``: streams in Redis Streams, with server-side expiry and a catalog.

Keys (l0core.stores.redis_keys; on one node, prefix ``l0``):

- ``l0:stream:<id>``: a Redis Stream; the event with seq ``n`` is the entry
  with id ``0-<n+1>``, so Redis itself refuses a second entry for a seq.
- ``l0:snapshot:<id>``: a sorted set of snapshot JSON scored by seq.
- ``l0:streams``: the index, a sorted set of stream ids scored by expiry
  time (ms, ``+inf`` without TTL), so ``list_streams`` needs no ``KEYS``/``SCAN``.
- ``l0:summary:<id>``, ``l0:content:<id>``, ``l0:catalog``, ``l0:cat:*``: the catalog
  (l0core.stores.redis_catalog).

Every append is ONE Lua script (l0core.stores.redis_scripts): it reads the last seq
from the stream's top entry, checks ``expected_seq``, XADDs the events, refreshes
PEXPIRE, updates the index, and writes the summary and its sorted-set entries,
atomically. The summary is computed here, by the catalog's own fold, from the
summary the stream had (remembered from this store's last append to it, or sent
back by the script when another writer got there first): the script applies it only
if the stream is still in that state, so summary and events never disagree. The
last entry of each batch carries a client-made batch id and the server time, so a
retry after a lost reply finds its own batch instead of writing it twice.

On a Redis Cluster (``redis+cluster://h1:7000,h2:7001``) every key of a stream and
of its shard shares one hash tag, so the same scripts run there; ``WAIT`` after the
script makes an append acknowledged only once a replica has it
(l0core.stores.redis_cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import redis.asyncio
import redis.exceptions
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery
from l0core.catalog.scan import Progress
from l0core.catalog.summary import StreamSummary, advance_summary, final_content
from l0core.codec import decode_event, decode_snapshot, dumps, encode_event, encode_snapshot, loads
from l0core.errors import (
    ConcurrencyConflictError,
    CorruptionError,
    StoreClosedError,
    StoreConfigError,
    StoreConnectionError,
)
from l0core.events import EventEnvelope, JSONDict, Snapshot, validate_stream_id
from l0core.stores import redis_scripts as lua
from l0core.stores.base import (
    BaseEventStore,
    BaseEventStoreWithSnapshots,
    Clock,
    StorageAdapterConfig,
    validate_prefix,
)
from l0core.stores.batch_summary import (
    TOKENS,
    TokenMoves,
    advance,
    after_tokens,
    apply_tokens,
    kinds_of,
)
from l0core.stores.layouts import (
    ForeignLayoutError,
    choose_layout,
    foreign_refusal,
    open_own_or_spec,
    spec_refusal,
)
from l0core.stores.options import int_option
from l0core.stores.redis_catalog import (
    LIVE_FIELDS,
    content_change,
    index_entries,
    needs_content_before,
    order_set,
    pairs_to_dict,
    running_token_fields,
    summary_changes,
    summary_from_hash,
    token_changes,
)
from l0core.stores.redis_cluster import (
    RETRYABLE,
    connected_replicas,
    is_cluster_url,
    make_cluster_client,
    refresh_slots,
    run_on_owner,
)
from l0core.stores.redis_keys import DEFAULT_SHARDS, RedisKeys
from l0core.stores.redis_layout import (
    RedisPrefixContents,
    inspect_cluster_prefix,
    inspect_redis_prefix,
)
from l0core.stores.redis_query import CatalogReader
from l0core.stores.redis_replicas import ReplicaWait
from l0core.stores.redis_upkeep import build_summaries, sweep, wait_for_publish
from l0core.stores.urls import mask_secrets, split_url_options

__all__ = ["RedisEventStore", "create_redis_event_store", "open_store"]

T = TypeVar("T")
Entry = tuple[bytes, dict[bytes, bytes]]
Client = redis.asyncio.Redis | RedisCluster

OPTION_KEYS = {"prefix", "ttl", "retries", "retry_timeout", "block_ms", "dedupe_window_ms",
               "max_connections", "layout", "poll_interval", "wait_replicas",
               "wait_timeout_ms", "shards", "sweep_interval", "notify"}
"""The store's own URL options; every other query parameter goes to redis-py."""

_READ_PAGE = 10_000
_KNOWN_STREAMS = 4096
"""Summaries remembered per store (LRU): a stream appended to again starts from it."""
_RUNNING_UNSORTED = "running_unsorted"
"""Meta field: running streams have no members in the live-field sets (the layout
since then; a writable open of an older store drops those sets)."""
_MAX_STALE = 10_000
"""Stale-summary rounds before giving up (each one means another writer appended)."""


def _seq_of(entry_id: bytes) -> int:
    return int(entry_id.rpartition(b"-")[2]) - 1


def _entry_id(seq: int) -> str:
    return f"0-{seq + 1}"


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


@dataclass(slots=True)
class Basis:
    """The state of one stream an append computes its summary from.

    ``batch``/``last`` identify the stream's state (its top entry's batch id and last
    seq; ``""``/-1 when it has no events); ``summary`` is its summary there;
    ``hash_batch`` is the batch id the stored summary hash records and ``entries``
    the catalog entries stored for it, which the append replaces. ``rewrite``: the
    stored hash is not this summary (none yet, or a leftover) and is written anew.
    ``expiring``: the stream had a TTL (so an append without one must ``PERSIST``).
    """

    batch: str
    last: int
    hash_batch: str
    summary: StreamSummary
    entries: dict[str, str] | None
    """None: those of ``summary`` (computed when an append needs them)."""
    rewrite: bool
    expiring: bool = False
    content: str | None = None
    """The content folded so far, when the summary was folded from the events."""


def _empty_basis(stream_id: str) -> Basis:
    return Basis("", -1, "", StreamSummary(stream_id=stream_id), {}, True)


@dataclass(slots=True)
class _Plan:
    """One append's arguments beyond the events, computed from a :class:`Basis`."""

    summary: StreamSummary
    entries: dict[str, str]
    fields: list[str | bytes] = field(default_factory=list)
    sets: list[tuple[str, str]] = field(default_factory=list)
    """(set key, op) for each catalog set that changes."""
    content_op: str = ""
    content: str = ""
    tokens: TokenMoves | None = None
    """A TOKEN batch to a running stream: ``summary`` is the basis's own, which these
    move on once the batch is written (no copy per append)."""


class RedisEventStore(BaseEventStoreWithSnapshots):
    """Event store on Redis Streams (redis-py asyncio), one node or a cluster.

    Create it with :func:`create_event_store` (``redis://host:6379/0`` or
    ``redis+cluster://h1:7000,h2:7001/``), or construct it and ``await store.open()``.
    TTL is enforced by Redis (PEXPIRE on every key of a stream, refreshed by each
    append), so it follows the server's clock, not ``clock``. Options (URL query or
    ``config.options``) are listed in docs/format.md; ``prefix`` and ``ttl`` (ms) may
    also be given in the URL.
    """

    keeps_summaries = True

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
                                             OPTION_KEYS, "Redis")
        options: dict[str, Any] = {**url_options, **cfg.options}
        if prefix is None and cfg.prefix == "l0" and "prefix" in options:
            prefix = validate_prefix(options["prefix"])
        if ttl is None and cfg.ttl == 0 and "ttl" in options:
            ttl = int_option(options, "ttl", 0, 0)
        super().__init__(cfg, prefix=prefix, ttl=ttl, clock=clock, read_only=read_only)
        self._url = url
        self.clustered = is_cluster_url(url)
        cluster = self.clustered
        self._max_connections = int_option(options, "max_connections", 32 if cluster else 16, 1)
        self._gate: contextlib.AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext() if cluster else asyncio.Semaphore(self._max_connections))
        """Admits ``max_connections`` commands at a time, first come first served. The
        blocking pool alone is not fair: a task that just gave a connection back takes
        it again before a waiter wakes, so with many writers one could wait its whole
        10 s timeout ("No connection available") while others went on. (A cluster's
        pools are per node and refuse instead of waiting; _run retries those.)"""
        self._retries = int_option(options, "retries", 60 if cluster else 5, 0)
        self._retry_timeout = float(int_option(options, "retry_timeout", 15, 1))
        self._block_ms = int_option(options, "block_ms", 1000, 1)
        self._dedupe_window_ms = int_option(options, "dedupe_window_ms", 60_000, 1000)
        self._wait = ReplicaWait(int_option(options, "wait_replicas", 1 if cluster else 0, 0),
                                 int_option(options, "wait_timeout_ms", 1000, 1))
        self._shards_option = int_option(options, "shards", DEFAULT_SHARDS, 1)
        self._sweep_interval = float(int_option(options, "sweep_interval", 60, 1))
        self._client: Client | None = None
        self._scripts: dict[str, Any] = {}
        self._scripted_reads = True
        self.layout_option = choose_layout(options.get("layout"))
        self.keys = RedisKeys(self.prefix)
        self._known: OrderedDict[str, Basis] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        self._clock_offset = 0.0
        self._catalog_built = False
        self._build_lock = asyncio.Lock()
        self._sweeper: asyncio.Task[None] | None = None
        self.pubsub: Any = None
        """The catalog followers' subscription (l0core.stores.redis_upkeep), once made."""
        self._publish = "SPUBLISH" if cluster else "PUBLISH"
        self._notify = str(options.get("notify", "true")).lower() not in ("false", "0", "no")

    # ── keys ──

    def get_stream_key(self, stream_id: str) -> str:
        return self.keys.stream(stream_id)

    def get_snapshot_key(self, stream_id: str) -> str:
        return self.keys.snapshot(stream_id)

    def get_index_key(self) -> str:
        return self.keys.index(0)

    def describe(self) -> str:
        return mask_secrets(self.config.connection or self._url)

    def channel(self, shard: int) -> str:
        """Where the scripts publish changed ids ("" with ``notify=false``)."""
        return self.keys.channel(shard) if self._notify else ""

    @property
    def wait_replicas(self) -> int:
        """Replicas an append waits for (``WAIT``) before it is acknowledged."""
        return self._wait.replicas

    @property
    def client(self) -> Client:
        if self._client is None:
            raise StoreClosedError("RedisEventStore is not open: await store.open() first")
        return self._client

    # ── lifecycle ──

    async def open(self) -> RedisEventStore:
        """Connect, check the server answers and what the prefix holds (one clear error)."""
        if self._client is not None:
            return self
        client = await self._connect()
        try:
            found = await self._inspect(client)
            if found.layout in ("spec", "foreign"):
                raise self._layout_refusal(found)
            await self._read_meta(client, found)
            secs, micros = await client.time()
            self._clock_offset = int(secs) * 1000 + int(micros) / 1000 - time.time() * 1000
        except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException,
                OSError) as exc:
            await self._close_client(client)
            raise StoreConnectionError(f"Redis at {self.describe()}: {exc}") from None
        except BaseException:
            await self._close_client(client)
            raise
        self._client = client
        self._scripts = {name: client.register_script(src) for name, src in (
            ("append", lua.APPEND), ("put", lua.PUT_SUMMARY), ("remove", lua.REMOVE),
            ("snapshot", lua.SAVE_SNAPSHOT), ("read", lua.READ), ("gather", lua.GATHER),
            ("gather_packed", lua.GATHER_PACKED))}
        if not self.read_only:
            self._sweeper = asyncio.create_task(self._sweep_loop())
        return self

    async def _connect(self) -> Client:
        socket_timeout = max(5.0, self._block_ms / 1000 + 2)
        client: Client
        if self.clustered:
            client = make_cluster_client(self._url, max_connections=self._max_connections,
                                         socket_timeout=socket_timeout)
        else:
            try:
                # A blocking pool: a task waits for a free connection instead of failing
                # with "Too many connections" (live followers hold one each in XREAD).
                pool: redis.asyncio.BlockingConnectionPool = (
                    redis.asyncio.BlockingConnectionPool.from_url(
                        self._url,
                        max_connections=self._max_connections + 1,  # + the subscription
                        timeout=10,
                        # No silent re-sends: an append is only retried by _run, which
                        # marks the retry so the script can detect a first attempt
                        # that committed.
                        retry=Retry(NoBackoff(), 0),
                        socket_connect_timeout=5,
                        socket_timeout=socket_timeout,
                    )
                )
            except (ValueError, TypeError) as exc:
                raise StoreConfigError(f"bad Redis URL {self.describe()}: {exc}") from None
            client = redis.asyncio.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        try:
            if isinstance(client, RedisCluster):
                await client.initialize()
            await client.ping()
        except redis.exceptions.AuthenticationError as exc:
            await self._close_client(client)
            raise StoreConnectionError(
                f"Redis at {self.describe()} refused the credentials: {exc}"
            ) from None
        except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException,
                OSError) as exc:
            await self._close_client(client)
            raise StoreConnectionError(
                f"cannot connect to Redis at {self.describe()}: {exc}"
            ) from None
        except TypeError as exc:  # an unknown URL query parameter reaches the connection
            await self._close_client(client)
            raise StoreConfigError(f"bad Redis URL {self.describe()}: {exc}") from None
        return client

    @staticmethod
    async def _close_client(client: Client) -> None:
        with contextlib.suppress(Exception):
            if isinstance(client, RedisCluster):
                await client.aclose()
            else:
                await client.aclose(close_connection_pool=True)

    async def _inspect(self, client: Client) -> RedisPrefixContents:
        if isinstance(client, RedisCluster):
            if self.layout_option == "spec":
                raise StoreConfigError(
                    f"{self.describe()}: the spec example layout is read on a single Redis "
                    "node only")
            return await inspect_cluster_prefix(client, self.prefix,
                                                RedisKeys(self.prefix, 1).meta())
        return await inspect_redis_prefix(client, self.prefix)

    async def _read_meta(self, client: Client, found: RedisPrefixContents) -> None:
        """The shard count (cluster), and whether every stream has its summary."""
        meta = RedisKeys(self.prefix, 1 if self.clustered else None).meta()
        if found.layout == "empty" and not self.read_only:
            count = str(self._shards_option) if self.clustered else ""
            await client.eval(lua.CREATE_META, 1, meta, count)
        stored = await client.hmget(meta, ["shards", "built", _RUNNING_UNSORTED])
        shards = int(stored[0]) if stored[0] is not None else self._shards_option
        self.keys = RedisKeys(self.prefix, shards if self.clustered else None)
        self._catalog_built = stored[1] is not None
        if not self.read_only and stored[2] is None:
            await self._drop_running_live_sets(client, meta)
        if self.read_only and not self._catalog_built and found.layout != "empty":
            self.keeps_summaries = False  # written before the catalog: scan it

    async def _drop_running_live_sets(self, client: Client, meta: str) -> None:
        """Delete the ``o:running:<live field>`` sets that stores written before running
        streams were left out of them still hold (nothing reads them now)."""
        for shard in range(self.keys.shard_count()):
            for name in LIVE_FIELDS:
                await client.delete(self.keys.cat(shard, order_set("running", name)))
        await client.hset(meta, _RUNNING_UNSORTED, 1)

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
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(BaseException):
                await self._sweeper
            self._sweeper = None
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()
            self.pubsub = None
        if self._client is not None:
            await self._close_client(self._client)
            self._client = None

    # ── running commands, with retries on lost connections ──

    async def _run(self, fn: Callable[[Client, bool], Awaitable[T]], *,
                   keep_permission_errors: bool = False) -> T:
        """Run ``fn(client, is_retry)``; a lost connection is retried on a fresh one."""
        if self._closed:
            raise StoreClosedError(f"{type(self).__name__} is closed")
        client = self.client
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_timeout
        attempt = 0
        while True:
            if self._closed:  # closed while a retry was waiting
                raise StoreClosedError(f"{type(self).__name__} is closed")
            try:
                async with self._gate:
                    return await fn(client, attempt > 0)
            except redis.exceptions.AuthenticationError as exc:
                raise StoreConnectionError(
                    f"Redis at {self.describe()} refused the credentials: {exc}"
                ) from None
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    ConnectionError, OSError, *RETRYABLE,
                    redis.exceptions.RedisClusterException) as exc:
                reason = str(exc) or type(exc).__name__
                if isinstance(client, RedisCluster):
                    await refresh_slots(client)
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
            await asyncio.sleep(min(1.0, 0.02 * 2 ** attempt, max(0.0, deadline - loop.time())))

    def server_now(self) -> float:
        """The Redis server's clock (ms), from the offset measured at open."""
        return time.time() * 1000 + self._clock_offset

    # ── writing ──

    async def _append_wire(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        lock, users = self._locks.get(stream_id) or self._locks.setdefault(
            stream_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:  # this store's own appends to one stream queue here
                return await self._append_locked(stream_id, events, expected_seq)
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[stream_id]

    async def _append_locked(
        self, stream_id: str, events: Sequence[JSONDict], expected_seq: int | None
    ) -> int:
        basis = self._known.pop(stream_id, None) or _empty_basis(stream_id)
        batch = secrets.token_hex(8)
        payload = [dumps(e) for e in events]
        lost = False  # an attempt may have reached the server: later ones say retry
        wait_until = asyncio.get_running_loop().time() + self._retry_timeout
        for _ in range(_MAX_STALE):
            plan = self._plan(stream_id, events, basis)
            if plan.content_op == "?":
                await self._complete_content(stream_id, events, plan)
            reply, lost, acked = await self._send_append(stream_id, plan, basis, expected_seq,
                                                         batch, payload, lost)
            status = int(reply[0])
            if status == 4:
                basis = await self._basis_from(stream_id, reply)
                continue
            if status == 3:
                key, found = (_text(x) for x in reply[2:4])
                raise ForeignLayoutError(
                    f"{self.describe()}: key {key} holds a {found}, which l0core did not "
                    "write; nothing was written (choose another prefix with ?prefix=NAME)",
                    "foreign")
            if status == 1:
                self._remember(stream_id, basis)
                raise ConcurrencyConflictError(stream_id, -1 if expected_seq is None
                                               else expected_seq, int(reply[1]))
            last = int(reply[1])
            if acked is not None and not await self._replicated(stream_id, acked,
                                                                  wait_until):
                lost = True  # send again as a retry: it finds the batch and WAITs again
                continue
            if status == 0 and plan.tokens is not None:  # the basis, moved on in place
                apply_tokens(basis.summary, plan.tokens)
                basis.batch = basis.hash_batch = batch
                basis.last, basis.expiring, basis.content = last, self.ttl > 0, None
                self._remember(stream_id, basis)
            elif status == 0:
                self._remember(stream_id, Basis(batch, last, batch, plan.summary,
                                                plan.entries, False, self.ttl > 0))
            return last
        raise StoreConnectionError(f"{self.describe()}: stream {stream_id!r} changed under "
                                   f"{_MAX_STALE} appends in a row; giving up")

    def _remember(self, stream_id: str, basis: Basis) -> None:
        self._known[stream_id] = basis
        if len(self._known) > _KNOWN_STREAMS:
            self._known.popitem(last=False)

    def _plan(self, stream_id: str, events: Sequence[JSONDict], basis: Basis) -> _Plan:
        """The new summary, its hash fields, set changes and content, from ``basis``.

        ``plan.content_op`` is ``"?"`` when the content folded so far is needed first
        (:meth:`_complete_content`)."""
        before = basis.summary
        kinds = kinds_of(events)
        entries = basis.entries
        if entries is None:
            entries = index_entries(before)
        if kinds == TOKENS and not basis.rewrite and before.status == "running":
            # most appends: only the hash changes, and the basis moves on in place
            moves = after_tokens(before, events)
            return _Plan(before, entries, fields=running_token_fields(before, moves),
                         tokens=moves)
        after = before.copy()
        advance(after, events, kinds)  # advance_summary, shortcut for TOKEN-only batches
        if not basis.rewrite and kinds == TOKENS:
            changes = token_changes(before, after, entries)
        else:
            changes = summary_changes(before, after, entries, basis.rewrite)
        plan = _Plan(after, changes.entries, fields=changes.fields)
        if changes.sets:
            cat, shard = self.keys.cat, self.keys.shard_of(stream_id)
            plan.sets = [(cat(shard, name), op) for name, op in changes.sets]
        if after.status != "running":
            ended_before = before.status != "running" and not basis.rewrite
            text = basis.content
            if text is None and before.event_count == 0:
                text = ""
            if text is None and needs_content_before(ended_before, True, events):
                plan.content_op = "?"
            else:
                change = content_change(ended_before, True, events, text)
                if change is not None:
                    plan.content_op, plan.content = change
        return plan

    async def _complete_content(self, stream_id: str, events: Sequence[JSONDict],
                                plan: _Plan) -> None:
        """The first end of a stream without a COMPLETE: fold its content once."""
        change = content_change(False, True, events, await self.fold_content(stream_id))
        assert change is not None
        plan.content_op, plan.content = change

    async def _send_append(
        self, stream_id: str, plan: _Plan, basis: Basis, expected_seq: int | None,
        batch: str, payload: list[bytes], lost: bool,
    ) -> tuple[list[Any], bool, int | None]:
        """Run the append script (then WAIT, when replicas are asked for).

        Returns (reply, whether any attempt may have reached the server, replicas
        that confirmed or None when not asked).
        """
        keys = self.keys
        shard = keys.shard_of(stream_id)
        call = lua.append_call(
            stream_keys=(keys.stream(stream_id), keys.snapshot(stream_id), keys.index(shard),
                         keys.summary(stream_id), keys.content(stream_id),
                         keys.catalog(shard)),
            stream_id=stream_id, expected_seq=expected_seq, ttl=self.ttl, batch=batch,
            window_ms=self._dedupe_window_ms, basis_batch=basis.batch,
            basis_last=basis.last, hash_batch=basis.hash_batch, rewrite=basis.rewrite,
            expiring=basis.expiring, content_op=plan.content_op, content=plan.content,
            channel=self.channel(shard), publish=self._publish, fields=plan.fields,
            sets=plan.sets, payload=payload)
        script = self._scripts["append"]
        state = {"lost": lost}

        async def go(client: Client, retry: bool) -> tuple[list[Any], int | None]:
            state["lost"] = state["lost"] or retry
            args = call.args(state["lost"])
            if self._wait.replicas == 0:
                return cast(list[Any], await script(keys=call.keys, args=args)), None
            return await self._append_and_wait(client, script.sha, call.keys, args)

        reply, acked = await self._run(go)
        return reply, state["lost"], acked

    def _master_of(self, client: Client, key: str) -> str:
        if isinstance(client, RedisCluster):
            node = client.get_node_from_key(key, replica=False)
            return "" if node is None else node.name
        return ""

    async def _append_and_wait(self, client: Client, sha: str, keys: list[str],
                               args: list[Any]) -> tuple[list[Any], int | None]:
        """The script then ``WAIT`` on the same connection (WAIT counts that
        connection's writes); returns the reply and the replicas that confirmed."""
        target = self._wait.target(self._master_of(client, keys[0]))
        commands: list[tuple[Any, ...]] = [("EVALSHA", sha, len(keys), *keys, *args)]
        if target > 0:
            commands.append(("WAIT", target, self._wait.timeout_ms))
        if isinstance(client, RedisCluster):
            results = await run_on_owner(client, keys[0], commands, lua.APPEND)
        else:
            results = []
            for _ in range(2):
                pipe = client.pipeline(transaction=False)
                for command in commands:
                    pipe.execute_command(*command)
                results = await pipe.execute(raise_on_error=False)
                if not isinstance(results[0], redis.exceptions.NoScriptError):
                    break
                await client.script_load(lua.APPEND)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return cast(list[Any], results[0]), int(results[1]) if target > 0 else 0

    async def _replicated(self, stream_id: str, acked: int, wait_until: float) -> bool:
        """True when enough replicas confirmed (l0core.stores.redis_replicas)."""
        key = self.keys.stream(stream_id)
        client = self.client

        async def count(client: Client, _retry: bool) -> int:
            if isinstance(client, RedisCluster):
                return await connected_replicas(client, key)
            role = await client.role()
            return len(role[2]) if _text(role[0]) == "master" else 0

        if await self._wait.confirmed(self._master_of(client, key), acked,
                                      lambda: self._run(count)):
            return True
        if asyncio.get_running_loop().time() >= wait_until:
            raise StoreConnectionError(
                f"{self.describe()}: the append to {stream_id!r} is on the master, but only "
                f"{acked} of {self._wait.replicas} replica(s) confirmed it within "
                f"{self._retry_timeout:.0f} s; do not append it again")
        return False

    async def _basis_from(self, stream_id: str, reply: Sequence[Any]) -> Basis:
        """The basis a stale reply describes: the stream's state and its stored hash."""
        last, top = int(reply[1]), _text(reply[2])
        stored = pairs_to_dict(list(reply[3:]))
        old: StreamSummary | None = None
        hash_batch = ""
        expiring = False
        if stored:
            old, hash_batch, expiry = summary_from_hash(stream_id, stored)
            expiring = expiry is not None
        old_entries = index_entries(old) if old is not None else {}
        if last == -1:  # a new stream (perhaps where an expired one left its summary)
            return Basis("", -1, hash_batch, StreamSummary(stream_id=stream_id), old_entries,
                         True)
        if old is not None and hash_batch == top:
            return Basis(top, last, hash_batch, old, old_entries, False, expiring)
        # Written before the catalog, or by a writer that kept no summary: fold it.
        summary, content = await self.fold(stream_id)
        return Basis(top, last, hash_batch, summary, old_entries, True, True, content)

    async def fold(self, stream_id: str) -> tuple[StreamSummary, str]:
        """The summary and final content of the stream as stored now, from its events."""
        summary = StreamSummary(stream_id=stream_id)
        content = ""
        async for batch in self.iter_batches(stream_id):
            wire = [encode_event(env.event) for env in batch]
            advance_summary(summary, wire)
            content = final_content(wire, content)
        return summary, content

    async def fold_content(self, stream_id: str) -> str:
        """The final content folded from the events (text search of running streams)."""
        return (await self.fold(stream_id))[1]

    async def delete(self, stream_id: str) -> None:
        self._check_writable()
        validate_stream_id(stream_id)
        self._known.pop(stream_id, None)
        await self.remove_stream(stream_id, only_if_gone=False)

    async def remove_stream(self, stream_id: str, *, only_if_gone: bool) -> bool:
        """Delete a stream with its summary and catalog entries; with ``only_if_gone``
        only when its events expired (the sweep). True when something was removed."""
        keys = self.keys
        shard = keys.shard_of(stream_id)
        script = self._scripts["remove"]
        for _ in range(_MAX_STALE):
            raw = await self._run(lambda c, _r: cast(Awaitable[dict[bytes, bytes]],
                                                     c.hgetall(keys.summary(stream_id))))
            entries: dict[str, str] = {}
            hash_batch = ""
            if raw:
                summary, hash_batch, _ = summary_from_hash(stream_id, raw)
                entries = index_entries(summary)
            names = list(entries)
            script_keys = [keys.stream(stream_id), keys.snapshot(stream_id),
                           keys.index(shard), keys.summary(stream_id),
                           keys.content(stream_id), keys.catalog(shard),
                           *(keys.cat(shard, n) for n in names)]
            args = [stream_id, hash_batch, self.channel(shard), self._publish,
                    "gone" if only_if_gone else "any", *(entries[n] for n in names)]

            async def go(_client: Client, _retry: bool,
                         script_keys: list[str] = script_keys,
                         args: list[Any] = args) -> list[Any]:
                return cast(list[Any], await script(keys=script_keys, args=args))

            status = int((await self._run(go))[0])
            if status != 4:
                return status == 0
        return False

    # ── reading ──

    def _envelopes(self, stream_id: str, entries: Sequence[Entry]) -> list[EventEnvelope]:
        return [EventEnvelope(stream_id, _seq_of(eid), decode_event(loads(fields[b"e"])))
                for eid, fields in entries]

    async def _xrange(
        self, stream_id: str, lo: str, hi: str, count: int | None = None
    ) -> list[Entry]:
        key = self.keys.stream(stream_id)

        async def go(client: Client, _retry: bool) -> list[Entry]:
            return cast(list[Entry], await client.xrange(key, lo, hi, count=count))

        return await self._run(go)

    async def _read_page(
        self, stream_id: str, lo: str, hi: str, count: int
    ) -> tuple[list[EventEnvelope], str | None]:
        """Up to ``count`` events from ``lo`` to ``hi``, and the id to continue after."""
        key = self.keys.stream(stream_id)
        script = self._scripts["read"]

        async def go(_client: Client, _retry: bool) -> list[bytes]:
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

    async def _top(self, stream_id: str) -> list[Entry]:
        key = self.keys.stream(stream_id)

        async def go(client: Client, _retry: bool) -> list[Entry]:
            return cast(list[Entry], await client.xrevrange(key, "+", "-", count=1))

        return await self._run(go)

    async def get_last_event(self, stream_id: str) -> EventEnvelope | None:
        validate_stream_id(stream_id)
        envs = self._envelopes(stream_id, await self._top(stream_id))
        return envs[0] if envs else None

    async def get_last_seq(self, stream_id: str) -> int:
        validate_stream_id(stream_id)
        top = await self._top(stream_id)
        return _seq_of(top[0][0]) if top else -1

    async def exists(self, stream_id: str) -> bool:
        validate_stream_id(stream_id)
        key = self.keys.stream(stream_id)

        async def go(client: Client, _retry: bool) -> int:
            return int(await client.exists(key))

        return await self._run(go) > 0

    async def list_streams(self) -> list[str]:
        if not self.read_only:
            await self.sweep_expired()
        now = f"({int(self.server_now())}"
        index_keys = [self.keys.index(k) for k in range(self.keys.shard_count())]

        async def go(client: Client, _retry: bool) -> list[list[bytes]]:
            pipe = client.pipeline(transaction=False)
            for key in index_keys:
                pipe.zrangebyscore(key, now, "+inf")
            return cast(list[list[bytes]], await pipe.execute())

        return sorted(sid.decode() for ids in await self._run(go) for sid in ids)

    # ── snapshots ──

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_writable()
        data = dumps(encode_snapshot(snapshot))
        keys = [self.keys.snapshot(snapshot.stream_id), self.keys.stream(snapshot.stream_id)]
        script = self._scripts["snapshot"]

        async def go(_client: Client, _retry: bool) -> Any:
            return await script(keys=keys, args=[snapshot.seq, data, self.ttl])

        await self._run(go)

    async def list_snapshots(self, stream_id: str) -> list[Snapshot]:
        validate_stream_id(stream_id)
        key = self.keys.snapshot(stream_id)

        async def go(client: Client, _retry: bool) -> list[bytes]:
            return cast(list[bytes], await client.zrange(key, 0, -1))

        return [decode_snapshot(loads(raw)) for raw in await self._run(go)]

    async def get_snapshot_before(self, stream_id: str, seq: int) -> Snapshot | None:
        validate_stream_id(stream_id)
        key = self.keys.snapshot(stream_id)

        async def go(client: Client, _retry: bool) -> list[bytes]:
            return cast(list[bytes], await client.zrevrangebyscore(key, seq, "-inf", start=0,
                                                                   num=1))

        found = await self._run(go)
        return decode_snapshot(loads(found[0])) if found else None

    # ── live follow: blocking XREAD ──

    async def _wait_for_append(self, stream_id: str, last_seq: int, timeout: float) -> None:
        """Block in XREAD until an entry after ``last_seq`` exists (or ``block_ms`` passes)."""
        key = self.keys.stream(stream_id)
        after = _entry_id(last_seq)

        async def go(client: Client, _retry: bool) -> Any:
            return await client.xread({key: after}, count=1, block=self._block_ms)

        try:
            await self._run(go)
        except StoreConnectionError:
            await asyncio.sleep(timeout)

    # ── the catalog (l0core.stores.redis_query, l0core.stores.redis_upkeep) ──

    async def _catalog_ready(self) -> None:
        """A writable open of a store written before the catalog builds it first."""
        if not self._catalog_built:
            await self.build_catalog()

    async def build_catalog(self, progress: Progress | None = None) -> int:
        """Give every stream that lacks one (or has a stale one) its summary; returns the
        number of streams indexed. ``l0tui index`` calls this."""
        self._check_writable()
        async with self._build_lock:
            count = await build_summaries(self, progress)
            meta = self.keys.meta()
            await self._run(lambda c, _r: c.hset(meta, "built", 1))
            self._catalog_built = True
            return count

    async def prepare_catalog(self, progress: Progress | None = None) -> None:
        if not self.keeps_summaries:
            await super().prepare_catalog(progress)
        elif not self._catalog_built:
            await self.build_catalog(progress)

    async def sweep_expired(self, limit: int = 500) -> int:
        """Remove streams whose TTL ran out, with their summaries and catalog entries
        (up to ``limit`` per shard); returns how many."""
        return await sweep(self, limit)

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            with contextlib.suppress(StoreConnectionError, StoreClosedError):
                await self.sweep_expired()

    async def get_summary(self, stream_id: str) -> StreamSummary | None:
        if not self.keeps_summaries:
            return await super().get_summary(stream_id)
        validate_stream_id(stream_id)
        await self._catalog_ready()
        key = self.keys.summary(stream_id)
        raw = await self._run(lambda c, _r: cast(Awaitable[dict[bytes, bytes]], c.hgetall(key)))
        if not raw:
            return None
        summary, _, expiry = summary_from_hash(stream_id, raw)
        if expiry is not None and expiry <= self.server_now():
            return None
        return summary

    async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
        if not self.keeps_summaries:
            return await super().query_summaries(query)
        await self._catalog_ready()
        return await CatalogReader(self).query(query)

    async def count_summaries(self, flt: SummaryFilter | None = None) -> int:
        if not self.keeps_summaries:
            return await super().count_summaries(flt)
        await self._catalog_ready()
        return await CatalogReader(self).count(flt or SummaryFilter())

    async def catalog_version(self) -> object:
        if not self.keeps_summaries:
            return await super().catalog_version()
        keys = [self.keys.catalog(k) for k in range(self.keys.shard_count())]

        async def go(client: Client, _retry: bool) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hget(key, "v")
            return await pipe.execute()

        return tuple(int(v or 0) for v in await self._run(go))

    async def wait_catalog_change(self, timeout: float) -> None:
        """Wake on the channel the scripts publish to; poll when it cannot be read."""
        if not self.keeps_summaries:
            await super().wait_catalog_change(timeout)
            return
        await wait_for_publish(self, timeout)

    def run(self, fn: Callable[[Client, bool], Awaitable[T]]) -> Awaitable[T]:
        """Run ``fn(client, is_retry)`` with this store's retries (the catalog modules)."""
        return self._run(fn)

    def script(self, name: str) -> Any:
        return self._scripts[name]

    async def gather(self, keys: list[str], args: Sequence[str | bytes],
                     script_name: str = "gather") -> bytes | None:
        """The reply of the GATHER (or GATHER_PACKED) script for ``keys``; None on a
        cluster (the keys of one call must share a slot), for a user who may read but
        not run scripts (then the catalog reads the hashes one by one), and when
        GATHER_PACKED meets a hash without the packed field."""
        if self.clustered or not self._scripted_reads:
            return None
        script = self._scripts[script_name]

        async def go(_client: Client, _retry: bool) -> bytes | None:
            return cast(bytes | None, await script(keys=keys, args=args))

        try:
            return await self._run(go, keep_permission_errors=True)
        except redis.exceptions.NoPermissionError:
            self._scripted_reads = False
            return None

    @property
    def publish_command(self) -> str:
        return self._publish

    # ── maintenance ──

    async def drop_all(self) -> int:
        """Delete every key of this prefix (SCAN, for clean-up tools); returns how many."""
        self._check_writable()
        self._known.clear()
        pattern = self.keys.pattern()

        async def go(client: Client, _retry: bool) -> int:
            n = 0
            batch: list[bytes] = []
            async for key in client.scan_iter(match=pattern, count=1000):
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
    """Open a :class:`RedisEventStore` on ``url`` (``redis://[:password@]host:6379/db``
    or ``redis+cluster://host1:7000,host2:7001/``)."""
    cfg = StorageAdapterConfig(type="redis", connection=url, prefix=validate_prefix(prefix),
                               ttl=ttl, options=dict(options or {}), read_only=read_only)
    return await RedisEventStore(cfg).open()


async def open_store(config: StorageAdapterConfig) -> BaseEventStore:
    """Registry entry for ``redis://``, ``rediss://`` and the ``+cluster`` forms.

    A read-only open of a prefix in the spec example layout (or ``?layout=spec``)
    gives the read-only :class:`~l0core.stores.redis_spec.SpecRedisEventStore`.
    """
    from l0core.stores.redis_spec import SpecRedisEventStore

    store = RedisEventStore(config)
    if store.clustered:
        return await store.open()
    return await open_own_or_spec(store, lambda: SpecRedisEventStore(config).open())
