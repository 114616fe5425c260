"""Attempt lineage and per-attempt timing as rows of text: one wording for every view.

``l0tui show --attempts`` / ``--timing``, the Markdown export and the debugger's
lineage screen all print the same cells, built here from
:func:`l0core.timeline.attempt_lineage` and :meth:`Timeline.attempt_timings`.
Cells are raw stream text: each caller escapes them its own way (the terminal,
Markdown, the TUI).
"""

from __future__ import annotations

from l0core.timeline import AttemptLineage, AttemptTiming
from l0tui.display.formatting import format_duration

LINEAGE_COLUMNS = ("#", "seqs", "started by", "backoff", "tokens", "ended", "carried over")
TIMING_COLUMNS = ("#", "seqs", "tokens", "first token", "p50 gap", "p90 gap", "p95 gap",
                  "p99 gap", "max gap", "stalls", "tokens/s")
CARRIED_SHOWN = 60
"""Characters of a continuation's carried-over text shown in a cell (its end)."""

ENDINGS = {
    "retried": "retried",
    "fell_back": "fell back",
    "completed": "completed",
    "errored": "errored",
    "running": "running",
}


def ms(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def ended(a: AttemptLineage) -> str:
    """``completed at #123``, ``retried: network_error``, ``errored at #40: Timeout``."""
    text = ENDINGS.get(a.outcome, a.outcome)
    if a.end_event_seq is not None:
        text += f" at #{a.end_event_seq}"
    return f"{text}: {a.reason}" if a.reason else text


def carried(a: AttemptLineage, limit: int = CARRIED_SHOWN) -> str:
    """What a continuation carried over: ``#99: 349 chars from attempt 1 "…end"``."""
    if a.continuation_seq is None:
        return "-"
    text = a.carried_over
    tail = text if len(text) <= limit else "…" + text[-limit:]
    source = ""
    if a.carried_from:
        names = ", ".join(str(n) for n in a.carried_from)
        source = f" from attempt{'s' if len(a.carried_from) > 1 else ''} {names}"
    return f"#{a.continuation_seq}: {len(text):,} chars{source} {tail!r}"


def lineage_cells(a: AttemptLineage) -> list[str]:
    """One row of :data:`LINEAGE_COLUMNS`."""
    backoff = ms(a.backoff_ms)
    if a.backoff_ms is not None and a.failure_seq is not None:
        backoff += f" (from #{a.failure_seq})"
    tokens = f"{a.token_count:,}"
    if a.first_token_seq is not None:
        tokens += f" (first #{a.first_token_seq})"
    return [str(a.number), f"#{a.start_seq}–#{a.end_seq}", a.describe_start(), backoff,
            tokens, ended(a), carried(a)]


def timing_cells(t: AttemptTiming) -> list[str]:
    """One row of :data:`TIMING_COLUMNS`."""
    p = t.gap_percentiles
    has_gaps = t.tokens > 1

    def gap(q: float) -> str:
        return ms(p.get(q)) if has_gaps else "-"

    stalls = "-" if not t.stalls else f"{len(t.stalls)} (longest {ms(max(g for _, g in t.stalls))})"
    rate = "-" if t.tokens_per_s is None else f"{t.tokens_per_s:.1f}"
    return [str(t.attempt), f"#{t.start_seq}–#{t.end_seq}", f"{t.tokens:,}",
            ms(t.first_token_ms), gap(0.5), gap(0.9), gap(0.95), gap(0.99),
            ms(t.max_gap_ms) if has_gaps else "-", stalls, rate]


def timing_json(t: AttemptTiming) -> dict[str, object]:
    """One attempt's timing as a JSON object (``--timing --json``)."""
    return {
        "attempt": t.attempt, "startSeq": t.start_seq, "endSeq": t.end_seq,
        "tokens": t.tokens, "firstTokenMs": t.first_token_ms,
        "gapPercentilesMs": {f"p{round(q * 100)}": v for q, v in t.gap_percentiles.items()},
        "maxGapMs": t.max_gap_ms,
        "stalls": [{"seq": s, "gapMs": g} for s, g in t.stalls],
        "tokensPerSecond": t.tokens_per_s,
    }
