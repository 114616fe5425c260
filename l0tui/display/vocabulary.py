"""The words and signs l0tui uses for event kinds and statuses, on every surface.

Each kind has a letter (the minimap and the event list stay readable without
colour), a picker key, a one-line summary of its payload, and a :class:`Look`: a
colour *role* plus weight. A role is not a colour: the command line turns it into a
colour with :mod:`l0tui.display.colours`, the TUI with the Textual theme
(:mod:`l0tui.display.theme`), so a theme recolours the TUI without touching this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    ErrorEvent,
    FallbackEvent,
    GuardrailEvent,
    RecordedEvent,
    RecordedEventType,
    RetryEvent,
    StartEvent,
    TokenEvent,
)
from l0tui.display.escape import clean


class Role(StrEnum):
    """What a colour means, named as the Textual theme names its colours."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    ACCENT = "accent"
    WARNING = "warning"
    ERROR = "error"
    SUCCESS = "success"
    MUTED = "muted"


@dataclass(frozen=True, slots=True)
class Look:
    """How something is drawn: a colour role, optionally bold."""

    role: Role
    bold: bool = False


K = RecordedEventType

LETTERS: dict[RecordedEventType, str] = {
    K.START: "S",
    K.TOKEN: "·",
    K.CHECKPOINT: "K",
    K.GUARDRAIL: "G",
    K.DRIFT: "D",
    K.RETRY: "R",
    K.FALLBACK: "F",
    K.CONTINUATION: "C",
    K.COMPLETE: "✓",
    K.ERROR: "E",
}
"""One character per kind, shown in the minimap (``·`` is a token, ``✓`` completion)."""

KIND_LOOKS: dict[RecordedEventType, Look] = {
    K.START: Look(Role.PRIMARY, bold=True),
    K.TOKEN: Look(Role.MUTED),
    K.CHECKPOINT: Look(Role.SECONDARY),
    K.GUARDRAIL: Look(Role.WARNING, bold=True),
    K.DRIFT: Look(Role.ACCENT),
    K.RETRY: Look(Role.WARNING, bold=True),
    K.FALLBACK: Look(Role.ACCENT, bold=True),
    K.CONTINUATION: Look(Role.PRIMARY),
    K.COMPLETE: Look(Role.SUCCESS, bold=True),
    K.ERROR: Look(Role.ERROR, bold=True),
}
"""The look of each kind; kinds that share a colour are told apart by their letters."""

KIND_BY_KEY: dict[str, RecordedEventType] = {
    "s": K.START,
    "k": K.CHECKPOINT,
    "g": K.GUARDRAIL,
    "d": K.DRIFT,
    "r": K.RETRY,
    "f": K.FALLBACK,
    "c": K.CONTINUATION,
    "o": K.COMPLETE,
    "e": K.ERROR,
}
"""Keys of the kind picker (``t`` then a letter): the kind to jump between."""

KIND_NAMES: tuple[str, ...] = tuple(k.value for k in RecordedEventType)
"""The kinds as the wire format spells them (``START``, ``TOKEN``, ...)."""


def legend() -> str:
    """``S start  · token  K checkpoint ...`` for the help screen."""
    return "  ".join(f"{LETTERS[k]} {k.value.lower()}" for k in RecordedEventType)


# ───────────────────────────── statuses ─────────────────────────────

STREAM_STATUS_LOOKS: dict[str, Look] = {
    "completed": Look(Role.SUCCESS),
    "error": Look(Role.ERROR, bold=True),
    "running": Look(Role.WARNING),
    "unreadable": Look(Role.ERROR, bold=True),
    "other stream": Look(Role.ERROR, bold=True),
    "damaged": Look(Role.WARNING, bold=True),
    "empty": Look(Role.MUTED),
}
"""A stream's status (``StreamMetadata.status``, or why the browser has none)."""

CHECK_STATUS_LOOKS: dict[str, Look] = {
    "ok": Look(Role.SUCCESS),
    "legacy": Look(Role.SUCCESS),
    "repaired": Look(Role.SUCCESS),
    "torn_tail": Look(Role.WARNING, bold=True),
    "corrupt": Look(Role.ERROR, bold=True),
    "damaged": Look(Role.WARNING, bold=True),
}
"""The outcome of checking one stream on disk (``l0tui verify``)."""

MARKED = Look(Role.ACCENT, bold=True)
"""A stream marked for comparison."""

DIFFERS = Look(Role.WARNING, bold=True)
"""A value that differs between the two sides of a diff."""

SAME = Look(Role.MUTED)
"""A value both sides of a diff share."""

IDENTICAL = Look(Role.SUCCESS, bold=True)
DIFFERENT = Look(Role.ERROR, bold=True)
"""The verdict of a diff: identical streams, or streams that differ."""

DELTA_LABELS: dict[str, str] = {
    "tokens": "tokens",
    "token_count": "tokens",
    "duration_ms": "duration",
    "duration": "duration",
    "time_to_first_token_ms": "ttft",
    "time_to_first_token": "ttft",
    "retries": "retries",
    "retry_attempts": "retries",
    "violations": "violations",
    "fallback": "fallback",
    "fallback_index": "fallback",
    "status": "status",
    "final_status": "status",
}
"""Short names of the headline numbers a diff compares."""


# ───────────────────────────── summaries ─────────────────────────────


def summary(event: RecordedEvent, limit: int = 240) -> str:
    """What ``event`` carries, cleaned for the TUI and capped at ``limit`` characters."""
    return clean(describe_event(event), limit=limit)


def describe_event(event: RecordedEvent) -> str:
    """What ``event`` carries, in one line of words, NOT escaped (callers escape it).

    Long payloads are cut before they are described, so a megabyte token costs no
    more than a short one.
    """
    if isinstance(event, TokenEvent):
        return f"{event.value!r}" if len(event.value) < 1000 else repr(event.value[:1000])
    if isinstance(event, StartEvent):
        opts = event.options
        bits = [f"model={opts.model}" if opts.model else "model=?"]
        if opts.fallback_count:
            bits.append(f"fallbacks={opts.fallback_count}")
        if opts.guardrail_count:
            bits.append(f"guardrails={opts.guardrail_count}")
        if opts.prompt:
            bits.append(f"prompt={opts.prompt[:200]!r}")
        return " ".join(bits)
    if isinstance(event, CheckpointEvent):
        return f"at {event.at}: {event.content[-200:]!r}"
    if isinstance(event, GuardrailEvent):
        res = event.result
        rules = ", ".join(
            f"{v.get('rule', '?')}: {v.get('message', '')}" for v in res.violations[:3]
        )
        flags = " retry" if res.should_retry else ""
        flags += " halt" if res.should_halt else ""
        return f"at {event.at}: {len(res.violations)} violation(s){flags} {rules}".rstrip()
    if isinstance(event, DriftEvent):
        drift = event.result
        detected = "detected" if drift.detected else "none"
        return f"at {event.at}: {detected} {','.join(drift.types)} conf={drift.confidence:.2f}"
    if isinstance(event, RetryEvent):
        counted = "" if event.counts_toward_limit else " (network, not counted)"
        return f"attempt {event.attempt}: {event.reason}{counted}"
    if isinstance(event, FallbackEvent):
        return f"to fallback #{event.to}"
    if isinstance(event, ContinuationEvent):
        return f"from checkpoint at {event.at}: {event.checkpoint[-120:]!r}"
    if isinstance(event, CompleteEvent):
        return f"{event.token_count} tokens, {len(event.content)} chars"
    if isinstance(event, ErrorEvent):
        return (f"{event.error.name}: {event.error.message[:1000]} "
                f"[{event.failure_type}/{event.recovery_strategy}]")
    return ""
