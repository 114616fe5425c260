"""The PostgreSQL store's catalog: schema version 2, the append's summary, queries.

Tables (``<prefix>_`` in front of each name, docs/format.md "PostgreSQL"; the split
between the two summary halves is explained in :mod:`l0core.stores.catalog_sql`):

- ``streams`` gains ``last_ts``, ``duration_ms``, ``event_count``, ``token_count``
  (NULL for a stream written before version 2 whose summary is not built yet);
- ``summaries``: the other fields, ``retries``, the ``sort_*`` copies; text columns
  that are sorted on use collation ``"C"`` (code point order, as Python compares);
- ``texts(stream_id, content)``: the case-folded final content of each ended stream
  (NULL while the append that ended it waits for the caller to fold it), with a
  ``pg_trgm`` GIN index where the extension can be had;
- ``catalog(shard, changes, streams)``: 1024 shards (by a hash of the stream id) of
  two counters every append moves in its transaction without waiting on another
  stream's row: ``changes`` (their sum is the catalog version) and
  ``streams`` (their sum is the number of summaries). Shard ``-1`` exists while the
  summaries of streams written before version 2 are still to be built.

The append function takes, besides the events, the batch folded on its own
(:class:`~l0core.stores.batch_summary.BatchDelta`) and combines it with the stored
summary under the stream's row lock, as :func:`~l0core.stores.batch_summary.compose`
does. A batch of TOKENs to a running stream writes only the ``streams`` row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from psycopg import sql

from l0core.catalog.query import SummaryFilter, SummaryQuery
from l0core.catalog.summary import StreamSummary, advance_summary, final_content
from l0core.stores.batch_summary import BatchDelta
from l0core.stores.catalog_sql import (
    SELECT_SUMMARY,
    SORT_COLUMNS,
    STABLE_ORDERS,
    STORED_COLUMNS,
    Dialect,
    filter_sql,
    live_values,
    row_summaries,
    row_summary,
    select_page,
    stored_values,
)
from l0core.stores.catalog_text import (
    CONTENT_KINDS,
    TERMINAL_KINDS,
    content_from_batch,
    search_words,
    searchable,
)

DIALECT = Dialect(placeholder="%s", contains="strpos",
                  is_true=lambda col, want: col if want else f"NOT {col}",
                  collate=' COLLATE "C"')
SHARDS = 1024
"""Counter rows: an append takes ``hashtext(stream_id) & 1023``, so appends to different
streams almost never wait on one row (appends to one stream queue on its lock anyway)."""
BUILD_EVENTS = 200_000
"""Most events a build chunk reads in one query (longer streams are read one by one)."""
NEEDS_SUMMARY = 1
"""The append found a stream without a summary (written before version 2)."""
NEEDS_CONTENT = 2
"""The append ended a stream whose final content needs its earlier events."""

DELTA_FIELDS = (
    ("sets_start", "boolean"), ("sets_tokens", "boolean"), ("sets_fallback", "boolean"),
    ("sets_end", "boolean"), ("model", "text"), ("prompt", "text"), ("options", "text"),
    ("start", "float8"), ("end_ts", "float8"), ("retries", "bigint"), ("network", "bigint"),
    ("violations", "bigint"), ("drift", "boolean"), ("fallback", "bigint"),
    ("status", "text"), ("failure", "text"), ("error", "text"), ("terminal", "boolean"),
    ("content_events", "boolean"), ("content", "text"),
)
"""The fields of the append function's ``p_delta`` (a JSON object; NULL for a batch of
TOKENs only, most batches, which then pass just ``p_last`` and ``p_tokens``)."""


def append_params(stream_id: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The append function's summary arguments for ``events``: ``d_last`` (the last
    event's ts), ``d_tokens`` (the batch's token count) and ``d_delta``."""
    kinds = {ev["type"] for ev in events}
    if kinds == {"TOKEN"}:
        last = events[-1]
        return {"d_last": float(last["ts"]), "d_tokens": int(last["index"]) + 1,
                "d_delta": None}
    delta = BatchDelta.of(stream_id, events)
    d = delta.alone
    text = content_from_batch(events) if kinds & TERMINAL_KINDS else None
    fields = {
        "sets_start": delta.sets_start, "sets_tokens": delta.sets_tokens,
        "sets_fallback": delta.sets_fallback, "sets_end": delta.sets_end, "model": d.model,
        "prompt": d.prompt_head, "options": orjson.dumps(d.options).decode(),
        "start": d.start_ts, "end_ts": d.end_ts, "retries": d.retry_attempts,
        "network": d.network_retry_count, "violations": d.violation_count,
        "drift": d.drift_detected, "fallback": d.fallback_index, "status": d.status,
        "failure": d.failure_type, "error": d.error_head,
        "terminal": bool(kinds & TERMINAL_KINDS),
        "content_events": bool(kinds & CONTENT_KINDS),
        "content": None if text is None else searchable(text),
    }
    return {"d_last": d.last_ts, "d_tokens": d.token_count,
            "d_delta": orjson.dumps(fields).decode()}


def call_args() -> sql.Composable:
    """The append call's summary arguments."""
    return sql.SQL("%(d_last)s::float8, %(d_tokens)s::bigint, %(d_delta)s::json")


class PostgresCatalog:
    """Names, DDL and SQL of the catalog of one prefix in one schema."""

    def __init__(self, schema: str, prefix: str) -> None:
        self.schema = schema
        self.prefix = prefix

        def name(suffix: str) -> sql.Identifier:
            return sql.Identifier(schema, f"{prefix}_{suffix}")

        self.streams = name("streams")
        self.events = name("events")
        self.snapshots = name("snapshots")
        self.summaries = name("summaries")
        self.texts = name("texts")
        self.catalog = name("catalog")
        source = sql.SQL("{} s JOIN {} t ON t.stream_id = s.stream_id").format(
            self.summaries, self.streams)
        self._source = source.as_string(None)
        self._texts = self.texts.as_string(None)
        self._stored = sql.SQL(", ").join(map(sql.Identifier, STORED_COLUMNS))

    # ── schema version 2 ──

    def _index(self, short: str, n: int) -> sql.Identifier:
        full = f"{self.prefix}_sum_{short}"
        return sql.Identifier(full if len(full) <= 63 else f"{self.prefix}_sum{n}")

    def migration(self, ids: Mapping[str, sql.Composable]) -> sql.Composed:
        """Tables, indexes and functions of version 2 (``ids``: the v1 names, the
        channel literal)."""
        parts: list[sql.Composable] = [sql.SQL("""
ALTER TABLE {streams} ADD COLUMN IF NOT EXISTS last_ts float8,
    ADD COLUMN IF NOT EXISTS duration_ms float8, ADD COLUMN IF NOT EXISTS event_count bigint,
    ADD COLUMN IF NOT EXISTS token_count bigint;
CREATE TABLE IF NOT EXISTS {summaries} (
    stream_id text PRIMARY KEY,
    model text COLLATE "C" NOT NULL, prompt_head text NOT NULL,
    start_ts float8 NOT NULL, end_ts float8 NOT NULL, status text COLLATE "C" NOT NULL,
    retry_attempts bigint NOT NULL, network_retry_count bigint NOT NULL,
    violation_count bigint NOT NULL, drift_detected boolean NOT NULL,
    fallback_index bigint NOT NULL, failure_type text COLLATE "C" NOT NULL,
    error_head text NOT NULL, retries bigint NOT NULL,
    sort_last_ts float8, sort_duration_ms float8, sort_event_count bigint,
    sort_token_count bigint, options json NOT NULL
) WITH (fillfactor = 90);
CREATE TABLE IF NOT EXISTS {texts} (stream_id text PRIMARY KEY, content text);
CREATE INDEX IF NOT EXISTS {texts_stale} ON {texts} (stream_id) WHERE content IS NULL;
CREATE TABLE IF NOT EXISTS {catalog} (shard int PRIMARY KEY,
    changes bigint NOT NULL DEFAULT 0, streams bigint NOT NULL DEFAULT 0);
INSERT INTO {catalog} (shard) SELECT -1 WHERE EXISTS (SELECT 1 FROM {streams} WHERE last_seq >= 0)
    ON CONFLICT (shard) DO NOTHING;
""").format(streams=self.streams, summaries=self.summaries, texts=self.texts,
            texts_stale=sql.Identifier(f"{self.prefix}_texts_stale"), catalog=self.catalog)]
        n = 0
        for col in STABLE_ORDERS:
            n += 1
            parts.append(sql.SQL('CREATE INDEX IF NOT EXISTS {} ON {} ({}, stream_id COLLATE "C");'
                                 ).format(self._index(col, n), self.summaries,
                                          sql.Identifier(col)))
        for col in SORT_COLUMNS:
            n += 1
            parts.append(sql.SQL('CREATE INDEX IF NOT EXISTS {} ON {} ({}, stream_id COLLATE "C")'
                                 " WHERE {} IS NOT NULL;").format(
                self._index(col, n), self.summaries, sql.Identifier(col), sql.Identifier(col)))
        for short, cols in (("status_start", "status, start_ts"),
                            ("model_start", "model, start_ts"), ("id", "")):
            n += 1
            lead = f"{cols}, " if cols else ""
            parts.append(sql.SQL('CREATE INDEX IF NOT EXISTS {} ON {} (' + lead +
                                 'stream_id COLLATE "C");').format(self._index(short, n),
                                                                   self.summaries))
        parts.append(self._functions(ids))
        return sql.Composed(parts)

    def _functions(self, ids: Mapping[str, sql.Composable]) -> sql.Composed:
        names = {**ids, "summaries": self.summaries, "texts": self.texts,
                 "catalog": self.catalog, "shards": sql.Literal(SHARDS - 1)}
        return sql.SQL(_FUNCTIONS).format(**names)

    async def ensure_trigram(self, conn: Any) -> bool:
        """A ``pg_trgm`` GIN index on the content, if the extension is there or may be
        created (trusted since PostgreSQL 13: the database's CREATE privilege suffices).
        Without it, text search reads every content. Runs inside the migration."""
        index = sql.Identifier(f"{self.prefix}_texts_trgm")
        cur = await conn.execute("SELECT to_regclass(%s)", (sql.Identifier(
            self.schema, f"{self.prefix}_texts_trgm").as_string(None),))
        row = await cur.fetchone()
        if row is not None and row[0] is not None:
            return True
        try:
            async with conn.transaction():  # a savepoint: a refusal undoes only this
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                   ("l0core:pg_trgm",))
                cur = await conn.execute("SELECT extnamespace::regnamespace::text FROM "
                                         "pg_extension WHERE extname = 'pg_trgm'")
                found = await cur.fetchone()
                if found is None:
                    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    cur = await conn.execute("SELECT extnamespace::regnamespace::text FROM "
                                             "pg_extension WHERE extname = 'pg_trgm'")
                    found = await cur.fetchone()
                assert found is not None
                await conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin "
                                           "(content {}.gin_trgm_ops)").format(
                    index, self.texts, sql.SQL(str(found[0]))))
        except Exception:  # no extension available, or no right to create it
            return False
        return True

    # ── state ──

    async def built(self, conn: Any) -> bool:
        """The tables exist and hold every stream's summary."""
        cur = await conn.execute("SELECT to_regclass(%s)", (self.catalog.as_string(None),))
        row = await cur.fetchone()
        if row is None or row[0] is None:
            return False
        cur = await conn.execute(sql.SQL("SELECT 1 FROM {} WHERE shard = -1").format(
            self.catalog))
        return await cur.fetchone() is None

    async def version(self, conn: Any) -> int:
        cur = await conn.execute(sql.SQL(
            "SELECT coalesce(sum(changes), 0) FROM {} WHERE shard >= 0").format(self.catalog))
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    # ── reading ──

    def _text(self, words: list[str]) -> tuple[str, list[Any]]:
        words = search_words(words)
        likes = " AND ".join("x.content LIKE %s" for _ in words)
        patterns = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                    for w in words]
        return (f"s.stream_id IN (SELECT x.stream_id FROM {self._texts} x WHERE {likes})",
                patterns)

    def _where(self, flt: SummaryFilter, now: int) -> tuple[list[str], list[Any]]:
        where, params = filter_sql(flt, DIALECT, self._text)
        where.append("(t.expires_at_ms IS NULL OR t.expires_at_ms > %s)")
        params.append(now)
        return where, params

    async def get(self, conn: Any, stream_id: str, now: int) -> StreamSummary | None:
        cur = await conn.execute(
            f"SELECT {SELECT_SUMMARY} FROM {self._source} WHERE s.stream_id = %s AND "
            "(t.expires_at_ms IS NULL OR t.expires_at_ms > %s)", (stream_id, now))
        row = await cur.fetchone()
        return None if row is None else row_summary(row)

    async def query(self, conn: Any, query: SummaryQuery, now: int) -> list[StreamSummary]:
        where, params = self._where(query.filter, now)
        text, values = select_page(query, DIALECT, self._source, where, params)
        # Binary results: a page's floats and ints are taken as they are sent instead
        # of parsed from text (a 10,000-stream listing 93 -> 81 ms).
        cur = await conn.execute(text, values, binary=True)
        return row_summaries(await cur.fetchall())

    async def count(self, conn: Any, flt: SummaryFilter, now: int) -> int:
        if flt.is_empty():
            cur = await conn.execute(sql.SQL(
                "SELECT (SELECT coalesce(sum(streams), 0) FROM {c} WHERE shard >= 0) - "
                "(SELECT count(*) FROM {t} WHERE expires_at_ms <= %s AND event_count IS NOT "
                "NULL)").format(c=self.catalog, t=self.streams), (now,))
        else:
            where, params = self._where(flt, now)
            cur = await conn.execute(f"SELECT count(*) FROM {self._source} WHERE "
                                     f"{' AND '.join(where)}", params)
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    # ── folding a stream inside a transaction that holds its row lock ──

    async def _fold(self, conn: Any, stream_id: str) -> tuple[StreamSummary, str, int]:
        summary = StreamSummary(stream_id=stream_id)
        content = ""
        lo = 0
        while True:
            cur = await conn.execute(sql.SQL(
                "SELECT seq, event::text FROM {} WHERE stream_id = %s AND seq >= %s "
                "ORDER BY seq LIMIT 20000").format(self.events), (stream_id, lo))
            rows = await cur.fetchall()
            if not rows:
                break
            batch = orjson.loads("[" + ",".join(r[1] for r in rows) + "]")
            advance_summary(summary, batch)
            content = final_content(batch, content)
            lo = int(rows[-1][0]) + 1
        return summary, content, lo - 1

    async def repair(self, conn: Any, stream_id: str) -> bool:
        """Write ``stream_id``'s summary and content from its events (caller's
        transaction). Returns False when the stream has no events."""
        cur = await conn.execute(sql.SQL(
            "SELECT last_seq FROM {} WHERE stream_id = %s FOR UPDATE").format(self.streams),
            (stream_id,))
        row = await cur.fetchone()
        if row is None or int(row[0]) < 0:
            return False
        summary, content, _last = await self._fold(conn, stream_id)
        await self.write_whole(conn, [(summary, content)])
        return True

    async def write_whole(self, conn: Any,
                          items: list[tuple[StreamSummary, str]]) -> None:
        """Upsert whole summaries, their live fields and the contents of ended ones
        (caller's transaction, stream rows locked), counting the new rows."""
        if not items:
            return
        ids = [s.stream_id for s, _ in items]
        cur = await conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE stream_id = ANY(%s)")
                                 .format(self.summaries), (ids,))
        row = await cur.fetchone()
        existing = int(row[0]) if row else 0
        marks = ", ".join("%s" for _ in STORED_COLUMNS)
        updates = sql.SQL(", ").join(
            sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in STORED_COLUMNS[1:])
        async with conn.cursor() as cur:
            await cur.executemany(sql.SQL(
                "INSERT INTO {s} ({cols}) VALUES (" + marks + ") ON CONFLICT (stream_id) "
                "DO UPDATE SET {updates}").format(
                s=self.summaries, cols=self._stored, updates=updates),
                [stored_values(s) for s, _ in items])
            await cur.executemany(sql.SQL(
                "UPDATE {} SET last_ts = %s, duration_ms = %s, event_count = %s, "
                "token_count = %s WHERE stream_id = %s").format(self.streams),
                [(*live_values(s), s.stream_id) for s, _ in items])
            ended = [(s.stream_id, searchable(c)) for s, c in items if s.status != "running"]
            if ended:
                await cur.executemany(sql.SQL(
                    "INSERT INTO {} (stream_id, content) VALUES (%s, %s) ON CONFLICT "
                    "(stream_id) DO UPDATE SET content = EXCLUDED.content").format(self.texts),
                    ended)
            running = [s.stream_id for s, _ in items if s.status == "running"]
            if running:
                await cur.execute(sql.SQL("DELETE FROM {} WHERE stream_id = ANY(%s)").format(
                    self.texts), (running,))
        await self.count_changes(conn, len(items) - existing)

    async def count_changes(self, conn: Any, streams: int) -> None:
        await conn.execute(sql.SQL(
            "INSERT INTO {c} (shard, changes, streams) VALUES (pg_backend_pid() & {n}, 1, %s) "
            "ON CONFLICT (shard) DO UPDATE SET changes = {c}.changes + 1, "
            "streams = {c}.streams + EXCLUDED.streams").format(
            c=self.catalog, n=sql.Literal(SHARDS - 1)), (streams,))

    async def lock(self, conn: Any, stream_id: str) -> None:
        """Take the stream's row lock (held to the end of the caller's transaction)."""
        await conn.execute(sql.SQL("SELECT 1 FROM {} WHERE stream_id = %s FOR UPDATE")
                           .format(self.streams), (stream_id,))

    async def refold_content(self, conn: Any, stream_id: str) -> None:
        """Index the final content of an ended stream the append could not fold."""
        summary, content, _last = await self._fold(conn, stream_id)
        if summary.status != "running":
            await conn.execute(sql.SQL("UPDATE {} SET content = %s WHERE stream_id = %s")
                               .format(self.texts), (searchable(content), stream_id))

    async def stale_contents(self, conn: Any, limit: int = 1000) -> list[str]:
        cur = await conn.execute(sql.SQL(
            "SELECT stream_id FROM {} WHERE content IS NULL LIMIT %s").format(self.texts),
            (limit,))
        return [str(r[0]) for r in await cur.fetchall()]

    # ── building (summaries of streams older than version 2, or a repair) ──

    async def build_chunk(self, conn: Any, after: str, size: int) -> tuple[int, str]:
        """Summaries of the next ``size`` streams after ``after`` (caller's transaction,
        which locks their rows)."""
        cur = await conn.execute(sql.SQL(
            "SELECT stream_id, last_seq FROM {} WHERE stream_id > %s AND last_seq >= 0 "
            "ORDER BY stream_id LIMIT %s FOR UPDATE").format(self.streams), (after, size))
        rows = [(str(r[0]), int(r[1])) for r in await cur.fetchall()]
        if not rows:
            return 0, after
        items: list[tuple[StreamSummary, str]] = []
        if sum(last + 1 for _, last in rows) <= BUILD_EVENTS:
            cur = await conn.execute(sql.SQL(
                "SELECT stream_id, event::text FROM {} WHERE stream_id = ANY(%s) "
                "ORDER BY stream_id, seq").format(self.events), ([sid for sid, _ in rows],))
            by_stream: dict[str, list[str]] = {}
            for sid, text in await cur.fetchall():
                by_stream.setdefault(str(sid), []).append(text)
            for sid, texts in by_stream.items():
                batch = orjson.loads("[" + ",".join(texts) + "]")
                summary = StreamSummary(stream_id=sid)
                advance_summary(summary, batch)
                items.append((summary, final_content(batch)))
        else:
            for sid, _ in rows:
                summary, content, _last = await self._fold(conn, sid)
                if summary.event_count:
                    items.append((summary, content))
        await self.write_whole(conn, items)
        return len(rows), rows[-1][0]

    async def finish_build(self, conn: Any) -> None:
        """Drop summaries whose stream is gone, then mark the catalog built."""
        cur = await conn.execute(sql.SQL(
            "WITH gone AS (DELETE FROM {s} m WHERE NOT EXISTS (SELECT 1 FROM {t} x WHERE "
            "x.stream_id = m.stream_id AND x.last_seq >= 0) RETURNING m.stream_id), "
            "texts AS (DELETE FROM {x} WHERE stream_id IN (SELECT stream_id FROM gone)) "
            "SELECT count(*) FROM gone").format(s=self.summaries, t=self.streams,
                                                 x=self.texts))
        row = await cur.fetchone()
        gone = int(row[0]) if row else 0
        await self.count_changes(conn, -gone)
        await conn.execute(sql.SQL("DELETE FROM {} WHERE shard = -1").format(self.catalog))


# The append, delete and sweep functions of version 2 (the v1 append is dropped: a
# writer of an older l0core then fails loudly instead of skipping the summaries).
_FUNCTIONS = """
DROP FUNCTION IF EXISTS {append}(text, bigint, json, bigint, bigint, uuid, boolean, boolean);
CREATE OR REPLACE FUNCTION {append}(
    p_stream text, p_expected bigint, p_events json, p_now bigint, p_ttl bigint,
    p_batch uuid, p_retry boolean, p_notify boolean, p_last float8, p_tokens bigint,
    p_delta json, OUT status int, OUT last_seq bigint, OUT needs int)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_last bigint;
    v_expires bigint;
    v_found bigint;
    v_n bigint;
    v_events bigint;
    v_tokens bigint;
    v_last_ts float8;
    v_duration float8;
    v_start float8;
    v_end float8;
    v_old text;
    v_new text;
    v_gone int;
    v_inserted boolean;
    v_new_streams int := 0;
    -- The batch folded on its own; a batch of TOKENs only passes no p_delta.
    d_tokens_only boolean := p_delta IS NULL;
    d_sets_start boolean := false;
    d_sets_tokens boolean := true;
    d_sets_fallback boolean := false;
    d_sets_end boolean := false;
    d_model text := '';
    d_prompt text := '';
    d_options text := '{{}}';
    d_start float8 := 0;
    d_end_ts float8 := 0;
    d_retries bigint := 0;
    d_network bigint := 0;
    d_violations bigint := 0;
    d_drift boolean := false;
    d_fallback bigint := 0;
    d_status text := 'running';
    d_failure text := '';
    d_error text := '';
    d_terminal boolean := false;
    d_content_events boolean := true;
    d_content text;
BEGIN
    needs := 0;
    IF p_delta IS NOT NULL THEN
        SELECT (j->>'sets_start')::boolean, (j->>'sets_tokens')::boolean,
               (j->>'sets_fallback')::boolean, (j->>'sets_end')::boolean, j->>'model',
               j->>'prompt', j->>'options', (j->>'start')::float8, (j->>'end_ts')::float8,
               (j->>'retries')::bigint, (j->>'network')::bigint, (j->>'violations')::bigint,
               (j->>'drift')::boolean, (j->>'fallback')::bigint, j->>'status',
               j->>'failure', j->>'error', (j->>'terminal')::boolean,
               (j->>'content_events')::boolean, j->>'content'
          INTO d_sets_start, d_sets_tokens, d_sets_fallback, d_sets_end, d_model,
               d_prompt, d_options, d_start, d_end_ts, d_retries, d_network, d_violations,
               d_drift, d_fallback, d_status, d_failure, d_error, d_terminal,
               d_content_events, d_content
          FROM (SELECT p_delta::jsonb AS j) x;
    END IF;
    -- Lock the stream row (creating it if needed): writers of one stream queue here.
    LOOP
        SELECT s.last_seq, s.expires_at_ms, s.event_count, s.token_count
            INTO v_last, v_expires, v_events, v_tokens
            FROM {streams} s WHERE s.stream_id = p_stream FOR UPDATE;
        EXIT WHEN FOUND;
        IF p_expected IS NOT NULL AND p_expected <> -1 AND NOT p_retry THEN
            status := 1; last_seq := -1; RETURN;
        END IF;
        INSERT INTO {streams} (stream_id, last_seq) VALUES (p_stream, -1)
            ON CONFLICT (stream_id) DO NOTHING;
    END LOOP;
    -- A retry after a lost reply: if the first attempt committed, report its seq
    -- (and what it left for the caller to do). Checked under the lock.
    IF p_retry THEN
        SELECT e.seq INTO v_found FROM {events} e
            WHERE e.batch_id = p_batch AND e.stream_id = p_stream;
        IF FOUND THEN
            status := 2; last_seq := v_found;
            IF v_events IS NULL AND v_last >= 0 THEN
                needs := 1;
            END IF;
            IF EXISTS (SELECT 1 FROM {texts} x WHERE x.stream_id = p_stream
                       AND x.content IS NULL) THEN
                needs := needs | 2;
            END IF;
            RETURN;
        END IF;
    END IF;
    -- An expired stream that the sweeper has not reached yet starts again at 0.
    IF v_expires IS NOT NULL AND v_expires <= p_now THEN
        DELETE FROM {events} WHERE stream_id = p_stream;
        DELETE FROM {snapshots} WHERE stream_id = p_stream;
        DELETE FROM {texts} WHERE stream_id = p_stream;
        DELETE FROM {summaries} WHERE stream_id = p_stream;
        GET DIAGNOSTICS v_gone = ROW_COUNT;
        UPDATE {streams} SET last_seq = -1, expires_at_ms = NULL, last_ts = NULL,
            duration_ms = NULL, event_count = NULL, token_count = NULL
            WHERE stream_id = p_stream;
        INSERT INTO {catalog} (shard, changes, streams)
            VALUES (hashtext(p_stream) & {shards}, 1, -v_gone)
            ON CONFLICT (shard) DO UPDATE SET changes = {catalog}.changes + 1,
                streams = {catalog}.streams + EXCLUDED.streams;
        v_last := -1;
        v_events := NULL;
    END IF;
    IF p_expected IS NOT NULL AND p_expected <> v_last THEN
        status := 1; last_seq := v_last; RETURN;
    END IF;
    v_n := json_array_length(p_events);
    INSERT INTO {events} (stream_id, seq, event, batch_id)
        SELECT p_stream, v_last + t.o, t.e, CASE WHEN t.o = v_n THEN p_batch END
        FROM json_array_elements(p_events) WITH ORDINALITY AS t(e, o);
    -- The summary: the batch alone for a new stream, else combined with the stored one.
    v_last_ts := p_last;
    IF v_last = -1 THEN
        v_old := NULL;
        v_new := d_status;
        v_start := d_start;
        v_end := d_end_ts;
        v_events := v_n;
        v_tokens := p_tokens;
    ELSIF v_events IS NULL THEN
        needs := 1;  -- written before version 2: the caller folds it
    ELSE
        SELECT m.status, m.start_ts, m.end_ts INTO v_old, v_start, v_end
            FROM {summaries} m WHERE m.stream_id = p_stream;
        IF NOT FOUND THEN
            needs := 1;  -- live fields without their row: the caller folds it again
        END IF;
        IF d_sets_start THEN
            v_start := d_start;
        END IF;
        IF d_sets_end THEN
            v_end := d_end_ts;
        END IF;
        v_new := CASE WHEN d_status = 'error' THEN 'error'
                      WHEN d_status = 'completed' AND v_old <> 'error' THEN 'completed'
                      ELSE v_old END;
        v_events := v_events + v_n;
        IF d_sets_tokens THEN
            v_tokens := p_tokens;
        END IF;
    END IF;
    IF needs <> 1 THEN
        v_duration := CASE WHEN v_start <> 0 THEN greatest(0::float8,
            (CASE WHEN v_end <> 0 THEN v_end ELSE v_last_ts END) - v_start) ELSE 0 END;
        IF v_old IS NULL THEN
            INSERT INTO {summaries} AS m (stream_id, model, prompt_head, start_ts, end_ts,
                status, retry_attempts, network_retry_count, violation_count,
                drift_detected, fallback_index, failure_type, error_head, retries,
                sort_last_ts, sort_duration_ms, sort_event_count, sort_token_count, options)
            VALUES (p_stream, d_model, d_prompt, d_start, d_end_ts, d_status, d_retries,
                d_network, d_violations, d_drift, d_fallback, d_failure, d_error,
                d_retries + d_network,
                CASE WHEN v_new <> 'running' THEN v_last_ts END,
                CASE WHEN v_new <> 'running' THEN v_duration END,
                CASE WHEN v_new <> 'running' THEN v_events END,
                CASE WHEN v_new <> 'running' THEN v_tokens END, d_options::json)
            ON CONFLICT (stream_id) DO UPDATE SET model = EXCLUDED.model,
                prompt_head = EXCLUDED.prompt_head, start_ts = EXCLUDED.start_ts,
                end_ts = EXCLUDED.end_ts, status = EXCLUDED.status,
                retry_attempts = EXCLUDED.retry_attempts,
                network_retry_count = EXCLUDED.network_retry_count,
                violation_count = EXCLUDED.violation_count,
                drift_detected = EXCLUDED.drift_detected,
                fallback_index = EXCLUDED.fallback_index,
                failure_type = EXCLUDED.failure_type, error_head = EXCLUDED.error_head,
                retries = EXCLUDED.retries, sort_last_ts = EXCLUDED.sort_last_ts,
                sort_duration_ms = EXCLUDED.sort_duration_ms,
                sort_event_count = EXCLUDED.sort_event_count,
                sort_token_count = EXCLUDED.sort_token_count, options = EXCLUDED.options
            RETURNING (m.xmax = 0) INTO v_inserted;
            IF v_inserted THEN
                v_new_streams := 1;
            END IF;
        ELSIF NOT (d_tokens_only AND v_old = 'running') THEN
            UPDATE {summaries} m SET start_ts = v_start, end_ts = v_end, status = v_new,
                retry_attempts = m.retry_attempts + d_retries,
                network_retry_count = m.network_retry_count + d_network,
                retries = m.retries + d_retries + d_network,
                violation_count = m.violation_count + d_violations,
                drift_detected = m.drift_detected OR d_drift,
                fallback_index = CASE WHEN d_sets_fallback THEN d_fallback
                                      ELSE m.fallback_index END,
                failure_type = CASE WHEN d_status = 'error' THEN d_failure
                                    ELSE m.failure_type END,
                error_head = CASE WHEN d_status = 'error' THEN d_error ELSE m.error_head END,
                sort_last_ts = CASE WHEN v_new <> 'running' THEN v_last_ts END,
                sort_duration_ms = CASE WHEN v_new <> 'running' THEN v_duration END,
                sort_event_count = CASE WHEN v_new <> 'running' THEN v_events END,
                sort_token_count = CASE WHEN v_new <> 'running' THEN v_tokens END
                WHERE m.stream_id = p_stream;
        END IF;
        -- An ended stream's final content: from the batch when it decides it, else
        -- NULL, which asks the caller to fold the earlier events (needs = 2).
        IF v_new <> 'running' AND (d_terminal
                                   OR (coalesce(v_old, 'running') <> 'running'
                                       AND d_content_events)) THEN
            INSERT INTO {texts} (stream_id, content) VALUES (p_stream, d_content)
                ON CONFLICT (stream_id) DO UPDATE SET content = EXCLUDED.content;
            IF d_content IS NULL THEN
                needs := 2;
            END IF;
        END IF;
    ELSE
        v_events := NULL;
        v_tokens := NULL;
        v_last_ts := NULL;
    END IF;
    UPDATE {streams}
        SET last_seq = v_last + v_n,
            expires_at_ms = CASE WHEN p_ttl > 0 THEN p_now + p_ttl END,
            last_ts = v_last_ts, duration_ms = v_duration, event_count = v_events,
            token_count = v_tokens
        WHERE stream_id = p_stream;
    INSERT INTO {catalog} (shard, changes, streams)
        VALUES (hashtext(p_stream) & {shards}, 1, v_new_streams)
        ON CONFLICT (shard) DO UPDATE SET changes = {catalog}.changes + 1,
            streams = {catalog}.streams + EXCLUDED.streams;
    IF p_notify THEN
        PERFORM pg_notify({channel}, p_stream);
    END IF;
    status := 0; last_seq := v_last + v_n;
END
$fn$;

CREATE OR REPLACE FUNCTION {delete}(p_stream text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    v_gone int;
BEGIN
    PERFORM 1 FROM {streams} WHERE stream_id = p_stream FOR UPDATE;
    DELETE FROM {events} WHERE stream_id = p_stream;
    DELETE FROM {snapshots} WHERE stream_id = p_stream;
    DELETE FROM {texts} WHERE stream_id = p_stream;
    DELETE FROM {summaries} WHERE stream_id = p_stream;
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    DELETE FROM {streams} WHERE stream_id = p_stream;
    INSERT INTO {catalog} (shard, changes, streams)
        VALUES (hashtext(p_stream) & {shards}, 1, -v_gone)
        ON CONFLICT (shard) DO UPDATE SET changes = {catalog}.changes + 1,
            streams = {catalog}.streams + EXCLUDED.streams;
    PERFORM pg_notify({channel}, p_stream);
END
$fn$;

CREATE OR REPLACE FUNCTION {sweep}(p_now bigint, p_limit int) RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
    v_ids text[];
    v_gone int;
BEGIN
    SELECT array_agg(x.stream_id) INTO v_ids FROM (
        SELECT stream_id FROM {streams} WHERE expires_at_ms <= p_now
        ORDER BY expires_at_ms LIMIT p_limit FOR UPDATE SKIP LOCKED) x;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM {events} WHERE stream_id = ANY (v_ids);
    DELETE FROM {snapshots} WHERE stream_id = ANY (v_ids);
    DELETE FROM {texts} WHERE stream_id = ANY (v_ids);
    DELETE FROM {summaries} WHERE stream_id = ANY (v_ids);
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    DELETE FROM {streams} WHERE stream_id = ANY (v_ids);
    INSERT INTO {catalog} (shard, changes, streams)
        VALUES (pg_backend_pid() & {shards}, 1, -v_gone)
        ON CONFLICT (shard) DO UPDATE SET changes = {catalog}.changes + 1,
            streams = {catalog}.streams + EXCLUDED.streams;
    PERFORM pg_notify({channel}, '');
    RETURN cardinality(v_ids);
END
$fn$;
"""
