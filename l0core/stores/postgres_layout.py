"""What a PostgreSQL schema holds under one prefix, and whose it is.

Read from the catalogs only (``pg_class``, ``pg_attribute``, ``pg_proc``), which every
role may read, so the answer never needs a privilege on the tables themselves.
The rules (``docs/format.md``, "Sharing a server"):

- ``l0core``: ``<prefix>_migrations(version, description, ...)`` exists: the marker
  this library writes first, before any other table.
- ``spec``: no marker and no ``<prefix>_streams``, and ``<prefix>_events`` has the
  spec example's columns ``stream_id, seq, event`` (``created_at`` is optional).
- ``empty``: none of our names exists in the schema.
- ``foreign``: anything else; a writable open refuses before running any DDL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from l0core.stores.layouts import Layout

TABLE_SUFFIXES = ("migrations", "streams", "events", "snapshots", "summaries", "texts",
                  "catalog")
FUNCTION_SUFFIXES = ("append", "delete", "sweep")
SPEC_EVENT_COLUMNS = frozenset({"stream_id", "seq", "event"})
SPEC_SNAPSHOT_COLUMNS = frozenset({"stream_id", "data"})


@dataclass(slots=True)
class PrefixContents:
    """The tables (with their columns) and functions of one prefix in one schema."""

    schema: str
    prefix: str
    tables: dict[str, frozenset[str]] = field(default_factory=dict)
    """Suffix (``events``) -> column names."""
    functions: set[str] = field(default_factory=set)
    """Suffixes of the functions that exist (``append``)."""
    owner: str = ""
    """The role owning the first table found (for permission messages)."""

    @property
    def layout(self) -> Layout:
        migrations = self.tables.get("migrations")
        if migrations is not None and {"version", "description"} <= migrations:
            return "l0core"
        if not self.tables and not self.functions:
            return "empty"
        events = self.tables.get("events")
        if (events is not None and events >= SPEC_EVENT_COLUMNS and "batch_id" not in events
                and "streams" not in self.tables and "migrations" not in self.tables
                and not self.functions):
            return "spec"
        return "foreign"

    def name(self, suffix: str) -> str:
        return f"{self.schema}.{self.prefix}_{suffix}"

    def describe(self) -> str:
        """The names found, for a message (``public.l0_events(stream_id, seq, ...)``)."""
        parts = [f"{self.name(s)}({', '.join(sorted(cols))})" for s, cols in
                 sorted(self.tables.items())]
        parts += [f"function {self.name(f)}" for f in sorted(self.functions)]
        return ", ".join(parts)

    def describe_spec(self) -> str:
        events = self.tables.get("events", frozenset())
        order = ["stream_id", "seq", "event", "created_at"]
        cols = [c for c in order if c in events]
        text = f"{self.name('events')}({', '.join(cols)})"
        if "snapshots" in self.tables:
            text += f" and {self.name('snapshots')}"
        return text


async def inspect_prefix(conn: psycopg.AsyncConnection[Any], schema: str,
                         prefix: str) -> PrefixContents:
    """Which of our table and function names exist in ``schema`` for ``prefix``."""
    found = PrefixContents(schema, prefix)
    names = [f"{prefix}_{s}" for s in TABLE_SUFFIXES]
    cur = await conn.execute(
        "SELECT c.relname, a.attname, pg_get_userbyid(c.relowner) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        (schema, names))
    columns: dict[str, set[str]] = {}
    for relname, attname, owner in await cur.fetchall():
        found.owner = found.owner or str(owner)
        cols = columns.setdefault(str(relname)[len(prefix) + 1:], set())
        if attname is not None:
            cols.add(str(attname))
    found.tables = {k: frozenset(v) for k, v in columns.items()}
    cur = await conn.execute(
        "SELECT DISTINCT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s AND p.proname = ANY(%s)",
        (schema, [f"{prefix}_{s}" for s in FUNCTION_SUFFIXES]))
    found.functions = {str(r[0])[len(prefix) + 1:] for r in await cur.fetchall()}
    return found
