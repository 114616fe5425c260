"""START options of an imported stream: model, prompt, request parameters, import metadata.

The prompt is the last user message of whatever message list the source has
(Chat and Anthropic ``messages``, Responses ``input``, GenAI and OpenInference
messages), whatever shape its content takes. Parameters keep their own names in
``extra``; one that is spelled like an option we know is renamed ``request.<name>``
so that it can never be mistaken for it (docs/format.md, section 10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from l0core.codec import decode_options
from l0core.codec.fields import known_keys
from l0core.codec.schema import OPTION_FIELDS
from l0core.events import SerializedOptions

IMPORT_KEY = "l0.import"
"""The key of ``options.metadata`` that says where an imported stream came from."""

_KNOWN = known_keys(OPTION_FIELDS)
_NOT_PARAMS = frozenset({"model", "messages", "input", "stream", "stream_options", "prompt"})


def content_text(content: object) -> str | None:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping):
                kind = part.get("type")
                text = part.get("text", part.get("content"))
                if isinstance(text, str) and kind in (None, "text", "input_text", "output_text"):
                    texts.append(text)
        return "".join(texts) if texts else None
    if isinstance(content, Mapping):
        return content_text([content])
    return None


def message_text(message: Mapping[str, Any]) -> str | None:
    """A message's text from ``content`` (string or parts) or GenAI ``parts``."""
    if "parts" in message:
        return content_text(message.get("parts"))
    return content_text(message.get("content"))


def maybe_json(value: object) -> object:
    """``value`` parsed when it is a string holding a JSON array or object."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def last_user_text(messages: object) -> str | None:
    """The last user message's text; a plain string is the prompt itself."""
    messages = maybe_json(messages)
    if isinstance(messages, str):
        return messages
    if isinstance(messages, Mapping):
        inner = messages.get("messages")
        return last_user_text(inner) if inner is not None else None
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            text = message_text(message)
            if text is not None:
                return text
    return None


def request_prompt(request: Mapping[str, Any]) -> str | None:
    """The prompt of a request body: ``prompt``, else the last user message."""
    if isinstance(request.get("prompt"), str):
        return str(request["prompt"])
    for key in ("messages", "input"):
        if key in request:
            text = last_user_text(request[key])
            if text is not None:
                return text
    return None


def request_params(request: Mapping[str, Any]) -> dict[str, Any]:
    """A request body's parameters (everything but the model, messages and streaming flags)."""
    return {k: v for k, v in request.items() if k not in _NOT_PARAMS and v is not None}


def build_options(*, model: object = None, prompt: str | None = None,
                  params: Mapping[str, Any] | None = None,
                  info: Mapping[str, Any] | None = None,
                  metadata: Mapping[str, Any] | None = None) -> SerializedOptions:
    """START options from what a source says.

    ``metadata`` goes into ``options.metadata`` as it is, ``info`` under its
    ``"l0.import"`` key.
    """
    wire: dict[str, Any] = {}
    if isinstance(model, str) and model:
        wire["model"] = model
    if prompt is not None:
        wire["prompt"] = prompt
    for key, value in (params or {}).items():
        if value is None:
            continue
        wire[f"request.{key}" if key in _KNOWN else key] = value
    meta = {k: v for k, v in (metadata or {}).items() if v is not None}
    meta[IMPORT_KEY] = {k: v for k, v in (info or {}).items() if v is not None}
    wire["metadata"] = meta
    return decode_options(wire)
