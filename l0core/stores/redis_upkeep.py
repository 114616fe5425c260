"""Keeping the Redis catalog whole: summaries for old streams, expired streams, wake-ups.

- :func:`build_summaries`: streams written before the catalog (or by a writer that
  kept none) get their summary folded from their events, written by one script
  that checks the stream did not move meanwhile. ``l0tui index`` and the first
  catalog call of a writable open run it.
- :func:`sweep`: a stream whose TTL ran out loses its events by Redis's own expiry;
  its summary, content and sorted-set entries go with it here (the summary hash
  has no expiry of its own: it records which entries to remove). Writable opens
  sweep every ``sweep_interval`` seconds and before listing; reads never show an
  expired summary meanwhile (its ``x`` field is past).
- :func:`wait_for_publish`: the scripts publish every changed stream id on the
  shard's channel (``SPUBLISH`` on a cluster); a catalog follower waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, cast

import redis.exceptions
from redis.asyncio.cluster import RedisCluster

from l0core.catalog.scan import Progress
from l0core.stores.redis_catalog import (
    all_fields,
    index_entries,
    is_ended,
    set_changes,
    summary_from_hash,
)

if TYPE_CHECKING:
    from l0core.stores.redis import Client, RedisEventStore

_CHUNK = 200


async def _live_ids(store: RedisEventStore) -> list[list[str]]:
    """Every live stream id, per shard."""
    keys = store.keys
    now = f"({int(store.server_now())}"

    async def go(client: Client, _retry: bool) -> list[list[bytes]]:
        pipe = client.pipeline(transaction=False)
        for shard in range(keys.shard_count()):
            pipe.zrangebyscore(keys.index(shard), now, "+inf")
        return cast(list[list[bytes]], await pipe.execute())

    return [[sid.decode() for sid in ids] for ids in await store.run(go)]


async def _consistent(store: RedisEventStore, ids: list[str]) -> list[bool]:
    """For each id: does its summary hash describe the stream's top entry?"""
    keys = store.keys

    async def go(client: Client, _retry: bool) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for sid in ids:
            pipe.hget(keys.summary(sid), "b")
            pipe.xrevrange(keys.stream(sid), "+", "-", count=1)
        return await pipe.execute()

    replies = await store.run(go)
    out = []
    for i in range(len(ids)):
        hash_batch, top = replies[2 * i], replies[2 * i + 1]
        top_batch = top[0][1].get(b"b") if top else None
        out.append(hash_batch is not None and hash_batch == top_batch)
    return out


async def put_folded_summary(store: RedisEventStore, stream_id: str) -> bool:
    """Fold ``stream_id`` and store its summary; False when the stream is gone."""
    keys = store.keys
    shard = keys.shard_of(stream_id)
    script = store.script("put")
    for _ in range(1000):
        summary, content = await store.fold(stream_id)
        if summary.event_count == 0:
            return False

        async def state(client: Client, _retry: bool) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.xrevrange(keys.stream(stream_id), "+", "-", count=1)
            pipe.hgetall(keys.summary(stream_id))
            return await pipe.execute()

        top, raw = await store.run(state)
        if not top or int(top[0][0].rpartition(b"-")[2]) - 1 != summary.last_seq:
            continue  # appended to while folding: fold again
        top_batch = top[0][1].get(b"b", b"").decode()
        old_entries: dict[str, str] = {}
        hash_batch = ""
        if raw:
            old, hash_batch, _ = summary_from_hash(stream_id, raw)
            old_entries = index_entries(old)
        changes = set_changes(old_entries, index_entries(summary))
        fields = all_fields(summary)
        script_keys = [keys.stream(stream_id), keys.index(shard), keys.summary(stream_id),
                       keys.content(stream_id), keys.catalog(shard),
                       *(keys.cat(shard, name) for name, _ in changes)]
        args: list[Any] = [stream_id, top_batch, summary.last_seq, hash_batch,
                           "S" if is_ended(summary) else "D", content,
                           store.channel(shard), store.publish_command, len(fields) // 2,
                           *fields, *(op for _, op in changes)]

        async def put(_client: Client, _retry: bool, script_keys: list[str] = script_keys,
                      args: list[Any] = args) -> list[Any]:
            return cast(list[Any], await script(keys=script_keys, args=args))

        status = int((await store.run(put))[0])
        if status == 0:
            return True
        if status == 5:
            return False
    return False


async def build_summaries(store: RedisEventStore, progress: Progress | None = None) -> int:
    """Give every live stream a summary that matches its events; returns how many
    streams the catalog now holds."""
    shards = await _live_ids(store)
    total = sum(len(ids) for ids in shards)
    done = indexed = 0
    for ids in shards:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            for sid, ok in zip(chunk, await _consistent(store, chunk), strict=True):
                if ok or await put_folded_summary(store, sid):
                    indexed += 1
                done += 1
                if progress is not None:
                    progress(done, total)
    return indexed


async def sweep(store: RedisEventStore, limit: int = 500) -> int:
    """Remove expired streams' summaries and entries (``limit`` per shard); how many."""
    keys = store.keys
    now = int(store.server_now())

    async def go(client: Client, _retry: bool) -> list[list[bytes]]:
        pipe = client.pipeline(transaction=False)
        for shard in range(keys.shard_count()):
            pipe.zrangebyscore(keys.index(shard), "-inf", now, start=0, num=limit)
        return cast(list[list[bytes]], await pipe.execute())

    removed = 0
    for ids in await store.run(go):
        for raw in ids:
            if await store.remove_stream(raw.decode(), only_if_gone=True):
                removed += 1
    return removed


async def wait_for_publish(store: RedisEventStore, timeout: float) -> None:
    """Return on the first catalog message, or after ``timeout`` seconds.

    Subscribes on first use and keeps the subscription; a user who may not subscribe,
    or a lost connection, falls back to waiting out the timeout (callers compare
    ``catalog_version``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    client = store.client
    channels = [store.keys.channel(k) for k in range(store.keys.shard_count())]
    try:
        pubsub = store.pubsub
        if pubsub is None:
            pubsub = client.pubsub()
            store.pubsub = pubsub
            if isinstance(client, RedisCluster):
                await pubsub.ssubscribe(*channels)
            else:
                await pubsub.subscribe(*channels)
        sharded = isinstance(client, RedisCluster)
        read = pubsub.get_sharded_message if sharded else pubsub.get_message
        # A sharded read waits its timeout on each master's connection in turn: short.
        step = 0.05 if sharded else 1.0
        while (left := deadline - loop.time()) > 0:
            message = await cast(Awaitable[Any], read(ignore_subscribe_messages=True,
                                                      timeout=min(left, step)))
            if message is not None and message.get("type") in ("message", "smessage"):
                while await cast(Awaitable[Any], read(ignore_subscribe_messages=True,
                                                      timeout=0)) is not None:
                    pass  # one wake-up for a burst
                return
    except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException, OSError):
        stale, store.pubsub = store.pubsub, None
        if stale is not None:
            with contextlib.suppress(Exception):
                await stale.aclose()
        await asyncio.sleep(max(0.0, min(deadline - loop.time(), 0.5)))
