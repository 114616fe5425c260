"""The key-value buckets (summaries, snapshots, final contents), used at the stream level.

A bucket is a JetStream stream ``KV_<bucket>`` with subjects ``$KV.<bucket>.>`` and
one message kept per key, created with the configuration the NATS key-value
clients use, so ``nats kv`` can look inside. The store talks to it directly: a
revision-checked put is a publish with ``Nats-Expected-Last-Subject-Sequence`` (the
key's revision), a delete is a purge marker that watchers see.
"""

from __future__ import annotations

from dataclasses import dataclass

import nats.js.errors

from l0core.stores.nats_connection import WRONG_LAST_SEQUENCE, NatsLink
from l0core.stores.nats_layout import H_EXPECTED, H_KV_OP, H_ROLLUP, NatsNames

DELETED_OPS = ("DEL", "PURGE")


class RevisionConflict(Exception):
    """The key changed since the revision a put was checked against."""


@dataclass(slots=True, frozen=True)
class KvEntry:
    """A key's current value (None once deleted) and its revision (0: never written)."""

    value: bytes | None
    revision: int


def bucket_config(name: str, *, ttl_ms: int, replicas: int, storage: str) -> dict[str, object]:
    """The stream configuration of a key-value bucket keeping one revision per key."""
    return {
        "name": "KV_" + name, "description": "l0core key-value bucket",
        "subjects": [f"$KV.{name}.>"], "retention": "limits", "max_msgs_per_subject": 1,
        "max_age": int(ttl_ms * 1_000_000), "discard": "new", "storage": storage,
        "num_replicas": replicas, "allow_rollup_hdrs": True, "deny_delete": True,
        "allow_direct": True, "max_msgs": -1,
        "duplicate_window": min(120_000, ttl_ms) * 1_000_000 if ttl_ms else 120_000_000_000,
        "max_bytes": -1, "max_msg_size": -1, "max_consumers": -1,
    }


class Bucket:
    """One bucket of one store location."""

    def __init__(self, link: NatsLink, names: NatsNames, kind: str) -> None:
        self.link = link
        self.kind = kind
        self.name = names.bucket(kind)
        self.stream = names.kv_stream(kind)
        self.prefix = f"$KV.{self.name}."

    def subject(self, key: str) -> str:
        return self.prefix + key

    async def exists(self) -> bool:
        try:
            await self.link.api(f"STREAM.INFO.{self.stream}", None, f"looking up {self.stream}")
        except nats.js.errors.NotFoundError:
            return False
        return True

    async def ensure(self, *, ttl_ms: int, replicas: int, storage: str) -> None:
        """Create the bucket, or bring its TTL to ``ttl_ms`` (a writable open)."""
        config = bucket_config(self.name, ttl_ms=ttl_ms, replicas=replicas, storage=storage)
        try:
            info = await self.link.api(f"STREAM.INFO.{self.stream}", None,
                                       f"looking up {self.stream}")
        except nats.js.errors.NotFoundError:
            await self.link.api(f"STREAM.CREATE.{self.stream}", config,
                                f"creating bucket {self.name}")
            return
        current = info.get("config", {})
        if int(current.get("max_age", 0)) != config["max_age"]:
            current["max_age"] = config["max_age"]
            current["duplicate_window"] = config["duplicate_window"]
            await self.link.api(f"STREAM.UPDATE.{self.stream}", current,
                                f"setting the TTL of bucket {self.name}")

    async def get(self, key: str) -> KvEntry:
        msg = await self.link.get_msg(self.stream, f"reading {self.name}/{key}",
                                      last_by_subject=self.subject(key))
        if msg is None:
            return KvEntry(None, 0)
        revision = int(msg.seq or 0)
        if msg.headers and msg.headers.get(H_KV_OP) in DELETED_OPS:
            return KvEntry(None, revision)
        return KvEntry(msg.data or b"", revision)

    async def put(self, key: str, value: bytes, revision: int | None) -> int:
        """Write ``value``; with ``revision`` only if the key is still at it. Returns the
        new revision; :class:`RevisionConflict` when another writer got there first."""
        headers = {} if revision is None else {H_EXPECTED: str(revision)}
        try:
            ack = await self.link.publish(self.subject(key), value, headers,
                                          f"writing {self.name}/{key}")
        except nats.js.errors.APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise RevisionConflict(key) from None
            raise
        return int(ack.seq)

    async def purge(self, key: str) -> None:
        """Remove the key, leaving the marker that tells watchers it is gone."""
        await self.link.publish(self.subject(key), b"", {H_KV_OP: "PURGE", H_ROLLUP: "sub"},
                                f"deleting {self.name}/{key}")

    async def purge_matching(self, pattern: str) -> None:
        """Drop every message of keys matching ``pattern`` (``<id>.>``), with no markers."""
        await self.link.api(f"STREAM.PURGE.{self.stream}", {"filter": self.subject(pattern)},
                            f"deleting {self.name}/{pattern}")

    async def delete(self) -> None:
        try:
            await self.link.api(f"STREAM.DELETE.{self.stream}", None, f"deleting {self.stream}")
        except nats.js.errors.NotFoundError:
            pass
