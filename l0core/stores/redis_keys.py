"""Which Redis key holds what, on one node and on a cluster (docs/format.md, "Redis").

On one node every key of a prefix lives in one keyspace and the names are the ones
this store has always written (``l0:stream:<id>``, ``l0:snapshot:<id>``,
``l0:streams``), so stores written before the catalog or before cluster support
open unchanged.

On a cluster a Lua script may only touch keys of one hash slot. Every stream
therefore belongs to one of ``shards`` shards (CRC-32 of its id), and every key of
the shard, the streams' own keys and the shard's part of the index and the catalog
alike, carries the hash tag ``{<prefix>:<shard>}``: the append script updates the
events, the summary and the catalog's sorted sets of the shard atomically, as on
one node. Queries read the shards' sorted sets and merge them. The number of shards
is fixed when the prefix is created and kept in ``<prefix>:{<prefix>}:meta``.
"""

from __future__ import annotations

import zlib

DEFAULT_SHARDS = 16
"""Shards of a new prefix on a cluster: enough to spread over 16 masters, few enough
that a query's merge reads a handful of sorted sets per shard."""


class RedisKeys:
    """Key names for ``prefix``; ``shards`` is None on one node."""

    def __init__(self, prefix: str, shards: int | None = None) -> None:
        self.prefix = prefix
        self.shards = shards
        self._cat: dict[tuple[int, str], str] = {}
        if shards is None:
            self._bases = [f"{prefix}:"]
        else:
            self._bases = [f"{prefix}:{{{prefix}:{k}}}:" for k in range(shards)]

    @property
    def clustered(self) -> bool:
        return self.shards is not None

    def shard_count(self) -> int:
        return len(self._bases)

    def shard_of(self, stream_id: str) -> int:
        if self.shards is None:
            return 0
        return zlib.crc32(stream_id.encode()) % self.shards

    def base(self, shard: int) -> str:
        """What every key of ``shard`` starts with (``l0:`` or ``l0:{l0:3}:``)."""
        return self._bases[shard]

    def _of(self, stream_id: str, kind: str) -> str:
        return f"{self._bases[self.shard_of(stream_id)]}{kind}:{stream_id}"

    # ── one stream's keys ──

    def stream(self, stream_id: str) -> str:
        return self._of(stream_id, "stream")

    def snapshot(self, stream_id: str) -> str:
        return self._of(stream_id, "snapshot")

    def summary(self, stream_id: str) -> str:
        return self._of(stream_id, "summary")

    def content(self, stream_id: str) -> str:
        return self._of(stream_id, "content")

    # ── one shard's keys ──

    def index(self, shard: int) -> str:
        """The stream ids scored by expiry time (ms, ``+inf`` without TTL)."""
        return self._bases[shard] + "streams"

    def catalog(self, shard: int) -> str:
        """A hash: ``v`` counts summary changes (and, on one node, ``built``)."""
        return self._bases[shard] + "catalog"

    def channel(self, shard: int) -> str:
        """Where the scripts publish the ids whose summary changed."""
        return self._bases[shard] + "catalog"

    def cat(self, shard: int, name: str) -> str:
        """One of the catalog's sorted sets (names: l0core.stores.redis_catalog)."""
        key = self._cat.get((shard, name))
        if key is None:
            key = self._bases[shard] + "cat:" + name
            if len(self._cat) < 10_000:
                self._cat[shard, name] = key
        return key

    # ── the prefix ──

    def meta(self) -> str:
        """Where ``built`` (and on a cluster ``shards``) is kept."""
        if self.shards is None:
            return self.catalog(0)
        return f"{self.prefix}:{{{self.prefix}}}:meta"

    def pattern(self) -> str:
        """Matches every key of the prefix (SCAN, for clean-up tools)."""
        return f"{self.prefix}:*"
