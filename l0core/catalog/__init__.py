"""The catalog: one summary per stream, kept by the store, and queries over them.

A store with a million streams cannot fold each one to list it. Every store keeps a
:class:`StreamSummary` per stream, updated with the events it summarises
(:mod:`l0core.catalog.summary`), and answers a :class:`SummaryQuery`
(:mod:`l0core.catalog.query`) itself. :mod:`l0core.catalog.scan` is the path for
stores that keep no summaries (read-only foreign layouts, stores written before the
catalog): one fold per stream, with progress, remembered for the store's lifetime.
"""

from l0core.catalog.query import (
    NUMERIC_FIELDS,
    SORT_FIELDS,
    Comparison,
    SummaryFilter,
    SummaryPage,
    SummaryQuery,
    apply_query,
    matches,
)
from l0core.catalog.summary import (
    HEAD_CHARS,
    StreamSummary,
    SummaryStatus,
    advance_summary,
    decode_summary,
    encode_summary,
    final_content,
    summarize_wire,
)

__all__ = [
    "HEAD_CHARS",
    "NUMERIC_FIELDS",
    "SORT_FIELDS",
    "Comparison",
    "StreamSummary",
    "SummaryFilter",
    "SummaryPage",
    "SummaryQuery",
    "SummaryStatus",
    "advance_summary",
    "apply_query",
    "decode_summary",
    "encode_summary",
    "final_content",
    "matches",
    "summarize_wire",
]
