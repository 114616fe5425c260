"""START options from the request an SDK stream answers (model, prompt, params).

An SDK stream object does not carry the request that produced it, so the
recorders take it as ``request=``: the keyword arguments given to
``create(...)``/``stream(...)``. The prompt is the text of the last user
message; the other parameters (temperature, tools, ...) go to the options'
``extra`` under their own names, as ``l0tui import`` writes them (one spelled
like an option, such as ``metadata``, becomes ``request.<name>``). Transport
settings (``extra_headers``, ``timeout``, ...) are left out: headers can hold
secrets. See docs/format.md "Recording the SDKs".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from l0core.codec.fields import known_keys
from l0core.codec.schema import OPTION_FIELDS
from l0core.events import JSONDict, SerializedOptions

_NOT_PARAMS = frozenset({
    "model", "messages", "input", "stream", "stream_options", "extra_headers", "extra_query",
    "extra_body", "timeout", "api_key", "idempotency_key",
})
_OPTION_NAMES = known_keys(OPTION_FIELDS)
_UNSET_TYPES = frozenset({"NotGiven", "Omit", "NoneType"})


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a mapping, ``obj.key`` otherwise, ``None`` when absent."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of ``value``: SDK models dumped, unknown objects as ``str``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return jsonable(value.value, depth + 1)
    if depth > 40:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()
                if type(v).__name__ not in _UNSET_TYPES}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, depth + 1) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return jsonable(dump(mode="json", exclude_unset=True), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), depth + 1)
    return str(value)


def _text_of(content: Any, part_types: tuple[str, ...]) -> str | None:
    if isinstance(content, str):
        return content
    if not isinstance(content, list | tuple):
        return None
    texts = [get(p, "text") for p in content if get(p, "type") in part_types]
    joined = "".join(t for t in texts if isinstance(t, str))
    return joined or None


def last_user_text(messages: Any, part_types: tuple[str, ...] = ("text",)) -> str | None:
    """The text of the last ``role == "user"`` message (text parts joined)."""
    if isinstance(messages, str):
        return messages
    if not isinstance(messages, list | tuple):
        return None
    for message in reversed(messages):
        if get(message, "role") == "user":
            return _text_of(get(message, "content"), part_types)
    return None


def request_params(request: Mapping[str, Any]) -> JSONDict:
    """The request without model, messages/input and transport settings, as JSON.

    Keyed as START's ``extra``: a name START already uses is ``request.<name>``.
    """
    return {f"request.{k}" if k in _OPTION_NAMES else k: jsonable(v)
            for k, v in request.items()
            if k not in _NOT_PARAMS and v is not None and type(v).__name__ not in _UNSET_TYPES}


def request_options(
    request: Mapping[str, Any] | None,
    *,
    prompt_of: Callable[[Mapping[str, Any]], str | None],
    prompt: str | None = None,
    model: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> SerializedOptions:
    """START options: ``model``/``prompt`` given, else read from ``request``; params, metadata."""
    req: Mapping[str, Any] = request or {}
    meta: JSONDict = jsonable(dict(metadata or {}))
    req_model = req.get("model")
    return SerializedOptions(
        prompt=prompt if prompt is not None else prompt_of(req),
        model=model if model is not None else (req_model if isinstance(req_model, str) else None),
        metadata=meta or None,
        extra=request_params(req),
    )
