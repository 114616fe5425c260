"""Foreign data on the shared servers, so the suite proves it passes whatever they hold.

Before the first test, the session hook in ``tests/conftest.py`` leaves on the shared
servers what other programs leave there in real life: the spec example's tables
under the default prefix ``l0`` in the ``postgres`` database's ``public`` schema,
owned by another role (which our test role can neither alter nor read without
privileges), and the spec example's LISTs under ``l0:stream:*`` in Redis db 0. It is
created once and kept (it is "what the server already held"); set
``L0_NO_FOREIGN_DATA=1`` to skip it. Servers that do not answer are left alone.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from tests.spec_layouts import SpecPostgresWriter, SpecRedisWriter, create_spec_tables, demo_events

FOREIGN_OWNER = "l0_foreign_owner"
FOREIGN_STREAM = "foreign-spec-1"


def _on_db(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def fill_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_on_db(url, "postgres"), autocommit=True, connect_timeout=3) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('l0-foreign-data'))")
        try:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                            (FOREIGN_OWNER,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(
                    sql.Identifier(FOREIGN_OWNER)))
            present = conn.execute("SELECT to_regclass('public.l0_events')").fetchone()
            if present is not None and present[0] is not None:
                return  # filled by an earlier run (or by someone else: leave it)
            create_spec_tables(conn, "public", "l0", owner=FOREIGN_OWNER)
            writer = SpecPostgresWriter(conn, "public", "l0")
            for event in demo_events("01-clean-completion"):
                writer.append(FOREIGN_STREAM, event)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('l0-foreign-data'))")


def fill_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(_on_db(url, "0"), socket_connect_timeout=3, socket_timeout=5)
    try:
        writer = SpecRedisWriter(client, "l0")
        if not client.exists(writer.key(FOREIGN_STREAM)):
            for event in demo_events("01-clean-completion"):
                writer.append(FOREIGN_STREAM, event)
    finally:
        client.close()


def fill_foreign_data() -> list[str]:
    """Fill what answers; returns what was skipped and why (for the session header)."""
    if os.environ.get("L0_NO_FOREIGN_DATA", "") not in ("", "0"):
        return ["foreign data: skipped (L0_NO_FOREIGN_DATA)"]
    from tests.services import DEFAULT_POSTGRES_URL, DEFAULT_REDIS_URL

    notes = []
    for name, fill, var, default in (
        ("PostgreSQL", fill_postgres, "L0_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        ("Redis", fill_redis, "L0_TEST_REDIS_URL", DEFAULT_REDIS_URL),
    ):
        try:
            fill(os.environ.get(var, default))
        except Exception as exc:  # a server that is down is the services fixtures' business
            notes.append(f"foreign data: {name} not filled ({type(exc).__name__})")
    return notes
