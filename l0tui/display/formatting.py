"""Numbers for humans: timestamps, durations, counts and diff values.

Stream times are Unix milliseconds; everything is shown in UTC so two people reading
the same stream see the same clock. Wide forms (``1.25 s``) are for the command line
and panels, compact forms (``1.2s``) for table columns that must stay narrow.
Nothing here escapes text: callers pass the result through :mod:`l0tui.display.escape`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def _utc(ts: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(ts / 1000.0, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def format_ts(ts: float, *, missing: str = "") -> str:
    """Unix ms as a UTC time, ``2026-01-02 03:04:05.678``; ``missing`` for 0."""
    if not ts:
        return missing
    moment = _utc(ts)
    if moment is None:
        return f"{ts:.0f}"
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def format_ts_compact(ts: float, *, missing: str = "—") -> str:
    """Unix ms as ``01-02 03:04:05`` (UTC, no year, no ms) for a table column."""
    if not ts:
        return missing
    moment = _utc(ts)
    return "?" if moment is None else moment.strftime("%m-%d %H:%M:%S")


def format_duration(ms: float | None, *, compact: bool = False) -> str:
    """A duration in ms: ``850 ms``, ``1.25 s``, ``3 min 5.0 s`` (``-`` for None).

    ``compact`` gives at most six characters: ``850ms``, ``1.2s``, ``3m05s``.
    """
    if ms is None:
        return "-"
    if abs(ms) < 1000:
        return f"{ms:.0f}ms" if compact else f"{ms:.0f} ms"
    seconds = ms / 1000.0
    if abs(seconds) < 60:
        return f"{seconds:.1f}s" if compact else f"{seconds:.2f} s"
    if compact:
        whole_minutes, whole_seconds = divmod(int(seconds), 60)
        return f"{whole_minutes}m{whole_seconds:02d}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f} min {rest:.1f} s"


def format_offset(ms: float) -> str:
    """``+1.234s`` / ``+12m05.1s``: time since the start of a stream, keeping its width."""
    if ms < 60_000:
        return f"+{ms / 1000:.3f}s"
    minutes, rest = divmod(ms / 1000, 60)
    return f"+{int(minutes)}m{rest:04.1f}s"


def format_count(n: int) -> str:
    """``9,999``, ``128k``, ``1.2M``: at most six characters."""
    if n < 100_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


_MS_WORDS = ("duration", "time_to_first_token", "ttft", "_ms")


def format_delta_value(name: str, value: Any, limit: int = 40) -> str:
    """One side of a diff delta: milliseconds as a duration, None as ``-``, booleans as
    ``yes``/``no``, anything else as text of at most ``limit`` characters (not escaped)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and any(w in name for w in _MS_WORDS):
        return format_duration(float(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
