"""The spec's two example adapters, written in Python exactly as their TypeScript writes.

``SpecPostgresWriter`` performs the "Full PostgreSQL Example"'s statements (``SELECT
COALESCE(MAX(seq), -1) + 1`` then ``INSERT ... VALUES ($1, $2, $3, NOW())``; snapshots
with ``ON CONFLICT (stream_id) DO UPDATE``), ``SpecRedisWriter`` the Redis example's
``LLEN`` + ``RPUSH`` of ``JSON.stringify(envelope)`` (+ ``EXPIRE`` with a TTL). The
example gives no DDL; :func:`create_spec_tables` uses the columns its statements name.
Used by the spec-layout tests and by the session hook that fills the shared servers
with foreign data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.paths import DEMO_STREAMS

DEMO = DEMO_STREAMS


def js(value: Any) -> str:
    """``JSON.stringify``: no spaces, keys in insertion order."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def demo_events(name: str = "03-guardrail-retry") -> list[dict[str, Any]]:
    """The wire events of one demo recording (what the example adapters would be given)."""
    lines = Path(DEMO / f"{name}.jsonl").read_text().splitlines()
    return [json.loads(line)["event"] for line in lines if line.strip()]


def create_spec_tables(conn: Any, schema: str, prefix: str, *, owner: str | None = None) -> None:
    """The example's two tables (jsonb, as node-postgres users typically declare them)."""
    from psycopg import sql

    events = sql.Identifier(schema, f"{prefix}_events")
    snaps = sql.Identifier(schema, f"{prefix}_snapshots")
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (stream_id TEXT NOT NULL, seq INTEGER NOT NULL, "
        "event JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW())").format(events))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (stream_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
        "data JSONB NOT NULL)").format(snaps))
    if owner is not None:
        for table in (events, snaps):
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(table,
                                                                      sql.Identifier(owner)))


class SpecPostgresWriter:
    """The example's ``PostgresEventStore.append`` / ``saveSnapshot`` (psycopg, sync)."""

    def __init__(self, conn: Any, schema: str, prefix: str) -> None:
        from psycopg import sql

        self.conn = conn
        self.events = sql.Identifier(schema, f"{prefix}_events")
        self.snaps = sql.Identifier(schema, f"{prefix}_snapshots")

    def next_seq(self, stream_id: str) -> int:
        from psycopg import sql

        row = self.conn.execute(sql.SQL(
            "SELECT COALESCE(MAX(seq), -1) + 1 as next_seq FROM {} WHERE stream_id = %s"
        ).format(self.events), (stream_id,)).fetchone()
        return int(row[0])

    def insert(self, stream_id: str, seq: int, event: dict[str, Any]) -> None:
        from psycopg import sql

        self.conn.execute(sql.SQL(
            "INSERT INTO {} (stream_id, seq, event, created_at) VALUES (%s, %s, %s, NOW())"
        ).format(self.events), (stream_id, seq, js(event)))

    def append(self, stream_id: str, event: dict[str, Any]) -> None:
        self.insert(stream_id, self.next_seq(stream_id), event)

    def save_snapshot(self, snapshot: dict[str, Any]) -> None:
        from psycopg import sql

        self.conn.execute(sql.SQL(
            "INSERT INTO {} (stream_id, seq, data) VALUES (%s, %s, %s) "
            "ON CONFLICT (stream_id) DO UPDATE SET seq = %s, data = %s"
        ).format(self.snaps), (snapshot["streamId"], snapshot["seq"], js(snapshot),
                               snapshot["seq"], js(snapshot)))


class SpecRedisWriter:
    """The example's ``RedisEventStore.append`` (redis-py, sync)."""

    def __init__(self, client: Any, prefix: str, ttl: int = 0) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl

    def key(self, stream_id: str) -> str:
        return f"{self.prefix}:stream:{stream_id}"

    def append(self, stream_id: str, event: dict[str, Any]) -> None:
        key = self.key(stream_id)
        seq = int(self.client.llen(key))
        self.client.rpush(key, js({"streamId": stream_id, "seq": seq, "event": event}))
        if self.ttl > 0:
            self.client.expire(key, self.ttl // 1000)

    def push_raw(self, stream_id: str, seq: int, event: dict[str, Any]) -> None:
        """What a racing writer leaves: an envelope with a seq another one already took."""
        self.client.rpush(self.key(stream_id), js({"streamId": stream_id, "seq": seq,
                                                    "event": event}))
