"""Redis Cluster for the Redis store: the seed-node URL, the client, replicated appends.

``redis+cluster://[user:password@]host1:7000,host2:7001/?prefix=l0`` (``rediss+cluster``
for TLS) names any nodes of the cluster; redis-py's ``RedisCluster`` finds the rest
and routes every command to the master of its key's slot. This module parses that
URL, builds the client, and runs one command list on one connection of the master
serving a key, so that ``WAIT`` after the append script counts the replicas that
have the append (docs/format.md, "Redis Cluster").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import redis.exceptions
from redis.asyncio.cluster import ClusterNode, PipelineCommand, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from l0core.errors import StoreConfigError
from l0core.stores.urls import mask_secrets

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")

RETRYABLE = (
    redis.exceptions.ClusterDownError,  # also MASTERDOWN: a failover is under way
    redis.exceptions.TryAgainError,  # a slot is being migrated
    redis.exceptions.AskError,  # and MovedError: the slot map changed
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.ReadOnlyError,  # a demoted master answered before the map was refreshed
    redis.exceptions.ClusterError,
)
"""Cluster replies that mean "not now, ask again": the command did not run."""


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


@dataclass(slots=True)
class ClusterLocation:
    """What a cluster URL names."""

    seeds: list[tuple[str, int]]
    tls: bool
    username: str | None = None
    password: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Other query parameters, typed as redis-py reads them from a URL."""


def parse_cluster_url(url: str) -> ClusterLocation:
    """``redis+cluster://h1:7000,h2:7001/`` -> seeds and credentials (one line on error)."""
    shown = mask_secrets(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise StoreConfigError(f"malformed Redis Cluster URL {shown!r}: {exc}") from None
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, _, secret = userinfo.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    seeds: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host and port:
            host, port = port, ""
        host = host.strip("[]")
        if not host:
            raise StoreConfigError(f"Redis Cluster URL {shown!r}: empty seed node in {hosts!r}")
        try:
            seeds.append((host, int(port or 6379)))
        except ValueError:
            raise StoreConfigError(
                f"Redis Cluster URL {shown!r}: bad port in seed {item!r}") from None
    if parts.path.strip("/") not in ("", "0"):
        raise StoreConfigError(f"Redis Cluster URL {shown!r}: a cluster has only database 0")
    options: dict[str, Any] = {}
    if parts.query:
        try:
            options = dict(parse_url(f"redis://localhost/?{parts.query}"))
        except ValueError as exc:
            raise StoreConfigError(f"bad Redis Cluster URL {shown}: {exc}") from None
        for key in ("host", "port", "db", "username", "password"):
            options.pop(key, None)
    return ClusterLocation(seeds, parts.scheme.lower() == "rediss+cluster", username,
                           password, options)


def make_cluster_client(url: str, *, max_connections: int,
                        socket_timeout: float) -> RedisCluster:
    """A client for the cluster ``url`` names (not connected yet: ``await initialize()``).

    redis-py's own retries are off: a re-sent append must say it is a retry (the
    store's retry loop does), and the store refreshes the slot map itself.
    """
    where = parse_cluster_url(url)
    try:
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in where.seeds],
            username=where.username, password=where.password, ssl=where.tls,
            max_connections=max_connections, socket_timeout=socket_timeout,
            socket_connect_timeout=5, retry=Retry(NoBackoff(), 0),
            **where.options)
    except (TypeError, redis.exceptions.RedisClusterException) as exc:
        raise StoreConfigError(f"bad Redis Cluster URL {mask_secrets(url)}: {exc}") from None


async def refresh_slots(client: RedisCluster) -> None:
    """Read the slot map again (after a node went away or a MOVED reply)."""
    try:
        await client.nodes_manager.initialize()
    except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException, OSError):
        pass  # the next command tries again


def _owner(client: RedisCluster, key: str) -> ClusterNode:
    node = client.get_node_from_key(key, replica=False)
    if node is None:
        raise redis.exceptions.SlotNotCoveredError(f"no master serves the slot of {key!r}")
    return node


async def run_on_owner(client: RedisCluster, key: str,
                       commands: list[tuple[Any, ...]], script: str) -> list[Any]:
    """Send ``commands`` on ONE connection of the master serving ``key``; their replies.

    A reply that is an error is returned as the exception. NOSCRIPT loads ``script``
    on that master and sends again (nothing ran). A connection lost or a moved slot
    refreshes the slot map and raises, for the store's retry loop.
    """
    for _ in range(3):
        node = _owner(client, key)
        pipe = [PipelineCommand(i, *cmd) for i, cmd in enumerate(commands)]
        try:
            await node.execute_pipeline(pipe)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            await refresh_slots(client)
            raise
        results = [cmd.result for cmd in pipe]
        first = results[0]
        if isinstance(first, redis.exceptions.NoScriptError):
            await node.execute_command("SCRIPT", "LOAD", script)
            continue
        if isinstance(first, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                              *RETRYABLE)):
            await refresh_slots(client)
            if isinstance(first, redis.exceptions.ClusterDownError):
                await asyncio.sleep(0.1)
            raise first
        return results
    raise redis.exceptions.NoScriptError("the append script could not be loaded")


async def connected_replicas(client: RedisCluster, key: str) -> int:
    """How many replicas the master serving ``key`` has connected right now (ROLE)."""
    role = await _owner(client, key).execute_command("ROLE")
    return len(role[2]) if role and role[0] in (b"master", "master") else 0
