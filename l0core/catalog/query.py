"""``SummaryQuery``: a filter, an order, a limit and a keyset cursor over summaries.

Stores translate a query into their own indexes (SQL, sorted sets, the file index).
:func:`matches` and :func:`apply_query` are the reference semantics: the in-memory
store and the scan path use them, and every store's tests compare against them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from l0core.catalog.summary import StreamSummary, SummaryStatus

SortField = Literal["start_ts", "end_ts", "last_ts", "duration_ms", "stream_id", "model",
                    "status", "event_count", "token_count", "retries", "violation_count",
                    "fallback_index"]
SORT_FIELDS: tuple[str, ...] = SortField.__args__  # type: ignore[attr-defined]

NumericField = Literal["event_count", "token_count", "retries", "retry_attempts",
                       "network_retry_count", "violation_count", "fallback_index",
                       "duration_ms"]
NUMERIC_FIELDS: tuple[str, ...] = NumericField.__args__  # type: ignore[attr-defined]

CompareOp = Literal["<", "<=", "=", ">=", ">", "!="]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, "=": operator.eq, ">=": operator.ge,
    ">": operator.gt, "!=": operator.ne,
}


@dataclass(slots=True, frozen=True)
class Comparison:
    """``retries>0``, ``tokens>=100``: a numeric field against a number."""

    field: NumericField
    op: CompareOp
    value: float

    def __post_init__(self) -> None:
        if self.field not in NUMERIC_FIELDS:
            raise ValueError(f"cannot compare {self.field!r}; fields: {', '.join(NUMERIC_FIELDS)}")
        if self.op not in _OPS:
            raise ValueError(f"unknown comparison {self.op!r}")

    def holds(self, summary: StreamSummary) -> bool:
        return _OPS[self.op](value_of(summary, self.field), self.value)


@dataclass(slots=True, frozen=True, kw_only=True)
class SummaryFilter:
    """Every condition must hold; ``None`` means "any"."""

    status: frozenset[SummaryStatus] | None = None
    model: str | None = None
    """Exact model name."""
    since: float | None = None
    """``start_ts >= since`` (Unix ms)."""
    until: float | None = None
    """``start_ts < until`` (Unix ms)."""
    has_retries: bool | None = None
    has_violations: bool | None = None
    has_fallback: bool | None = None
    has_drift: bool | None = None
    has_error: bool | None = None
    failure_type: str | None = None
    id_prefix: str | None = None
    id_contains: str | None = None
    """Case-sensitive substring of the stream id."""
    text: str | None = None
    """Words that must all occur in the final content (case-insensitive)."""
    comparisons: tuple[Comparison, ...] = ()

    def is_empty(self) -> bool:
        return self == SummaryFilter()


@dataclass(slots=True, frozen=True, kw_only=True)
class SummaryQuery:
    """A page of summaries: ``filter``, ordered by ``order`` then stream id."""

    filter: SummaryFilter = field(default_factory=SummaryFilter)
    order: SortField = "start_ts"
    descending: bool = True
    limit: int = 100
    after: tuple[Any, str] | None = None
    """Keyset cursor: the ``(order value, stream_id)`` of the last row already seen."""

    def __post_init__(self) -> None:
        if self.order not in SORT_FIELDS:
            raise ValueError(f"cannot sort by {self.order!r}; fields: {', '.join(SORT_FIELDS)}")
        if self.limit < 0:
            raise ValueError("limit must be >= 0")


@dataclass(slots=True, frozen=True)
class SummaryPage:
    """One page; ``next_after`` is the cursor for the next (None on the last page)."""

    items: list[StreamSummary]
    next_after: tuple[Any, str] | None


def value_of(summary: StreamSummary, name: str) -> Any:
    """A sort or comparison field's value (``retries`` is derived)."""
    if name == "retries":
        return summary.retries
    return getattr(summary, name)


def matches(summary: StreamSummary, flt: SummaryFilter, content: str | None = None) -> bool:
    """The reference semantics of ``flt``; ``content`` is the final content (text search)."""
    s = summary
    if flt.status is not None and s.status not in flt.status:
        return False
    if flt.model is not None and s.model != flt.model:
        return False
    if flt.since is not None and not s.start_ts >= flt.since:
        return False
    if flt.until is not None and not s.start_ts < flt.until:
        return False
    for wanted, have in ((flt.has_retries, s.retries > 0),
                         (flt.has_violations, s.violation_count > 0),
                         (flt.has_fallback, s.fallback_index > 0),
                         (flt.has_drift, s.drift_detected),
                         (flt.has_error, s.status == "error")):
        if wanted is not None and wanted != have:
            return False
    if flt.failure_type is not None and s.failure_type != flt.failure_type:
        return False
    if flt.id_prefix is not None and not s.stream_id.startswith(flt.id_prefix):
        return False
    if flt.id_contains is not None and flt.id_contains not in s.stream_id:
        return False
    if flt.text is not None:
        hay = (content or "").casefold()
        if not all(word in hay for word in text_words(flt.text)):
            return False
    return all(c.holds(s) for c in flt.comparisons)


def text_words(text: str) -> list[str]:
    """The words a text filter asks for, case-folded."""
    return [w for w in text.casefold().split() if w]


def sort_key(summary: StreamSummary, order: str) -> tuple[Any, str]:
    return value_of(summary, order), summary.stream_id


def apply_query(
    summaries: Iterable[StreamSummary], query: SummaryQuery,
    content_of: Callable[[str], str | None] | None = None,
) -> SummaryPage:
    """Filter, order and page ``summaries`` in memory: the reference for every store."""
    flt = query.filter
    needs_text = flt.text is not None
    hits = [s for s in summaries
            if matches(s, flt, content_of(s.stream_id) if needs_text and content_of else None)]
    hits.sort(key=lambda s: sort_key(s, query.order), reverse=query.descending)
    if query.after is not None:
        cursor = (query.after[0], query.after[1])
        if query.descending:
            hits = [s for s in hits if sort_key(s, query.order) < cursor]
        else:
            hits = [s for s in hits if sort_key(s, query.order) > cursor]
    page = hits[:query.limit]
    more = len(hits) > query.limit
    next_after = sort_key(page[-1], query.order) if more and page else None
    return SummaryPage(page, next_after)


def count_matching(
    summaries: Iterable[StreamSummary], flt: SummaryFilter,
    content_of: Callable[[str], str | None] | None = None,
) -> int:
    needs_text = flt.text is not None
    return sum(1 for s in summaries
               if matches(s, flt, content_of(s.stream_id) if needs_text and content_of else None))
