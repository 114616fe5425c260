"""The catalog contract as tests, run by every store that keeps summaries.

A store's test module subclasses :class:`CatalogSuite` (class name starting with
``Test``) and implements ``open_store`` exactly as for
:class:`l0core.testing.StoreConformance`: a fresh, empty, writable store each time.

What is checked:

* after random append sequences (one event or many at a time, several streams
  interleaved), every summary equals what folding the stream's events gives
  (:func:`l0core.metadata.fold_metadata` plus the error fields), and
  ``get_stream_metadata`` agrees;
* every filter field, every order and keyset pagination give exactly what the
  reference semantics (:func:`l0core.catalog.apply_query`) give over the same
  summaries and contents, and ``count_summaries`` agrees;
* deleting a stream removes its summary; ``catalog_version`` changes on append.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l0core.catalog import (
    SORT_FIELDS,
    Comparison,
    StreamSummary,
    SummaryFilter,
    SummaryQuery,
    apply_query,
)
from l0core.catalog.query import count_matching
from l0core.catalog.scan import fold_content
from l0core.events import (
    CompleteEvent,
    DriftEvent,
    DriftEventResult,
    ErrorEvent,
    FallbackEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)
from l0core.metadata import fold_metadata, get_stream_metadata
from l0core.stores.base import BaseEventStore, Clock
from l0core.testing import tokens
from tests.core.strategies import runs

_RUN = itertools.count()

PROPERTY_SETTINGS = settings(max_examples=25, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.function_scoped_fixture])


async def expected_summary(store: BaseEventStore, stream_id: str) -> dict[str, Any] | None:
    """The summary's fields folded from the events by the reference fold, not the catalog."""
    meta = await fold_metadata(store, stream_id)
    if meta is None:
        return None
    failure_type, error_head = "", ""
    for env in await store.get_events(stream_id):
        if isinstance(env.event, ErrorEvent):
            failure_type = env.event.failure_type
            error_head = env.event.error.message[:200]
    return {
        "stream_id": stream_id, "model": meta.model,
        "prompt_head": (meta.options.prompt or "")[:200],
        "start_ts": meta.start_ts, "end_ts": meta.end_ts, "last_ts": meta.last_ts,
        "duration_ms": meta.duration_ms, "status": meta.status,
        "event_count": meta.event_count, "token_count": meta.token_count,
        "retry_attempts": meta.retry_attempts, "network_retry_count": meta.network_retry_count,
        "violation_count": meta.violation_count, "drift_detected": meta.drift_detected,
        "fallback_index": meta.fallback_index, "failure_type": failure_type,
        "error_head": error_head, "last_seq": meta.event_count - 1,
    }


def summary_fields(summary: StreamSummary) -> dict[str, Any]:
    keys = ("stream_id", "model", "prompt_head", "start_ts", "end_ts", "last_ts",
            "duration_ms", "status", "event_count", "token_count", "retry_attempts",
            "network_retry_count", "violation_count", "drift_detected", "fallback_index",
            "failure_type", "error_head", "last_seq")
    return {k: getattr(summary, k) for k in keys}


async def assert_summary_matches_events(store: BaseEventStore, stream_id: str) -> None:
    """The store's summary of ``stream_id`` is what its events fold to."""
    want = await expected_summary(store, stream_id)
    got = await store.get_summary(stream_id)
    if want is None:
        assert got is None, f"{stream_id}: summary {got} for a stream with no events"
        return
    assert got is not None, f"{stream_id}: no summary"
    assert summary_fields(got) == want
    meta = await get_stream_metadata(store, stream_id)
    ref = await fold_metadata(store, stream_id)
    assert meta is not None and ref is not None
    assert (meta.status, meta.model, meta.event_count, meta.token_count, meta.duration_ms,
            meta.options) == (ref.status, ref.model, ref.event_count, ref.token_count,
                              ref.duration_ms, ref.options)


async def paged_ids(store: BaseEventStore, base: SummaryQuery) -> list[str]:
    """The stream ids of every page of ``base``, following the keyset cursor."""
    got: list[str] = []
    query = base
    while True:
        page = await store.query_summaries(query)
        got.extend(s.stream_id for s in page.items)
        if page.next_after is None:
            return got
        query = dataclasses.replace(base, after=page.next_after)


def catalog_streams(base_ts: float = 1_700_000_000_000.0) -> dict[str, list[RecordedEvent]]:
    """Forty streams that differ in every field a filter can ask about."""
    models = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", ""]
    words = ["refund", "invoice", "weather", "refund policy", "shipping"]
    failures = ["network", "guardrail", "timeout"]
    out: dict[str, list[RecordedEvent]] = {}
    for i in range(40):
        ts = base_ts + i * 3_600_000 + (i % 7) * 1000
        model = models[i % 4]
        opts = SerializedOptions(model=model or None, prompt=f"prompt {i} about {words[i % 5]}")
        events: list[RecordedEvent] = [StartEvent(ts=ts, options=opts)]
        n_tokens = 1 + (i * 7) % 11
        text = [f"{words[(i + k) % 5]} " for k in range(n_tokens)]
        for k, value in enumerate(text):
            events.append(TokenEvent(ts=ts + 10 * (k + 1), value=value, index=k))
        t = ts + 10 * (n_tokens + 1)
        if i % 3 == 0:
            events.append(RetryEvent(ts=t, reason="rate_limit", attempt=1,
                                     counts_toward_limit=i % 2 == 0))
        if i % 5 == 1:
            events.append(GuardrailEvent(ts=t + 1, at=n_tokens, result=GuardrailEventResult(
                violations=[{"rule": "pii", "message": "m", "severity": "error"}] * (1 + i % 2))))
        if i % 6 == 2:
            events.append(DriftEvent(ts=t + 2, at=n_tokens,
                                     result=DriftEventResult(detected=True, types=["tone"])))
        if i % 8 == 3:
            events.append(FallbackEvent(ts=t + 3, to=1 + i % 2))
        if i % 4 == 1:
            events.append(ErrorEvent(ts=t + 50 * i, error=SerializedError(
                name="L0Error", message=f"failed {i}"), failure_type=failures[i % 3],
                recovery_strategy="halt", policy="default"))
        elif i % 4 != 3:
            events.append(CompleteEvent(ts=t + 40 * i, content="".join(text),
                                        token_count=n_tokens))
        # i % 4 == 3: still running
        out[f"cat-{i:02d}-{'abc'[i % 3]}"] = events
    return out


def catalog_filters(base_ts: float = 1_700_000_000_000.0) -> list[SummaryFilter]:
    """One or more filters on every field, alone and combined."""
    hour = 3_600_000
    return [
        SummaryFilter(),
        SummaryFilter(status=frozenset({"error"})),
        SummaryFilter(status=frozenset({"completed", "running"})),
        SummaryFilter(status=frozenset({"running"})),
        SummaryFilter(model="gpt-4o"),
        SummaryFilter(model="no-such-model"),
        SummaryFilter(since=base_ts + 10 * hour),
        SummaryFilter(until=base_ts + 5 * hour),
        SummaryFilter(since=base_ts + 5 * hour, until=base_ts + 20 * hour),
        SummaryFilter(has_retries=True),
        SummaryFilter(has_retries=False),
        SummaryFilter(has_violations=True),
        SummaryFilter(has_fallback=True),
        SummaryFilter(has_drift=True),
        SummaryFilter(has_drift=False),
        SummaryFilter(has_error=True),
        SummaryFilter(has_error=False),
        SummaryFilter(failure_type="network"),
        SummaryFilter(id_prefix="cat-1"),
        SummaryFilter(id_contains="-b"),
        SummaryFilter(id_contains="%"),
        SummaryFilter(id_prefix="cat_"),
        SummaryFilter(text="refund"),
        SummaryFilter(text="REFUND policy"),
        SummaryFilter(text="nothing-matches-this"),
        SummaryFilter(comparisons=(Comparison("retries", ">", 0),)),
        SummaryFilter(comparisons=(Comparison("token_count", ">=", 6),
                                   Comparison("violation_count", "<", 2))),
        SummaryFilter(comparisons=(Comparison("duration_ms", ">", 500),)),
        SummaryFilter(comparisons=(Comparison("event_count", "=", 5),)),
        SummaryFilter(comparisons=(Comparison("fallback_index", "!=", 0),)),
        SummaryFilter(status=frozenset({"error"}), model="gpt-4o-mini",
                      since=base_ts + 2 * hour, has_retries=False),
        SummaryFilter(status=frozenset({"completed"}), text="weather", id_prefix="cat-"),
    ]


class CatalogSuite:
    """Summaries and queries, for a store with ``keeps_summaries``."""

    text_search: ClassVar[bool] = True
    """False for a store whose text search is documented to differ (say how)."""

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        raise NotImplementedError

    @asynccontextmanager
    async def catalog_store(self) -> AsyncIterator[BaseEventStore]:
        store = await self.open_store()
        try:
            yield store
        finally:
            await store.close()

    async def test_keeps_summaries(self) -> None:
        async with self.catalog_store() as store:
            assert store.keeps_summaries

    def test_summaries_equal_the_fold_after_random_appends(self) -> None:
        """Random runs, appended one by one and in random chunks, interleaved."""

        @PROPERTY_SETTINGS
        @given(streams=st.lists(runs(), min_size=1, max_size=3), data=st.data())
        def prop(streams: list[list[RecordedEvent]], data: st.DataObject) -> None:
            tag = next(_RUN)
            plan: list[tuple[str, list[RecordedEvent]]] = []
            for n, events in enumerate(streams):
                sid = f"p{tag}-{n}"
                i = 0
                while i < len(events):
                    size = data.draw(st.integers(1, 5))
                    plan.append((sid, events[i:i + size]))
                    i += size
            order = data.draw(st.permutations(range(len(plan))))
            # keep each stream's chunks in order, interleave streams
            by_stream: dict[str, list[list[RecordedEvent]]] = {}
            for sid, chunk in plan:
                by_stream.setdefault(sid, []).append(chunk)
            queue = [sid for sid, _ in (plan[i] for i in order)]

            async def go() -> None:
                async with self.catalog_store() as store:
                    for sid in queue:
                        chunk = by_stream[sid].pop(0)
                        if len(chunk) == 1:
                            await store.append(sid, chunk[0])
                        else:
                            await store.append_many(sid, chunk)
                    for n in range(len(streams)):
                        await assert_summary_matches_events(store, f"p{tag}-{n}")

            asyncio.run(go())

        prop()

    async def test_every_filter_order_and_page_matches_the_reference(self) -> None:
        async with self.catalog_store() as store:
            streams = catalog_streams()
            for sid, events in streams.items():
                half = len(events) // 2
                await store.append_many(sid, events[:half])
                for event in events[half:]:
                    await store.append(sid, event)
            summaries = []
            for sid in streams:
                got = await store.get_summary(sid)
                assert got is not None
                summaries.append(got)
            contents = {sid: await fold_content(store, sid) for sid in streams}
            assert await store.count_summaries() == len(streams)
            for flt in catalog_filters():
                if flt.text is not None and not self.text_search:
                    continue
                query = SummaryQuery(filter=flt, limit=1000)
                want = [s.stream_id for s in apply_query(summaries, query, contents.get).items]
                page = await store.query_summaries(query)
                assert [s.stream_id for s in page.items] == want, flt
                assert page.next_after is None
                assert await store.count_summaries(flt) == count_matching(
                    summaries, flt, contents.get), flt
            for order in SORT_FIELDS:
                for descending in (False, True):
                    query = SummaryQuery(order=order, descending=descending, limit=1000)  # type: ignore[arg-type]
                    want = [s.stream_id for s in apply_query(summaries, query).items]
                    got_ids = [s.stream_id for s in (await store.query_summaries(query)).items]
                    assert got_ids == want, (order, descending)
                    paged: list[str] = []
                    after = None
                    while True:
                        page = await store.query_summaries(SummaryQuery(
                            order=order, descending=descending, limit=7, after=after))  # type: ignore[arg-type]
                        paged.extend(s.stream_id for s in page.items)
                        if page.next_after is None:
                            break
                        after = page.next_after
                    assert paged == want, (order, descending, "paged")

    async def test_orders_with_filters_match_the_reference(self) -> None:
        """Every order, both directions, paged, under filters that pick statuses or an
        id prefix: the merged scans of a live field (ended by index, running sorted)
        and the few streams a narrow prefix leaves, sorted by the store, stay exact."""
        async with self.catalog_store() as store:
            streams = catalog_streams()
            for sid, events in streams.items():
                await store.append_many(sid, events)
            summaries = []
            for sid in streams:
                summary = await store.get_summary(sid)
                assert summary is not None
                summaries.append(summary)
            filters = [SummaryFilter(status=frozenset({"running"})),
                       SummaryFilter(status=frozenset({"error", "completed"})),
                       SummaryFilter(has_error=True), SummaryFilter(has_error=False),
                       SummaryFilter(status=frozenset()),
                       SummaryFilter(model="gpt-4o",
                                     comparisons=(Comparison("event_count", ">", 3),)),
                       SummaryFilter(id_prefix="cat-1"), SummaryFilter(id_prefix="cat-2"),
                       SummaryFilter(id_prefix="cat-0",
                                     status=frozenset({"completed", "running"}))]
            for flt in filters:
                for order in SORT_FIELDS:
                    for descending in (False, True):
                        base = SummaryQuery(filter=flt, order=order, descending=descending,  # type: ignore[arg-type]
                                            limit=6)
                        want = [s.stream_id for s in apply_query(
                            summaries, dataclasses.replace(base, limit=1000)).items]
                        assert await paged_ids(store, base) == want, (flt, order, descending)

    async def test_queries_follow_changes_made_between_them(self) -> None:
        """Whatever a store keeps from one query to the next (the file store keeps each
        filter's sorted rows), the next query sees every change made in between: TOKENs
        that move a live field, a stream that ends, a delete, a new stream."""
        async with self.catalog_store() as store:
            for sid, events in catalog_streams().items():
                await store.append_many(sid, events)

            async def check() -> dict[str, StreamSummary]:
                summaries = {sid: s for sid in await store.list_streams()
                             if (s := await store.get_summary(sid)) is not None}
                for flt in (SummaryFilter(), SummaryFilter(status=frozenset({"running"})),
                            SummaryFilter(comparisons=(Comparison("token_count", ">", 2),))):
                    for order in ("token_count", "last_ts", "stream_id"):
                        for descending in (False, True):
                            base = SummaryQuery(filter=flt, order=order,  # type: ignore[arg-type]
                                                descending=descending, limit=5)
                            want = [s.stream_id for s in apply_query(
                                list(summaries.values()),
                                dataclasses.replace(base, limit=1000)).items]
                            got = await paged_ids(store, base)
                            assert got == want, (flt, order, descending)
                            assert await store.count_summaries(flt) == len(want)
                return summaries

            before = await check()
            running = sorted(sid for sid, s in before.items() if s.status == "running")
            assert len(running) >= 3
            late = 1_800_000_000_000.0
            for k, sid in enumerate(running[:-2]):
                await store.append_many(sid, tokens(3 + k, start=before[sid].token_count,
                                                    ts=late + k))
            moved = await check()
            assert [moved[sid].token_count - before[sid].token_count
                    for sid in running[:-2]] == [3 + k for k in range(len(running) - 2)]
            ending = running[-2]
            await store.append(ending, CompleteEvent(
                ts=late + 50, content="done", token_count=before[ending].token_count))
            assert (await check())[ending].status == "completed"
            await store.delete(running[-1])
            assert running[-1] not in await check()
            await store.append_many("cat-new", [StartEvent(ts=late + 60), *tokens(9, ts=late + 61)])
            assert (await check())["cat-new"].token_count == 9

    async def test_summaries_follow_deletes_and_versions(self) -> None:
        async with self.catalog_store() as store:
            before = await store.catalog_version()
            await store.append("v1", StartEvent(ts=1.0, options=SerializedOptions(model="m")))
            await store.append("v2", StartEvent(ts=2.0))
            after = await store.catalog_version()
            if before is not None or after is not None:
                assert after != before
            assert await store.count_summaries() == 2
            await store.delete("v1")
            assert await store.get_summary("v1") is None
            assert [s.stream_id for s in
                    (await store.query_summaries(SummaryQuery())).items] == ["v2"]
            await store.append("v2", CompleteEvent(ts=5.0, content="done", token_count=0))
            summary = await store.get_summary("v2")
            assert summary is not None and summary.status == "completed"
            assert summary.duration_ms == 3.0
