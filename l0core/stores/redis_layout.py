"""What a Redis logical database holds under one prefix, and whose it is.

The rules (``docs/format.md``, "Sharing a server"), read with ``TYPE`` and ``SCAN``
only (never ``KEYS``, which blocks the server):

- ``l0core``: ``<prefix>:streams`` is a sorted set (our index), or the first
  ``<prefix>:stream:*`` key found is a Redis Stream.
- ``spec``: no index, and the first ``<prefix>:stream:*`` key is a LIST (the spec
  example's RPUSHed envelopes).
- ``empty``: no key of either name.
- ``foreign``: anything else (an index that is not a sorted set, a stream key of
  another type); a writable open refuses and writes nothing.

On a Redis Cluster (:func:`inspect_cluster_prefix`) the marker is the prefix's meta
hash; the spec example's layout is only read on a single node.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio

from l0core.stores.layouts import Layout


@dataclass(slots=True, frozen=True)
class RedisPrefixContents:
    """The layout found, and the key that decided it (for messages)."""

    layout: Layout
    key: str = ""
    key_type: str = ""

    def describe(self) -> str:
        return f"key {self.key} ({self.key_type})" if self.key else "no keys"


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


async def inspect_redis_prefix(client: redis.asyncio.Redis, prefix: str) -> RedisPrefixContents:
    """Classify ``prefix`` in the client's logical database."""
    index = f"{prefix}:streams"
    index_type = _text(await client.type(index))
    if index_type == "zset":
        return RedisPrefixContents("l0core", index, index_type)
    if index_type != "none":
        return RedisPrefixContents("foreign", index, index_type)
    async for key in client.scan_iter(match=f"{prefix}:stream:*", count=1000):
        name = _text(key)
        key_type = _text(await client.type(key))
        if key_type == "list":
            return RedisPrefixContents("spec", name, key_type)
        if key_type == "stream":
            return RedisPrefixContents("l0core", name, key_type)
        if key_type != "none":  # "none": expired between SCAN and TYPE
            return RedisPrefixContents("foreign", name, key_type)
    return RedisPrefixContents("empty")


async def inspect_cluster_prefix(client: redis.asyncio.RedisCluster, prefix: str,
                                 meta_key: str) -> RedisPrefixContents:
    """Classify ``prefix`` on a Redis Cluster: ours when ``meta_key`` is our hash.

    A cluster store always writes its meta hash first (it records the shard count),
    so without it any key under ``<prefix>:`` (SCAN on every master) is someone
    else's. The meta key is looked at again after the SCAN finds a key: another
    process's first open may have made the hash in between (and the SCAN may have
    found that very hash), which makes the prefix ours, not foreign.
    """
    meta_type = _text(await client.type(meta_key))
    if meta_type == "hash":
        return RedisPrefixContents("l0core", meta_key, meta_type)
    if meta_type != "none":
        return RedisPrefixContents("foreign", meta_key, meta_type)
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        meta_type = _text(await client.type(meta_key))
        if meta_type == "hash":
            return RedisPrefixContents("l0core", meta_key, meta_type)
        return RedisPrefixContents("foreign", _text(key), _text(await client.type(key)))
    return RedisPrefixContents("empty")
