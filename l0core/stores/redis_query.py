"""Answering a :class:`~l0core.catalog.SummaryQuery` from the Redis catalog's sorted sets.

The query picks the sorted sets that hold exactly the candidate rows in the wanted
order (l0core.stores.redis_catalog): the ``o:<status>:<order>`` sets of the statuses
the filter allows, or, when sorting by ``start_ts``, the smallest of those and the
``f:model``/``f:failure``/``f:flag`` sets the filter names, bounded by
``since``/``until`` (``id_prefix`` bounds a sort by id). Each set is read in pages
with ``ZRANGE ... BYLEX [REV] LIMIT`` from the keyset cursor; the pages of every
set, and on a cluster of every shard, are merged by member bytes. Candidates are
then checked against the whole filter with the reference semantics
(:func:`l0core.catalog.matches`) on their summary hashes, in batches, until the page
is full: an indexed filter reads about as many summaries as it returns.

Running streams have no members in the sets of the fields every TOKEN moves
(``LIVE_FIELDS``): sorting by one of those reads the running streams' ids from
``o:running:stream_id`` and their values from the summary hashes, and merges them
in as one more source, sorted here. Running streams are few (the ones being written
now, and those a writer abandoned), so this costs one round trip per query.

Text search has no index in Redis (no search module is assumed): it checks the
stored final content of the candidates the other conditions leave (ended streams),
or folds the events (running streams). Counts use ``ZCARD``/``ZLEXCOUNT`` where one
set holds exactly the matching streams, and otherwise count candidates the same way.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from l0core.catalog.query import (
    SummaryFilter,
    SummaryPage,
    SummaryQuery,
    matches,
    sort_key,
    text_words,
    value_of,
)
from l0core.catalog.summary import StreamSummary
from l0core.stores.redis_catalog import (
    FLAGS,
    HASH_NAMES,
    LIVE_FIELDS,
    STATUSES,
    cursor_bound,
    enc_float,
    enc_text,
    failure_set,
    flag_set,
    gather_args,
    gathered_summaries,
    hash_fields,
    is_ended,
    member,
    model_set,
    order_set,
    packed_args,
    packed_summaries,
    partial_summary,
    stream_id_of,
    summary_from_hash,
)

if TYPE_CHECKING:
    from l0core.stores.redis import Client, RedisEventStore

Bound = tuple[bytes, bool]
"""A member and whether it is included."""

_Counted = tuple[str, Bound | None, Bound | None]
"""A set and the member range of it a count adds up."""

_MAX_PAGE = 1000
_PREFIX_SORT_CAP = 2000


@dataclass(slots=True)
class _Source:
    """One sorted set read in order; ``prefix`` is put before its members in the merge
    (the status, when sorting by status)."""

    key: str
    prefix: bytes = b""
    lo: Bound | None = None
    hi: Bound | None = None
    empty: bool = False
    buffer: list[bytes] = field(default_factory=list)
    done: bool = False
    running_by: str = ""
    """Not a set: the running streams, ordered by this live field when read."""


@dataclass(slots=True)
class _Plan:
    field: str
    """The field the sets' members are ordered by (to find the stream id in a member)."""
    families: list[list[_Source]]
    """Alternatives, each a list of sets that together hold every candidate."""
    lo: Bound | None = None
    hi: Bound | None = None


class _Rev:
    """Reverses the order of bytes in a heap (descending merges)."""

    __slots__ = ("value",)

    def __init__(self, value: bytes) -> None:
        self.value = value

    def __lt__(self, other: _Rev) -> bool:
        return self.value > other.value


def allowed_statuses(flt: SummaryFilter) -> list[str]:
    allowed = set(STATUSES)
    if flt.status is not None:
        allowed &= set(flt.status)
    if flt.has_error is True:
        allowed &= {"error"}
    elif flt.has_error is False:
        allowed.discard("error")
    return [s for s in STATUSES if s in allowed]


def filter_attributes(flt: SummaryFilter) -> list[str]:
    """The summary attributes :func:`~l0core.catalog.matches` reads for ``flt`` (text
    and stream-id conditions aside)."""
    names: set[str] = set()
    if flt.status is not None or flt.has_error is not None:
        names.add("status")
    if flt.model is not None:
        names.add("model")
    if flt.since is not None or flt.until is not None:
        names.add("start_ts")
    if flt.has_retries is not None:
        names.update(("retry_attempts", "network_retry_count"))
    if flt.has_violations is not None:
        names.add("violation_count")
    if flt.has_fallback is not None:
        names.add("fallback_index")
    if flt.has_drift is not None:
        names.add("drift_detected")
    if flt.failure_type is not None:
        names.add("failure_type")
    for c in flt.comparisons:
        names.update(("retry_attempts", "network_retry_count") if c.field == "retries"
                     else (c.field,))
    return sorted(names)


def _prefix_range(prefix: str) -> tuple[Bound, Bound | None]:
    raw = prefix.encode()
    lo: Bound = (raw, True)
    stripped = raw.rstrip(b"\xff")
    if not stripped:
        return lo, None
    return lo, (stripped[:-1] + bytes([stripped[-1] + 1]), False)


def _max_lo(a: Bound | None, b: Bound | None) -> Bound | None:
    if a is None or b is None:
        return a or b
    if a[0] != b[0]:
        return a if a[0] > b[0] else b
    return a if not a[1] else b


def _min_hi(a: Bound | None, b: Bound | None) -> Bound | None:
    if a is None or b is None:
        return a or b
    if a[0] != b[0]:
        return a if a[0] < b[0] else b
    return a if not a[1] else b


def _local(bound: Bound | None, prefix: bytes, lower: bool) -> tuple[Bound | None, bool]:
    """A merged-order bound as a bound on one set's own members (and whether the set
    is then empty)."""
    if bound is None or not prefix:
        return bound, False
    value, inclusive = bound
    if value.startswith(prefix):
        return (value[len(prefix):], inclusive), False
    if value < prefix:
        return None, not lower
    return None, lower


def _within(raw: bytes, lo: Bound | None, hi: Bound | None) -> bool:
    if lo is not None and (raw < lo[0] or (raw == lo[0] and not lo[1])):
        return False
    return hi is None or raw < hi[0] or (raw == hi[0] and hi[1])


def _arg(bound: Bound | None, lower: bool) -> bytes:
    if bound is None:
        return b"-" if lower else b"+"
    return (b"[" if bound[1] else b"(") + bound[0]


class CatalogReader:
    """One query or count over ``store``'s catalog."""

    def __init__(self, store: RedisEventStore) -> None:
        self.store = store
        self.keys = store.keys
        self.now = store.server_now()
        self.expired: set[str] = set()
        self.status_implied = False
        """The candidates come from the sets of the statuses the filter allows."""

    # ── planning ──

    def _sets(self, name: str, prefix: bytes = b"") -> list[_Source]:
        return [_Source(self.keys.cat(shard, name), prefix)
                for shard in range(self.keys.shard_count())]

    def plan(self, flt: SummaryFilter, order: str) -> _Plan:
        statuses = allowed_statuses(flt)
        if order == "status":
            return _Plan("stream_id", [[src for s in statuses for src in self._sets(
                order_set(s, "stream_id"), enc_text(s).encode())]])
        live = order in LIVE_FIELDS
        primary = [src for s in statuses if not (live and s == "running")
                   for src in self._sets(order_set(s, order))]
        if live and "running" in statuses:
            primary.append(_Source("", running_by=order))
        plan = _Plan(order, [primary])
        if order == "start_ts":
            if flt.model is not None:
                plan.families.append(self._sets(model_set(flt.model)))
            if flt.failure_type:
                plan.families.append(self._sets(failure_set(flt.failure_type)))
            for flag in FLAGS:
                if getattr(flt, f"has_{flag}") is True:
                    plan.families.append(self._sets(flag_set(flag)))
            if flt.since is not None:
                plan.lo = (enc_float(flt.since).encode(), True)
            if flt.until is not None:
                plan.hi = (enc_float(flt.until).encode(), False)
        elif order == "stream_id" and flt.id_prefix:
            plan.lo, plan.hi = _prefix_range(flt.id_prefix)
        return plan

    async def _choose(self, plan: _Plan) -> list[_Source]:
        """The family with the fewest members (one round trip when there is a choice)."""
        if len(plan.families) == 1:
            return plan.families[0]
        flat = [src for family in plan.families for src in family]

        async def go(client: Client, _retry: bool) -> list[int]:
            pipe = client.pipeline(transaction=False)
            for src in flat:
                pipe.zcard(src.key)
            return cast(list[int], await pipe.execute())

        sizes = iter(await self.store.run(go))
        totals = [sum(next(sizes) for _ in family) for family in plan.families]
        return plan.families[totals.index(min(totals))]

    # ── reading sets in merged order ──

    async def _fill(self, sources: list[_Source], descending: bool, page: int) -> None:
        """Read the next page of every source whose buffer is empty."""
        wanted = [s for s in sources if not s.buffer and not s.done and not s.empty]
        if not wanted:
            return

        async def go(client: Client, _retry: bool) -> list[list[bytes]]:
            pipe = client.pipeline(transaction=False)
            for src in wanted:
                lo, hi = _arg(src.lo, True), _arg(src.hi, False)
                if descending:
                    pipe.execute_command("ZRANGE", src.key, hi, lo, "BYLEX", "REV",
                                         "LIMIT", 0, page)
                else:
                    pipe.execute_command("ZRANGE", src.key, lo, hi, "BYLEX", "LIMIT", 0, page)
            return cast(list[list[bytes]], await pipe.execute())

        for src, got in zip(wanted, await self.store.run(go), strict=True):
            src.buffer = list(reversed(got))  # pop() from the end
            if len(got) < page:
                src.done = True
            elif got:
                if descending:
                    src.hi = (got[-1], False)
                else:
                    src.lo = (got[-1], False)

    async def _candidates(self, plan: _Plan, query: SummaryQuery,
                          first_page: int) -> _Merge:
        sources = await self._choose(plan)
        self.status_implied = sources is plan.families[0]
        lo, hi = plan.lo, plan.hi
        if query.after is not None:
            value, sid = query.after
            if query.order == "status":
                cursor, inclusive = enc_text(value).encode() + sid.encode(), False
            else:
                cursor, inclusive = cursor_bound(plan.field, value, sid, query.descending)
            if query.descending:
                hi = _min_hi(hi, (cursor, inclusive))
            else:
                lo = _max_lo(lo, (cursor, inclusive))
        flt = query.filter
        if flt.id_prefix and plan.field != "stream_id":
            ids = await self._few_with_prefix(allowed_statuses(flt), flt.id_prefix)
            if ids is not None:  # fewer than walking the order's sets would read
                only = _Source("", lo=lo, hi=hi)
                await self._sort_ids(only, ids, plan.field, query.descending)
                self.status_implied = True
                return _Merge(self, [only], plan.field, query.descending, first_page)
        for src in sources:
            src.lo, empty_lo = _local(lo, src.prefix, True)
            src.hi, empty_hi = _local(hi, src.prefix, False)
            src.empty = empty_lo or empty_hi
            if src.running_by:
                await self._sort_ids(src, await self._ids_in(
                    [s.key for s in self._sets(order_set("running", "stream_id"))]),
                    src.running_by, query.descending)
        return _Merge(self, sources, plan.field, query.descending, first_page)

    async def _ids_in(self, keys: list[str], lo: Bound | None = None,
                      hi: Bound | None = None) -> list[str]:
        """The stream ids of the ``o:<status>:stream_id`` sets ``keys`` within a range."""
        lo_arg, hi_arg = _arg(lo, True), _arg(hi, False)

        async def go(client: Client, _retry: bool) -> list[list[bytes]]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.execute_command("ZRANGE", key, lo_arg, hi_arg, "BYLEX")
            return cast(list[list[bytes]], await pipe.execute())

        return [raw.decode() for got in await self.store.run(go) for raw in got]

    async def _few_with_prefix(self, statuses: list[str], prefix: str) -> list[str] | None:
        """The ids with ``prefix`` of the allowed statuses, if at most
        :data:`_PREFIX_SORT_CAP`: sorting those beats walking another order's sets
        (which reads the whole catalog when the prefix is narrow)."""
        lo, hi = _prefix_range(prefix)
        keys = [src.key for s in statuses for src in self._sets(order_set(s, "stream_id"))]
        counted = await self._sum_counts([(key, lo, hi) for key in keys])
        if counted > _PREFIX_SORT_CAP:
            return None
        return await self._ids_in(keys, lo, hi)

    async def _sort_ids(self, src: _Source, ids: list[str], by: str,
                        descending: bool) -> None:
        """Fill ``src`` with the members ``ids`` would have in a set ordered by ``by``,
        within its bounds and sorted (expired streams left out): the running streams
        of a live field, or the few streams an id prefix leaves."""
        members: list[bytes] = []
        names = ["retry_attempts", "network_retry_count"] if by == "retries" else [by]
        for start in range(0, len(ids), _MAX_PAGE):
            for summary in await self._partial(ids[start:start + _MAX_PAGE], names):
                if summary is None:
                    continue
                raw = member(by, value_of(summary, by), summary.stream_id).encode()
                if _within(raw, src.lo, src.hi):
                    members.append(raw)
        members.sort(reverse=not descending)  # pop() from the end
        src.buffer, src.done = members, True

    # ── checking candidates ──

    async def _gathered(self, ids: list[str], names: Sequence[str]
                        ) -> list[StreamSummary | None] | None:
        """The summaries of ``ids`` with the attributes ``names`` read by one GATHER
        call (expired ones None); None on a cluster, whose keys of one call must share
        a slot, for a user who may not run scripts, or when the reply is not JSON: the
        caller reads the hashes then."""
        if not ids:
            return None
        keys = [self.keys.summary(sid) for sid in ids]
        got = None
        if tuple(names) == HASH_NAMES:  # whole summaries: packed, where every hash has them
            reply = await self.store.gather(keys, packed_args(ids), "gather_packed")
            got = None if reply is None else packed_summaries(reply)
        if got is None:
            reply = await self.store.gather(keys, gather_args(names))
            got = None if reply is None else gathered_summaries(ids, reply)
        if got is None:
            return None
        out: list[StreamSummary | None] = []
        for sid, found in zip(ids, got, strict=True):
            if found is not None and found[1] is not None and found[1] <= self.now:
                self.expired.add(sid)
                found = None
            out.append(None if found is None else found[0])
        return out

    async def _summaries(self, ids: list[str]) -> list[StreamSummary | None]:
        gathered = await self._gathered(ids, HASH_NAMES)
        if gathered is not None:
            return gathered
        keys = [self.keys.summary(sid) for sid in ids]

        async def go(client: Client, _retry: bool) -> list[dict[bytes, bytes]]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(key)
            return cast(list[dict[bytes, bytes]], await pipe.execute())

        out: list[StreamSummary | None] = []
        for sid, raw in zip(ids, await self.store.run(go), strict=True):
            if not raw:
                out.append(None)
                continue
            summary, _, expiry = summary_from_hash(sid, raw)
            if expiry is not None and expiry <= self.now:
                self.expired.add(sid)
                out.append(None)
            else:
                out.append(summary)
        return out

    async def _contents(self, summaries: list[StreamSummary]) -> list[str]:
        ended = [s for s in summaries if is_ended(s)]
        keys = [self.keys.content(s.stream_id) for s in ended]

        async def go(client: Client, _retry: bool) -> list[bytes | None]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.get(key)
            return cast(list[bytes | None], await pipe.execute())

        stored = dict(zip((s.stream_id for s in ended), await self.store.run(go),
                          strict=True)) if ended else {}
        out = []
        for s in summaries:
            if is_ended(s):
                raw = stored.get(s.stream_id)
                out.append(raw.decode() if raw is not None else "")
            else:
                out.append(await self.store.fold_content(s.stream_id))
        return out

    async def _partial(self, ids: list[str], names: list[str]) -> list[StreamSummary | None]:
        """Summaries with only the attributes ``names`` (what a filter looks at): far less
        to read and parse than whole hashes while scanning candidates."""
        gathered = await self._gathered(ids, names)
        if gathered is not None:
            return gathered
        keys = [self.keys.summary(sid) for sid in ids]
        wanted = hash_fields(names)

        async def go(client: Client, _retry: bool) -> list[list[bytes | None]]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(key, wanted)
            return cast(list[list[bytes | None]], await pipe.execute())

        out: list[StreamSummary | None] = []
        for sid, values in zip(ids, await self.store.run(go), strict=True):
            found = partial_summary(sid, names, values)
            if found is None:
                out.append(None)
            elif found[1] is not None and found[1] <= self.now:
                self.expired.add(sid)
                out.append(None)
            else:
                out.append(found[0])
        return out

    async def _matching(self, ids: list[str], flt: SummaryFilter, *,
                        whole: bool = True) -> list[StreamSummary]:
        """The summaries of ``ids`` (in order) that match ``flt``; with ``whole=False``
        (counting) only the attributes the filter reads are filled in."""
        if flt.id_prefix is not None:
            ids = [sid for sid in ids if sid.startswith(flt.id_prefix)]
        if flt.id_contains is not None:
            ids = [sid for sid in ids if flt.id_contains in sid]
        if not ids:
            return []
        plain = dataclasses.replace(flt, text=None)
        residual = plain
        if self.status_implied:  # read from the status's own sets
            residual = dataclasses.replace(plain, status=None, has_error=None)
        names = filter_attributes(residual)
        if whole and not names:
            everyone = plain.is_empty()  # a plain listing: nothing to check per stream
            hits = [s for s in await self._summaries(ids)
                    if s is not None and (everyone or matches(s, plain))]
        else:
            hits = [s for s in await self._partial(ids, names)
                    if s is not None and matches(s, residual)]
            if whole and hits:
                hits = [s for s in await self._summaries([h.stream_id for h in hits])
                        if s is not None and matches(s, plain)]
        if flt.text is None or not hits:
            return hits
        words = text_words(flt.text)
        contents = await self._contents(hits)
        return [s for s, text in zip(hits, contents, strict=True)
                if all(w in text.casefold() for w in words)]

    async def _clean_expired(self) -> None:
        """A writable store removes the expired streams a read came across."""
        if self.store.read_only:
            return
        for sid in sorted(self.expired):
            await self.store.remove_stream(sid, only_if_gone=True)

    # ── the two calls ──

    async def query(self, query: SummaryQuery) -> SummaryPage:
        flt = query.filter
        need = query.limit + 1
        if query.limit == 0:
            return SummaryPage([], None)
        merge = await self._candidates(self.plan(flt, query.order), query,
                                       min(_MAX_PAGE, max(16, need)))
        found: list[StreamSummary] = []
        batch = max(16, need)
        async for ids in merge.batches(batch):
            found.extend(await self._matching(ids, flt))
            if len(found) >= need:
                break
        await self._clean_expired()
        page = found[:query.limit]
        more = len(found) > query.limit
        return SummaryPage(page, sort_key(page[-1], query.order) if more else None)

    async def count(self, flt: SummaryFilter) -> int:
        exact = self._exact_count(flt)
        if exact is None:
            total = 0
            merge = await self._candidates(self.plan(flt, "start_ts"),
                                           SummaryQuery(filter=flt, descending=False), _MAX_PAGE)
            async for ids in merge.batches(_MAX_PAGE):
                total += len(await self._matching(ids, flt, whole=False))
            await self._clean_expired()
            return total
        counted = await self._sum_counts(exact)
        expired = await self._expired_matching(flt)
        await self._clean_expired()
        return counted - expired

    def _exact_count(self, flt: SummaryFilter) -> list[_Counted] | None:
        """Sets whose sizes sum to the count of ``flt`` (ignoring expiry), if there are."""
        statuses = allowed_statuses(flt)
        bare = dataclasses.replace(flt, status=None, has_error=None)
        every = len(statuses) == len(STATUSES)
        shards = range(self.keys.shard_count())

        def per_status(name: str, lo: Bound | None = None,
                       hi: Bound | None = None) -> list[_Counted]:
            return [(self.keys.cat(k, order_set(s, name)), lo, hi)
                    for s in statuses for k in shards]

        def whole(name: str) -> list[_Counted]:
            return [(self.keys.cat(k, name), None, None) for k in shards]

        if bare.is_empty():
            return per_status("stream_id")
        only = {f.name for f in dataclasses.fields(bare)
                if getattr(bare, f.name) != getattr(SummaryFilter(), f.name)}
        if only <= {"since", "until"}:
            lo = None if bare.since is None else (enc_float(bare.since).encode(), True)
            hi = None if bare.until is None else (enc_float(bare.until).encode(), False)
            return per_status("start_ts", lo, hi)
        if only == {"id_prefix"} and bare.id_prefix:
            lo, hi = _prefix_range(bare.id_prefix)
            return per_status("stream_id", lo, hi)
        if not every or len(only) != 1:
            return None
        if bare.model is not None:
            return whole(model_set(bare.model))
        if bare.failure_type:
            return whole(failure_set(bare.failure_type))
        for flag in FLAGS:
            if getattr(bare, f"has_{flag}") is True:
                return whole(flag_set(flag))
        return None

    async def _sum_counts(self, sets: list[_Counted]) -> int:
        async def go(client: Client, _retry: bool) -> list[int]:
            pipe = client.pipeline(transaction=False)
            for key, lo, hi in sets:
                if lo is None and hi is None:
                    pipe.zcard(key)
                else:
                    pipe.execute_command("ZLEXCOUNT", key, _arg(lo, True), _arg(hi, False))
            return cast(list[int], await pipe.execute())

        return sum(int(n) for n in await self.store.run(go))

    async def _expired_matching(self, flt: SummaryFilter) -> int:
        """Streams past their TTL that the sets still hold (not swept yet) and match."""
        now = int(self.now)
        keys = self.keys

        async def go(client: Client, _retry: bool) -> list[list[bytes]]:
            pipe = client.pipeline(transaction=False)
            for shard in range(keys.shard_count()):
                pipe.zrangebyscore(keys.index(shard), "-inf", now)
            return cast(list[list[bytes]], await pipe.execute())

        ids = [raw.decode() for got in await self.store.run(go) for raw in got]
        n = 0
        for start in range(0, len(ids), _MAX_PAGE):
            chunk = ids[start:start + _MAX_PAGE]
            raws = await self._raw_summaries(chunk)
            for sid, raw in zip(chunk, raws, strict=True):
                if raw:
                    summary, _, _ = summary_from_hash(sid, raw)
                    self.expired.add(sid)
                    if matches(summary, dataclasses.replace(flt, text=None)):
                        n += 1
        return n

    async def _raw_summaries(self, ids: list[str]) -> list[dict[bytes, bytes]]:
        keys = [self.keys.summary(sid) for sid in ids]

        async def go(client: Client, _retry: bool) -> list[dict[bytes, bytes]]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(key)
            return cast(list[dict[bytes, bytes]], await pipe.execute())

        return await self.store.run(go)


class _Merge:
    """The candidates' stream ids in the query's order, merged over every source."""

    def __init__(self, reader: CatalogReader, sources: list[_Source], field: str,
                 descending: bool, page: int) -> None:
        self.reader = reader
        self.sources = sources
        self.field = field
        self.descending = descending
        self.page = page
        self.seen: set[str] = set()

    def _key(self, value: bytes) -> Any:
        return _Rev(value) if self.descending else value

    async def batches(self, size: int) -> AsyncIterator[list[str]]:
        """Lists of up to ``size`` stream ids, in order; the sizes double as it goes."""
        sources = self.sources
        await self.reader._fill(sources, self.descending, self.page)
        heap: list[tuple[Any, int]] = []
        for i, src in enumerate(sources):
            if src.buffer:
                heapq.heappush(heap, (self._key(src.prefix + src.buffer[-1]), i))
        batch: list[str] = []
        while heap:
            _, i = heapq.heappop(heap)
            src = sources[i]
            raw = src.buffer.pop()
            sid = stream_id_of(self.field, raw)
            if sid not in self.seen:
                self.seen.add(sid)
                batch.append(sid)
            if not src.buffer and not src.done:
                self.page = min(_MAX_PAGE, self.page * 2)
                await self.reader._fill([src], self.descending, self.page)
            if src.buffer:
                heapq.heappush(heap, (self._key(src.prefix + src.buffer[-1]), i))
            if len(batch) >= size:
                yield batch
                batch = []
                size = min(_MAX_PAGE, size * 2)
        if batch:
            yield batch
