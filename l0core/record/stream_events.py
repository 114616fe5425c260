"""What an SDK stream has said so far, as recorded events (one state machine per stream).

A provider module (``openai_sdk``, ``anthropic_sdk``) reads each chunk or event
the SDK yields and tells :class:`StreamEvents` what it meant: the response's
model, a text delta, a tool call starting or its arguments growing, the final
event, an error event. The wrapper around the SDK object tells it how the
iteration ended: exhausted, raised, or abandoned by the caller. From that it
writes START, TOKEN (stamped with the clock on arrival), COMPLETE or ERROR to a
session group, following the rules of docs/format.md "Recording the SDKs".
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from l0core.events import JSONDict, SerializedError, SerializedOptions
from l0core.record.classify import classify_failure
from l0core.record.sdk_request import get, jsonable
from l0core.serialize import serialize_error
from l0core.stores.base import Clock

log = logging.getLogger("l0core.record")

Observe = Callable[[Any, "StreamEvents"], None]
"""Reads one SDK item and calls the :class:`StreamEvents` methods it implies."""

MAX_STREAM_ID = 200


class SessionOps(Protocol):
    """What :class:`StreamEvents` writes to (a session group, live or from a thread)."""

    def start(self, stream_id: str, options: SerializedOptions, ts: float) -> None: ...

    def token(self, stream_id: str, value: str, ts: float) -> None: ...

    def complete(self, stream_id: str, ts: float) -> None: ...

    def error(self, stream_id: str, error: SerializedError, failure_type: str, ts: float) -> None:
        ...


def classify_sdk_failure(error: BaseException) -> str:
    """``failureType`` of an exception an SDK stream raised.

    The SDKs' connection and timeout errors are "network" and "timeout"; any other
    ``APIError`` (an error event mid-stream, an error status) is the provider
    answering with an error: "model". Everything else as :func:`classify_failure`.
    """
    if isinstance(error, asyncio.CancelledError | KeyboardInterrupt | GeneratorExit):
        return "abort"
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & {"APIConnectionError", "APITimeoutError"}:
        return classify_failure(error)
    if names & {"APIError", "APIStatusError"}:
        return "model"
    return classify_failure(error)


def describe_error(error: BaseException) -> SerializedError:
    """The stored error, with what the SDKs attach (status, request id, body)."""
    stored = serialize_error(error)
    if isinstance(error, asyncio.CancelledError):
        stored.message = stored.message or "the task reading the stream was cancelled"
        stored.code = "cancelled"
    meta: JSONDict = dict(stored.metadata or {})
    for attr, key in (("status_code", "statusCode"), ("request_id", "requestId"),
                      ("type", "type"), ("param", "param")):
        value = getattr(error, attr, None)
        if isinstance(value, str | int) and not isinstance(value, bool):
            meta[key] = value
    body = getattr(error, "body", None)
    if body is not None:
        meta["body"] = jsonable(body)
    if stored.code is None:  # no API code: the error's type (Anthropic's is in the body)
        inner = get(body, "error") if isinstance(body, Mapping) else None
        code = get(inner, "type") if isinstance(inner, Mapping) else meta.get("type")
        if isinstance(code, str) and code:
            stored.code = code
    stored.metadata = meta or None
    return stored


class StreamEvents:
    """The recording of one SDK stream: its text stream and one stream per tool call.

    ``stream_id`` names the text; tool call ``n`` (in order of appearance) is
    ``<stream_id>-tool-<n>``. ``content`` and ``token_count`` are the text so far,
    ``status`` is "running", "completed" or "error", ``failure_type`` says why.
    """

    def __init__(
        self,
        group: SessionOps,
        stream_id: str,
        *,
        options: SerializedOptions,
        observe: Observe,
        provider: str,
        api: str,
        clock: Clock,
        classify: Callable[[BaseException], str] = classify_sdk_failure,
    ) -> None:
        self.group = group
        self.stream_id = stream_id
        self.options = options
        self.provider = provider
        self.api = api
        self.clock = clock
        self.classify = classify
        self.response_model: str | None = None
        self.start_ts = clock()
        self.started = False
        self.saw_end = False
        self.status = "running"
        self.failure_type: str | None = None
        self.token_count = 0
        self._observe = observe
        self._parts: list[str] = []
        self._tools: dict[Any, str] = {}
        self._observe_broken = False

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def content(self) -> str:
        """The text recorded so far."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def tool_stream_ids(self) -> list[str]:
        """The streams of the tool calls seen so far, in order."""
        return list(self._tools.values())

    # ───────────── what the provider module reports ─────────────

    def model(self, name: Any) -> None:
        """The model the response names (preferred over the request's in START)."""
        if isinstance(name, str) and name and self.response_model is None:
            self.response_model = name

    def text(self, value: Any) -> None:
        if not isinstance(value, str) or not value or self.finished:
            return
        ts = self.clock()
        self._ensure_started()
        self.group.token(self.stream_id, value, ts)
        self._parts.append(value)
        self.token_count += 1

    def tool_start(self, key: Any, call_id: Any = None, name: Any = None) -> None:
        """A tool call appeared (``key`` tells its deltas apart: an index, an item id)."""
        if self.finished or key in self._tools:
            return
        ts = self.clock()
        self._ensure_started()
        n = len(self._tools)
        suffix = f"-tool-{n}"
        tool_id = self.stream_id[: MAX_STREAM_ID - len(suffix)] + suffix
        self._tools[key] = tool_id
        meta: JSONDict = {"parentStreamId": self.stream_id, "toolIndex": n,
                          "provider": self.provider, "api": self.api}
        if isinstance(call_id, str) and call_id:
            meta["toolCallId"] = call_id
        if isinstance(name, str) and name:
            meta["toolName"] = name
        self.group.start(tool_id, SerializedOptions(model=self._model(), metadata=meta), ts)

    def tool_args(self, key: Any, delta: Any) -> None:
        if not isinstance(delta, str) or not delta or self.finished:
            return
        if key not in self._tools:
            self.tool_start(key)
        self.group.token(self._tools[key], delta, self.clock())

    def done(self) -> None:
        """The stream's final event arrived (finish_reason, message_stop, response.completed)."""
        self.saw_end = True

    def failed(self, error: SerializedError, failure_type: str = "model") -> None:
        """The provider reported an error inside the stream (the SDK did not raise)."""
        self._end_error(error, failure_type)

    # ───────────── what the wrapper reports ─────────────

    def begin(self) -> None:
        """The request starts now (a call or manager is only entered now)."""
        if not self.started:
            self.start_ts = self.clock()

    def observe(self, item: Any) -> None:
        """One item the SDK yielded; never raises into the caller's stream."""
        if self.finished:
            return
        if not self._observe_broken:
            try:
                self._observe(item, self)
            except Exception:
                self._observe_broken = True
                log.exception("recording %s: could not read a %s item; text from here on is "
                              "not recorded", self.stream_id, type(item).__name__)
        self._ensure_started()

    def ended(self) -> None:
        """The SDK's iteration ended without an exception."""
        if self.finished:
            return
        if self.saw_end:
            self._end_complete()
        else:
            self._end_error(SerializedError(
                name="IncompleteStreamError",
                message=f"the {self.provider} stream ended before its final event",
            ), "network")

    def raised(self, error: BaseException) -> None:
        """The SDK raised (a cut connection, an error event, a cancellation)."""
        if not self.finished:
            self._end_error(describe_error(error), self.classify(error))

    def abandoned(self, cause: BaseException | None = None) -> None:
        """The caller stopped reading (close, ``break``, leaving ``with``) before the end.

        After the final event this is a normal end; before it, an "abort" ERROR
        with code "closed_early" (and the caller's exception, if one ended it).
        """
        if self.finished:
            return
        if self.saw_end:  # the model had finished: what the caller does next is its own
            self._end_complete()
            return
        message = "the caller stopped reading before the end of the stream"
        if cause is not None:
            message += f" ({type(cause).__name__}: {cause})"
        self._end_error(SerializedError(name="StreamClosedError", message=message,
                                        code="closed_early"), "abort")

    # ───────────── writing ─────────────

    def _model(self) -> str | None:
        return self.response_model or self.options.model

    def _ensure_started(self) -> None:
        if self.started:
            return
        self.started = True
        metadata: JSONDict = {"provider": self.provider, "api": self.api}
        request_model = self.options.model
        if self.response_model and request_model and request_model != self.response_model:
            metadata["requestModel"] = request_model
        metadata.update(self.options.metadata or {})
        options = dataclasses.replace(self.options, model=self._model(), metadata=metadata)
        self.group.start(self.stream_id, options, self.start_ts)

    def _end_complete(self) -> None:
        ts = self.clock()
        self._ensure_started()
        self.status = "completed"
        for tool_id in self._tools.values():
            self.group.complete(tool_id, ts)
        self.group.complete(self.stream_id, ts)

    def _end_error(self, error: SerializedError, failure_type: str) -> None:
        ts = self.clock()
        self._ensure_started()
        self.status = "error"
        self.failure_type = failure_type
        for tool_id in self._tools.values():
            self.group.error(tool_id, error, failure_type, ts)
        self.group.error(self.stream_id, error, failure_type, ts)
