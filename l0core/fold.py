"""The one state fold (docs/format.md, "The fold"): ``ReplayedState`` after events ``0..n``.

Replay, ``replay_to_state``, snapshots and the timeline all call :func:`apply_event`,
so "the state at seq N" means the same thing on every path.
"""

from __future__ import annotations

from collections.abc import Iterable

from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    ErrorEvent,
    EventEnvelope,
    FallbackEvent,
    GuardrailEvent,
    GuardrailViolation,
    RecordedEvent,
    RetryEvent,
    SerializedError,
    Snapshot,
    StartEvent,
    TokenEvent,
)


class ReplayedState:
    """The spec's ``ReplayedState`` with snake_case fields.

    Written by hand rather than as a dataclass so that appending a token is O(1):
    token text is buffered and joined the first time ``content`` is read, which
    keeps folding a million tokens linear instead of quadratic.
    """

    __slots__ = ("_content", "_pending", "checkpoint", "completed", "drift_detected", "end_ts",
                 "error", "fallback_index", "network_retry_count", "retry_attempts", "start_ts",
                 "token_count", "violations")

    def __init__(
        self,
        content: str = "",
        token_count: int = 0,
        checkpoint: str = "",
        violations: list[GuardrailViolation] | None = None,
        drift_detected: bool = False,
        retry_attempts: int = 0,
        network_retry_count: int = 0,
        fallback_index: int = 0,
        completed: bool = False,
        error: SerializedError | None = None,
        start_ts: float = 0.0,
        end_ts: float = 0.0,
    ) -> None:
        self._content = content
        self._pending: list[str] = []
        self.token_count = token_count
        self.checkpoint = checkpoint
        self.violations: list[GuardrailViolation] = [] if violations is None else violations
        self.drift_detected = drift_detected
        self.retry_attempts = retry_attempts
        self.network_retry_count = network_retry_count
        self.fallback_index = fallback_index
        self.completed = completed
        self.error = error
        self.start_ts = start_ts
        self.end_ts = end_ts

    @property
    def content(self) -> str:
        if self._pending:
            self._content += "".join(self._pending)
            self._pending.clear()
        return self._content

    @content.setter
    def content(self, value: str) -> None:
        self._content = value
        self._pending.clear()

    def append_text(self, text: str) -> None:
        """Append token text to ``content`` in O(1)."""
        self._pending.append(text)

    def copy(self) -> ReplayedState:
        """An independent copy (the violations list is not shared)."""
        return ReplayedState(
            self.content,
            self.token_count,
            self.checkpoint,
            list(self.violations),
            self.drift_detected,
            self.retry_attempts,
            self.network_retry_count,
            self.fallback_index,
            self.completed,
            self.error,
            self.start_ts,
            self.end_ts,
        )

    def as_tuple(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in STATE_FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReplayedState):
            return NotImplemented
        return self.as_tuple() == other.as_tuple()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in STATE_FIELDS)
        return f"ReplayedState({inner})"


STATE_FIELDS: tuple[str, ...] = (
    "content", "token_count", "checkpoint", "violations", "drift_detected", "retry_attempts",
    "network_retry_count", "fallback_index", "completed", "error", "start_ts", "end_ts",
)
"""Field names of :class:`ReplayedState`, in the spec's order."""


def apply_event(state: ReplayedState, event: RecordedEvent) -> None:
    """Fold one event into ``state`` in place (the spec's ``replayToState`` step)."""
    if isinstance(event, TokenEvent):
        state.append_text(event.value)
        state.token_count = event.index + 1
    elif isinstance(event, StartEvent):
        state.start_ts = event.ts
    elif isinstance(event, CheckpointEvent):
        state.checkpoint = event.content
    elif isinstance(event, GuardrailEvent):
        state.violations.extend(event.result.violations)
    elif isinstance(event, DriftEvent):
        if event.result.detected:
            state.drift_detected = True
    elif isinstance(event, RetryEvent):
        if event.counts_toward_limit:
            state.retry_attempts += 1
        else:
            state.network_retry_count += 1
    elif isinstance(event, FallbackEvent):
        state.fallback_index = event.to
    elif isinstance(event, ContinuationEvent):
        state.content = event.checkpoint
    elif isinstance(event, CompleteEvent):
        state.completed = True
        state.content = event.content
        state.token_count = event.token_count
        state.end_ts = event.ts
    elif isinstance(event, ErrorEvent):
        state.error = event.error
        state.end_ts = event.ts


def fold(
    events: Iterable[EventEnvelope | RecordedEvent], state: ReplayedState | None = None
) -> ReplayedState:
    """Fold ``events`` (envelopes or bare events) onto ``state`` (a fresh one by default)."""
    st = ReplayedState() if state is None else state
    for item in events:
        apply_event(st, item.event if isinstance(item, EventEnvelope) else item)
    return st


def snapshot_from_state(stream_id: str, seq: int, state: ReplayedState, ts: float) -> Snapshot:
    """A snapshot that restores ``state`` exactly (``seq`` is the last event folded)."""
    values = {name: getattr(state, name) for name in STATE_FIELDS}
    values["violations"] = list(state.violations)
    return Snapshot(stream_id=stream_id, seq=seq, ts=ts, complete_state=True, **values)


def state_from_snapshot(snapshot: Snapshot) -> ReplayedState:
    """The state a snapshot holds (exact only when ``snapshot.complete_state``)."""
    values = {name: getattr(snapshot, name) for name in STATE_FIELDS}
    values["violations"] = list(snapshot.violations)
    return ReplayedState(**values)
