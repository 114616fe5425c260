"""``compare_replays``: do two replayed states agree, and where not, how?"""

from __future__ import annotations

from dataclasses import dataclass, field

from l0core.fold import ReplayedState

_TIMESTAMP_FIELDS = ("start_ts", "end_ts")


@dataclass(slots=True)
class ReplayComparison:
    identical: bool
    differences: list[str] = field(default_factory=list)


def _short(text: str, limit: int = 50) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def compare_replays(
    a: ReplayedState, b: ReplayedState, *, include_timestamps: bool = False
) -> ReplayComparison:
    """Compare every state field; timestamps only when asked.

    Two recordings of the same output differ only in time, so by default they
    compare identical.
    """
    diffs: list[str] = []
    for name in ("content", "checkpoint"):
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            diffs.append(f"{name}: {_short(x)} vs {_short(y)}")
    for name in ("token_count", "completed", "drift_detected", "retry_attempts",
                 "network_retry_count", "fallback_index"):
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            diffs.append(f"{name}: {x} vs {y}")
    if a.violations != b.violations:
        diffs.append(f"violations: {len(a.violations)} vs {len(b.violations)} "
                     f"({a.violations!r} vs {b.violations!r})")
    ea, eb = a.error, b.error
    key_a = None if ea is None else (ea.name, ea.message, ea.code)
    key_b = None if eb is None else (eb.name, eb.message, eb.code)
    if key_a != key_b:
        diffs.append(f"error: {_err(ea)} vs {_err(eb)}")
    if include_timestamps:
        for name in _TIMESTAMP_FIELDS:
            x, y = getattr(a, name), getattr(b, name)
            if x != y:
                diffs.append(f"{name}: {x} vs {y}")
    return ReplayComparison(identical=not diffs, differences=diffs)


def _err(e: object) -> str:
    if e is None:
        return "None"
    name = getattr(e, "name", "Error")
    message = getattr(e, "message", "")
    return f"{name}({message!r})"
