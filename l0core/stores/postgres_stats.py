"""Table statistics for the PostgreSQL catalog, where no one else gathers them.

PostgreSQL picks a catalog query's plan from the statistics ``ANALYZE`` keeps. The
autovacuum daemon runs it once a table has changed by a tenth, but a server may
run with ``autovacuum = off``, and then a table filled from empty has none: the
planner guesses, walks the ``(status, start_ts)`` index for ``status:error`` sorted
by duration (50,000 rows sorted for a page of 200), and starts a common text search
from the trigram index (a third of a million rows). Measured on a million streams:
140 ms and 1.35 s a page without statistics, 6 ms and 7 ms with them.

So a writable store, when autovacuum is off, does autovacuum's analyze part for its
own tables with autovacuum's default rule (more than ``50 + 10%`` of the rows
changed since the last ``ANALYZE``): now and then while it writes, when it closes,
and after ``build_catalog``. With autovacuum on it does nothing. A read-only store
never does (``ANALYZE`` writes the statistics).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

ANALYZE_THRESHOLD = 50
ANALYZE_SCALE = 0.1
"""autovacuum's defaults (``autovacuum_analyze_threshold`` and ``_scale_factor``)."""


async def autovacuum_on(conn: Any) -> bool:
    cur = await conn.execute("SELECT current_setting('autovacuum')")
    row = await cur.fetchone()
    return row is None or str(row[0]).lower() not in ("off", "false", "0")


async def analyze_stale(conn: Any, schema: str, tables: list[str]) -> list[str]:
    """``ANALYZE`` each of ``schema``'s ``tables`` changed by more than the rule allows
    since its statistics were taken (or never analysed); returns the ones analysed.
    Without the right to (not the tables' owner) it analyses nothing and says so by
    returning nothing: the planner then guesses, as it did before."""
    cur = await conn.execute(
        "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
        "WHERE schemaname = %s AND relname = ANY(%s)", (schema, tables))
    done: list[str] = []
    for name, live, changed in await cur.fetchall():
        if int(changed) <= ANALYZE_THRESHOLD + ANALYZE_SCALE * int(live):
            continue
        try:
            await conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
        except psycopg.errors.InsufficientPrivilege:
            return done
        done.append(str(name))
    return done
