"""How each event kind looks: its minimap letter, its colour, and a one-line summary.

Letters make the minimap and the event list readable without colour; colours make
them quick to scan with it. Summaries are built from the typed event (fast, no JSON)
and cleaned with :mod:`l0tui.text`.
"""

from __future__ import annotations

from rich.style import Style

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
from l0tui.text import clean

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

COLOURS: dict[RecordedEventType, str] = {
    K.START: "bold #5fafff",
    K.TOKEN: "#6c6c6c",
    K.CHECKPOINT: "#87afaf",
    K.GUARDRAIL: "bold #ffaf00",
    K.DRIFT: "bold #d787ff",
    K.RETRY: "bold #ff8700",
    K.FALLBACK: "bold #ff5fd7",
    K.CONTINUATION: "bold #00d7d7",
    K.COMPLETE: "bold #5fd75f",
    K.ERROR: "bold #ff5f5f",
}

STYLES: dict[RecordedEventType, Style] = {kind: Style.parse(c) for kind, c in COLOURS.items()}
""":data:`COLOURS` parsed once, for the widgets that draw segments themselves."""

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


def legend() -> str:
    """``S start  · token  K checkpoint ...`` for the help screen."""
    return "  ".join(f"{LETTERS[k]} {k.value.lower()}" for k in RecordedEventType)


def summary(event: RecordedEvent, limit: int = 240) -> str:
    """A one-line, cleaned description of ``event``'s payload."""
    text = _summary(event)
    return clean(text, limit=limit)


def _summary(event: RecordedEvent) -> str:
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
        return (f"{event.error.name}: {event.error.message} "
                f"[{event.failure_type}/{event.recovery_strategy}]")
    return ""
