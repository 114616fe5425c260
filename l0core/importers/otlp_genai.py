"""What a GenAI or OpenInference span says about a model call (docs/format.md, section 9).

Instrumentations spell the same things several ways: the current GenAI
conventions (``gen_ai.input.messages``, ``gen_ai.output.messages``), the older
ones (``gen_ai.prompt``/``gen_ai.completion`` as JSON, as indexed attributes, or
as ``gen_ai.content.*`` and ``gen_ai.choice`` span events) and OpenInference
(``llm.*``, ``input.value``, ``output.value``). Each function here reads one
thing, trying the spellings in the order the docs list them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from l0core.events import SerializedError
from l0core.importers.options import content_text, last_user_text, maybe_json, message_text
from l0core.importers.otlp_spans import STATUS_ERROR, Span
from l0core.importers.values import as_dict

TEXT = "text"
TOOL_CALL = "tool_call"
REASONING = "reasoning"
INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
_COMPLETION_EVENTS = frozenset({"gen_ai.content.completion", "gen_ai.choice"})
_PROMPT_EVENTS = frozenset({"gen_ai.content.prompt", "gen_ai.user.message"})


@dataclass(slots=True)
class Part:
    """One piece of output: text, a tool call (``value`` = its arguments) or reasoning."""

    kind: str
    value: str
    attrs: dict[str, Any] | None = None
    time_ns: int | None = None


def is_inference(span: Span) -> bool:
    """Whether ``span`` is a model call (the conventions' inference or LLM span)."""
    attrs = span.attrs
    if "l0.stream_id" in attrs:
        return True
    operation = attrs.get("gen_ai.operation.name")
    if operation is not None:  # an agent, tool or embeddings span is not a model call
        return isinstance(operation, str) and operation in INFERENCE_OPERATIONS
    kind = attrs.get("openinference.span.kind")
    if kind is not None:
        return bool(kind == "LLM")
    if "gen_ai.request.model" in attrs:
        return True
    if any(k.startswith(("gen_ai.prompt", "gen_ai.completion")) for k in attrs):
        return True
    return any(e.name.startswith("l0.") or e.name in _COMPLETION_EVENTS
               or e.name == "gen_ai.content.prompt" for e in span.events)


def indexed(attrs: Mapping[str, Any], prefix: str) -> dict[int, dict[str, Any]]:
    """``prefix.N.rest`` attributes grouped by N: ``{N: {rest: value}}``."""
    out: dict[int, dict[str, Any]] = {}
    start = prefix + "."
    for key, value in attrs.items():
        if not key.startswith(start):
            continue
        number, _, rest = key[len(start):].partition(".")
        if number.isdigit() and rest:
            out.setdefault(int(number), {})[rest] = value
    return dict(sorted(out.items()))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def model_of(attrs: Mapping[str, Any]) -> str | None:
    for key in ("gen_ai.request.model", "gen_ai.response.model", "llm.model_name"):
        if isinstance(attrs.get(key), str) and attrs[key]:
            return str(attrs[key])
    return None


def prompt_of(span: Span) -> str | None:
    """The last user message, from the first spelling that has one."""
    attrs = span.attrs
    for key in ("gen_ai.input.messages", "gen_ai.prompt"):
        if key in attrs:
            text = last_user_text(attrs[key])
            if text is not None:
                return text
    numbered = indexed(attrs, "gen_ai.prompt")
    if numbered:
        text = last_user_text(list(numbered.values()))
        if text is not None:
            return text
    for event in reversed(span.events):
        if event.name == "gen_ai.content.prompt":
            text = last_user_text(event.attrs.get("gen_ai.prompt"))
        elif event.name == "gen_ai.user.message":
            text = content_text(maybe_json(event.attrs.get("content")))
        else:
            continue
        if text is not None:
            return text
    messages = [{"role": m.get("message.role"), "content": _oi_content(m)}
                for m in indexed(attrs, "llm.input_messages").values()]
    if messages:
        text = last_user_text(messages)
        if text is not None:
            return text
    value = attrs.get("input.value")
    if isinstance(value, str):
        parsed = maybe_json(value)
        text = last_user_text(parsed) if not isinstance(parsed, str) else value
        return text
    return None


def _oi_content(message: Mapping[str, Any]) -> str | None:
    """An OpenInference message's text: ``message.content`` or its ``message.contents``."""
    if isinstance(message.get("message.content"), str):
        return str(message["message.content"])
    texts = [c.get("message_content.text") for c in indexed(message, "message.contents").values()]
    joined = "".join(t for t in texts if isinstance(t, str))
    return joined or None


def params_of(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters: ``gen_ai.request.*`` unprefixed, ``llm.invocation_parameters``."""
    params: dict[str, Any] = {}
    invocation = maybe_json(attrs.get("llm.invocation_parameters"))
    if isinstance(invocation, dict):
        params.update({k: v for k, v in invocation.items() if k not in ("model", "messages")})
    for key, value in attrs.items():
        if key.startswith("gen_ai.request.") and key != "gen_ai.request.model":
            params[key.removeprefix("gen_ai.request.")] = value
    return params


def _arguments(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return orjson.dumps(value).decode("utf-8")


def _tool(call_id: object, name: object, arguments: object, time_ns: int | None = None) -> Part:
    attrs = {k: v for k, v in (("id", call_id), ("name", name)) if isinstance(v, str)}
    return Part(TOOL_CALL, _arguments(arguments), attrs, time_ns)


def message_parts(message: object, time_ns: int | None = None) -> list[Part]:
    """An output message's parts: GenAI ``parts`` or an OpenAI-style message; text as is."""
    message = maybe_json(message)
    if isinstance(message, str):
        return [Part(TEXT, message, None, time_ns)] if message else []
    if isinstance(message, list):
        message = next((m for m in message if isinstance(m, dict)), None)
    if not isinstance(message, dict):
        return []
    parts: list[Part] = []
    if isinstance(message.get("parts"), list):
        for part in message["parts"]:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text" and isinstance(part.get("content"), str):
                parts.append(Part(TEXT, part["content"], None, time_ns))
            elif kind == "tool_call":
                parts.append(_tool(part.get("id"), part.get("name"), part.get("arguments"),
                                   time_ns))
            elif kind == "reasoning" and isinstance(part.get("content"), str):
                parts.append(Part(REASONING, part["content"], None, time_ns))
        return parts
    if "message" in message and not ("content" in message or "tool_calls" in message):
        return message_parts(message["message"], time_ns)
    text = message_text(message)
    if text:
        parts.append(Part(TEXT, text, None, time_ns))
    calls = maybe_json(message.get("tool_calls"))
    for call in calls if isinstance(calls, list) else []:
        if isinstance(call, dict):
            fn = as_dict(call.get("function")) or call
            parts.append(_tool(call.get("id"), fn.get("name"), fn.get("arguments"), time_ns))
    return parts


def output_of(span: Span) -> tuple[list[Part], bool]:
    """The output parts and whether they came from span events (with their own times)."""
    from_events: list[Part] = []
    for event in span.events:
        if event.name not in _COMPLETION_EVENTS:
            continue
        index = event.attrs.get("index", 0)
        if index not in (0, None):
            continue
        value = event.attrs.get("gen_ai.completion", event.attrs.get("message"))
        if value is None:
            value = event.attrs.get("content")
        from_events.extend(message_parts(value, event.time_ns))
    if from_events:
        return from_events, True
    attrs = span.attrs
    for key in ("gen_ai.output.messages", "gen_ai.completion"):
        if key in attrs:
            parts = message_parts(attrs[key])
            if parts:
                return parts, False
    for prefix, content_key, tools_key in (
        ("gen_ai.completion", "content", "tool_calls"),
        ("llm.output_messages", "message.content", "message.tool_calls"),
    ):
        first = indexed(attrs, prefix).get(0)
        if first is None:
            continue
        parts = []
        text = (_text(first.get(content_key)) if prefix == "gen_ai.completion"
                else _oi_content(first))
        if text:
            parts.append(Part(TEXT, text))
        for call in indexed(first, tools_key).values():
            if prefix == "gen_ai.completion":
                parts.append(_tool(call.get("id"), call.get("name"), call.get("arguments")))
            else:
                parts.append(_tool(call.get("tool_call.id"), call.get("tool_call.function.name"),
                                   call.get("tool_call.function.arguments")))
        if parts:
            return parts, False
    value = attrs.get("output.value")
    if isinstance(value, str) and value:
        return [Part(TEXT, value)], False
    return [], False


def finish_reasons_of(span: Span) -> list[Any] | None:
    attrs = span.attrs
    reasons = attrs.get("gen_ai.response.finish_reasons")
    if isinstance(reasons, list):
        return reasons
    if isinstance(reasons, str):
        return [reasons]
    first = indexed(attrs, "gen_ai.completion").get(0, {})
    if isinstance(first.get("finish_reason"), str):
        return [first["finish_reason"]]
    output = maybe_json(attrs.get("gen_ai.output.messages"))
    if isinstance(output, list):
        found = [m.get("finish_reason") for m in output if isinstance(m, dict)]
        if any(isinstance(r, str) for r in found):
            return found
    return None


def usage_of(attrs: Mapping[str, Any]) -> dict[str, Any] | None:
    usage = {k: v for k, v in attrs.items()
             if k.startswith(("gen_ai.usage.", "llm.token_count.")) and v is not None}
    return usage or None


def failure_type(name: str) -> str:
    """``failureType`` from an error's name (docs/format.md, section 9)."""
    lowered = name.lower()
    if "timeout" in lowered or "timedout" in lowered:
        return "timeout"
    if "connect" in lowered or "network" in lowered:
        return "network"
    if "cancel" in lowered or "abort" in lowered:
        return "abort"
    return "model"


def error_of(span: Span) -> SerializedError | None:
    """The span's error when its status is ERROR (``error.type``, the exception event)."""
    if span.status_code != STATUS_ERROR:
        return None
    exception = next((e.attrs for e in reversed(span.events) if e.name == "exception"), {})
    name = _text(span.attrs.get("error.type")) or _text(exception.get("exception.type")) or "Error"
    message = span.status_message or _text(exception.get("exception.message")) or ""
    return SerializedError(name=name, message=message,
                           stack=_text(exception.get("exception.stacktrace")))
