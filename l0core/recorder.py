"""``EventRecorder``: one method per event kind, appending to a store in order."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from l0core.codec import decode_drift_result, decode_error, decode_guardrail_result, decode_options
from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    DriftEventResult,
    ErrorEvent,
    FallbackEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RecoveryPolicy,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
    now_ms,
    validate_stream_id,
)
from l0core.serialize import serialize_error
from l0core.stores.base import BaseEventStore, Clock

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
        if n == 0:
            return out


def generate_stream_id() -> str:
    """A unique, sortable-by-time id in the spec's shape: ``l0_<time36>_<random36>``."""
    return f"l0_{_base36(time.time_ns() // 1_000_000)}_{_base36(secrets.randbits(48))}"


def _options(value: SerializedOptions | Mapping[str, Any] | None) -> SerializedOptions:
    if value is None:
        return SerializedOptions()
    if isinstance(value, SerializedOptions):
        return value
    return decode_options(dict(value))


def _guardrail(value: GuardrailEventResult | Mapping[str, Any]) -> GuardrailEventResult:
    if isinstance(value, GuardrailEventResult):
        return value
    data = dict(value)
    data.setdefault("violations", [])
    if "shouldRetry" not in data:
        data.setdefault("should_retry", False)
    if "shouldHalt" not in data:
        data.setdefault("should_halt", False)
    return decode_guardrail_result(data)


def _drift(value: DriftEventResult | Mapping[str, Any]) -> DriftEventResult:
    if isinstance(value, DriftEventResult):
        return value
    data = dict(value)
    data.setdefault("types", [])
    data.setdefault("confidence", 0)
    return decode_drift_result(data)


def _error(value: SerializedError | BaseException | Mapping[str, Any]) -> SerializedError:
    if isinstance(value, SerializedError):
        return value
    if isinstance(value, BaseException):
        return serialize_error(value)
    return decode_error(dict(value))


class EventRecorder:
    """Records a stream's events to ``store`` under ``stream_id`` (generated if omitted).

    ``seq`` is the seq the next event will get, as in the spec's ``getSeq()``.
    """

    def __init__(
        self, store: BaseEventStore, stream_id: str | None = None, *, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.stream_id = validate_stream_id(stream_id) if stream_id else generate_stream_id()
        self.seq = 0
        self._clock = clock or now_ms

    def get_stream_id(self) -> str:
        return self.stream_id

    def get_seq(self) -> int:
        return self.seq

    async def record(self, event: RecordedEvent) -> int:
        """Append any event; returns its seq."""
        seq = await self.store.append(self.stream_id, event)
        self.seq = seq + 1
        return seq

    async def record_start(
        self, options: SerializedOptions | Mapping[str, Any] | None = None
    ) -> int:
        return await self.record(StartEvent(ts=self._clock(), options=_options(options)))

    async def record_token(self, value: str, index: int) -> int:
        return await self.record(TokenEvent(ts=self._clock(), value=value, index=index))

    async def record_checkpoint(self, at: int, content: str) -> int:
        return await self.record(CheckpointEvent(ts=self._clock(), at=at, content=content))

    async def record_guardrail(
        self, at: int, result: GuardrailEventResult | Mapping[str, Any]
    ) -> int:
        return await self.record(GuardrailEvent(ts=self._clock(), at=at, result=_guardrail(result)))

    async def record_drift(self, at: int, result: DriftEventResult | Mapping[str, Any]) -> int:
        return await self.record(DriftEvent(ts=self._clock(), at=at, result=_drift(result)))

    async def record_retry(self, reason: str, attempt: int, counts_toward_limit: bool) -> int:
        return await self.record(RetryEvent(ts=self._clock(), reason=reason, attempt=attempt,
                                            counts_toward_limit=counts_toward_limit))

    async def record_fallback(self, to: int) -> int:
        return await self.record(FallbackEvent(ts=self._clock(), to=to))

    async def record_continuation(self, checkpoint: str, at: int) -> int:
        return await self.record(ContinuationEvent(ts=self._clock(), checkpoint=checkpoint, at=at))

    async def record_complete(self, content: str, token_count: int) -> int:
        return await self.record(CompleteEvent(ts=self._clock(), content=content,
                                               token_count=token_count))

    async def record_error(
        self,
        error: SerializedError | BaseException | Mapping[str, Any],
        failure_type: str,
        recovery_strategy: str,
        policy: RecoveryPolicy,
    ) -> int:
        return await self.record(ErrorEvent(ts=self._clock(), error=_error(error),
                                            failure_type=failure_type,
                                            recovery_strategy=recovery_strategy, policy=policy))


def create_event_recorder(
    store: BaseEventStore, stream_id: str | None = None, *, clock: Clock | None = None
) -> EventRecorder:
    return EventRecorder(store, stream_id, clock=clock)
