"""What differs between the OpenAI and Anthropic SDKs for a replay: bodies, methods, clients.

A :class:`Provider` turns a :class:`~l0core.pytest_plugin.calls.RecordedCall`
into the bytes that API sends (the SSE of :mod:`l0core.record.provider_sse`, or
the JSON of a ``stream=False`` answer), names the SDK methods a call goes
through, builds the client, and records a live call with the SDK recorder of
:mod:`l0core.record`. The SDKs are imported only when a client is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from l0core.pytest_plugin.calls import RecordedCall
from l0core.pytest_plugin.transport import Piece, ReplayBody
from l0core.record import provider_sse as sse
from l0core.record.sdk_request import get

Render = Callable[..., Iterator[bytes]]


@dataclass(frozen=True, slots=True)
class Provider:
    """One SDK: ``name`` ("openai" or "anthropic"), its stream and JSON shapes, methods."""

    name: str
    routes: Mapping[str, Render]
    """How a stream looks, by the end of the request's path (``/chat/completions``)."""
    error_body: Callable[[sse.ApiError], bytes]
    answer: Callable[[RecordedCall, str], dict[str, Any]]
    methods: tuple[tuple[str, str], ...]
    """(resource path, method) pairs a call is made through, e.g. ("chat.completions",
    "create"); the OpenAI ``stream()`` helper goes through ``create`` itself."""
    env_key: str
    default_model: str
    json_route: str
    """The route whose ``stream=False`` answers are replayed too."""

    def script(self, call: RecordedCall, model: str) -> sse.Script:
        error = sse.ApiError()
        if call.error is not None:
            code = call.error.code
            meta = call.error.metadata or {}
            status = meta.get("statusCode")
            error = sse.ApiError(
                message=call.error.message,
                type=code if isinstance(code, str) and code else "server_error",
                status=status if isinstance(status, int) and 400 <= status < 600 else 500)
        tools = tuple(sse.ToolCall(name=t.name or "tool", arguments=tuple(d for _, d in t.deltas),
                                   id=t.call_id) for t in call.tools)
        return sse.Script(texts=tuple(t for _, t in call.texts), tool_calls=tools, model=model,
                          ending=call.ending, error=error,
                          token_ts=tuple(ts for ts, _ in call.texts))

    def route(self, path: str) -> str | None:
        return next((suffix for suffix in self.routes if path.endswith(suffix)), None)

    def body(self, call: RecordedCall, route: str,
             request_body: Mapping[str, Any]) -> ReplayBody:
        """The answer to a request to ``route`` replaying ``call``: SSE when it asked for a
        stream (``route`` is one of :attr:`routes`)."""
        render = self.routes[route]
        model = call.model or _str(request_body.get("model")) or self.default_model
        script = self.script(call, model)
        json_headers = {"content-type": "application/json"}
        if call.ending == "error" and not call.texts and not call.tools and \
                call.error is not None and (call.error.metadata or {}).get("statusCode"):
            return ReplayBody(script.error.status, json_headers,
                              [Piece(call.end_ms, self.error_body(script.error))], call.start_ms)
        if not request_body.get("stream"):
            if route != self.json_route:
                raise ValueError(f"a stream=False call to {route} is not replayed (only "
                                 f"{self.json_route}); ask for stream=True")
            if call.ending == "error":
                return ReplayBody(script.error.status, json_headers,
                                  [Piece(call.end_ms, self.error_body(script.error))],
                                  call.start_ms)
            data = json.dumps(self.answer(call, model), ensure_ascii=False).encode()
            return ReplayBody(200, json_headers, [Piece(call.end_ms, data)], call.start_ms,
                              cut=call.ending == "cut", cut_reason=call.why)
        events = list(render(script))
        n = len(script.texts)
        head = sum(1 for _ in render(sse.Script(model=model, ending="cut"))) if n else 1
        head = min(head, len(events))
        stamps = ([call.start_ms] * head + list(script.token_ts)
                  + [call.end_ms] * max(0, len(events) - head - n))
        pieces = [Piece(at, data) for at, data in zip(stamps, events, strict=True)]
        return ReplayBody(200, {"content-type": "text/event-stream"}, pieces, call.start_ms,
                          cut=call.ending == "cut", cut_reason=call.why)

    def refusal(self, message: str) -> bytes:
        return self.error_body(sse.ApiError(message=message, type="not_found_error", status=404))

    def make_client(self, transport: Any, *, asynchronous: bool, replay_only: bool,
                    kwargs: dict[str, Any]) -> Any:
        """An SDK client whose requests go through ``transport``."""
        import os

        import httpx2

        options = dict(kwargs)
        if replay_only:
            options.setdefault("max_retries", 0)  # a replayed failure is the answer itself
        if not os.environ.get(self.env_key):  # a replay needs none; the SDK insists
            options.setdefault("api_key", "l0-replay")
        http = (httpx2.AsyncClient(transport=transport) if asynchronous
                else httpx2.Client(transport=transport))
        cls = _client_class(self.name, asynchronous)
        return cls(http_client=http, **options)

    def record(self, result: Any, store: Any, stream_id: str, request: Mapping[str, Any]) -> Any:
        """``result`` (a stream, a manager, an un-awaited call) wrapped by the SDK recorder."""
        if self.name == "openai":
            from l0core.record.openai_sdk import record_openai

            return record_openai(result, store, stream_id=stream_id, request=request,
                                 strict=True)
        from l0core.record.anthropic_sdk import record_anthropic

        return record_anthropic(result, store, stream_id=stream_id, request=request, strict=True)

    def prompt_of(self, request: Mapping[str, Any]) -> str | None:
        if self.name == "openai":
            from l0core.record.openai_sdk import openai_prompt

            return openai_prompt(request)
        from l0core.record.anthropic_sdk import anthropic_prompt

        return anthropic_prompt(request)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _client_class(name: str, asynchronous: bool) -> Any:
    if name == "openai":
        import openai

        return openai.AsyncOpenAI if asynchronous else openai.OpenAI
    import anthropic

    return anthropic.AsyncAnthropic if asynchronous else anthropic.Anthropic


def _tool_input(arguments: str) -> Any:
    try:
        return json.loads(arguments) if arguments else {}
    except ValueError:
        return {"arguments": arguments}


def _openai_answer(call: RecordedCall, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": call.content, "refusal": None}
    if call.tools:
        message["tool_calls"] = [
            {"id": t.call_id or f"call_{i}", "type": "function",
             "function": {"name": t.name or "tool", "arguments": "".join(d for _, d in t.deltas)}}
            for i, t in enumerate(call.tools)]
    n = len(call.texts)
    return {"id": "chatcmpl-l0", "object": "chat.completion", "created": sse.CREATED,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if call.tools else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1}}


def _anthropic_answer(call: RecordedCall, model: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if call.texts or not call.tools:
        content.append({"type": "text", "text": call.content})
    for i, t in enumerate(call.tools):
        content.append({"type": "tool_use", "id": t.call_id or f"toolu_{i}",
                        "name": t.name or "tool",
                        "input": _tool_input("".join(d for _, d in t.deltas))})
    return {"id": "msg_l0", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": "tool_use" if call.tools else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": len(call.texts)}}


def answer_text(provider: str, result: Any) -> str:
    """The text of a ``stream=False`` answer (for recording one)."""
    if provider == "openai":
        choices = get(result, "choices") or []
        message = get(choices[0], "message") if choices else None
        content = get(message, "content") if message is not None else None
        return content if isinstance(content, str) else ""
    parts = [get(block, "text") for block in get(result, "content") or ()
             if get(block, "type") == "text"]
    return "".join(p for p in parts if isinstance(p, str))


OPENAI = Provider(
    name="openai",
    routes={"/chat/completions": sse.openai_chat_sse, "/responses": sse.openai_responses_sse},
    error_body=sse.openai_error_body, answer=_openai_answer,
    methods=(("chat.completions", "create"), ("responses", "create")),
    env_key="OPENAI_API_KEY", default_model=sse.DEFAULT_OPENAI_MODEL,
    json_route="/chat/completions")
ANTHROPIC = Provider(
    name="anthropic", routes={"/messages": sse.anthropic_messages_sse},
    error_body=sse.anthropic_error_body, answer=_anthropic_answer,
    methods=(("messages", "create"), ("messages", "stream")),
    env_key="ANTHROPIC_API_KEY", default_model=sse.DEFAULT_ANTHROPIC_MODEL,
    json_route="/messages")
