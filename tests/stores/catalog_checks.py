"""Catalog checks the SQL stores share beyond ``tests/catalog_suite.py``.

* Text search against the reference with the documented semantics: the *final*
  content of streams that ended (docs/format.md, "The catalog": a running stream is
  not text-searchable), over content that trips SQL's own case folding (``ß``),
  short words an index cannot serve, quotes, NUL.
* Every summary equal to the fold and the counts right: what the fault tests assert
  after crashes and racing writers.
"""

from __future__ import annotations

from l0core.catalog import SummaryFilter, SummaryQuery, apply_query
from l0core.catalog.query import count_matching
from l0core.catalog.scan import fold_content
from l0core.events import (
    CompleteEvent,
    ContinuationEvent,
    ErrorEvent,
    RecordedEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)
from l0core.stores.base import BaseEventStore
from tests.catalog_suite import assert_summary_matches_events, catalog_filters, catalog_streams


def _tokens(ts: float, words: list[str], start: int = 0) -> list[RecordedEvent]:
    return [TokenEvent(ts=ts + i, value=w, index=start + i) for i, w in enumerate(words)]


def text_streams() -> dict[str, list[RecordedEvent]]:
    """Streams whose final content needs exact case folding and substring matching."""
    t = 1_700_000_000_000.0
    err = SerializedError(name="Error", message="boom")

    def start(i: int) -> RecordedEvent:
        return StartEvent(ts=t + i * 1000, options=SerializedOptions(model="m"))

    def error(i: int) -> RecordedEvent:
        return ErrorEvent(ts=t + i * 1000 + 900, error=err, failure_type="model",
                          recovery_strategy="halt", policy="default")

    return {
        "tx-strasse": [start(0), *_tokens(t, ["Die ", "Straße"]),
                       CompleteEvent(ts=t + 50, content="Die Straße", token_count=2)],
        "tx-upper": [start(1), *_tokens(t + 1000, ["REFUND ", "Policy"]), error(1)],
        "tx-quote": [start(2), *_tokens(t + 2000, ['say "hi" ', "to ", "x\x00y"]),
                     CompleteEvent(ts=t + 2050, content='say "hi" to x\x00y', token_count=3)],
        # ERROR after a continuation: the content is the checkpoint plus what followed
        "tx-continued": [start(3), *_tokens(t + 3000, ["lost "]),
                         ContinuationEvent(ts=t + 3100, checkpoint="kept ", at=5),
                         *_tokens(t + 3200, ["tail"], 1), error(3)],
        "tx-running": [start(4), *_tokens(t + 4000, ["refund ", "straße ", "ok"])],
        "tx-after-end": [start(5), *_tokens(t + 5000, ["first"]), error(5),
                         *_tokens(t + 5950, [" late"], 1)],
    }


def text_filters() -> list[SummaryFilter]:
    words = ["strasse", "STRASSE", "straße", "ss", "refund policy", "REFUND", '"hi"', "hi",
             "x\x00y", "to", "kept tail", "lost", "late", "first late", "ok", "a", "e", "  "]
    return [SummaryFilter(text=w) for w in words] + [
        f for f in catalog_filters() if f.text is not None]


async def check_text_search(store: BaseEventStore) -> None:
    """Queries and counts with text equal the reference over ended streams' content."""
    streams = {**catalog_streams(), **text_streams()}
    for sid, events in streams.items():
        if sid == "tx-after-end":
            await store.append_many(sid, events[:-1])
            await store.append(sid, events[-1])
        else:
            await store.append_many(sid, events)
    summaries = []
    for sid in streams:
        summary = await store.get_summary(sid)
        assert summary is not None
        summaries.append(summary)
    contents = {s.stream_id: await fold_content(store, s.stream_id)
                for s in summaries if s.status != "running"}
    for flt in text_filters():
        query = SummaryQuery(filter=flt, limit=1000)
        want = [s.stream_id for s in apply_query(summaries, query, contents.get).items]
        got = [s.stream_id for s in (await store.query_summaries(query)).items]
        assert got == want, flt.text
        assert await store.count_summaries(flt) == count_matching(
            summaries, flt, contents.get), flt.text
    # the running stream holds "refund" but is not searchable until it ends
    hits = await store.query_summaries(SummaryQuery(filter=SummaryFilter(text="refund")))
    assert "tx-running" not in {s.stream_id for s in hits.items}


async def check_catalog_matches_events(store: BaseEventStore) -> list[str]:
    """Every stream's summary is its fold; the catalog lists exactly the streams."""
    ids = sorted(await store.list_streams())
    for sid in ids:
        await assert_summary_matches_events(store, sid)
    assert await store.count_summaries() == len(ids)
    page = await store.query_summaries(SummaryQuery(order="stream_id", descending=False,
                                                    limit=len(ids) + 1))
    assert [s.stream_id for s in page.items] == ids
    return ids
