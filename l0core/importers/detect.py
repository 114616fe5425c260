"""Which provider wrote a capture, from its first lines (docs/format.md, section 10).

Each format has objects that only it writes (a Chat chunk's ``choices``, the
Responses API's ``response.*`` types, Anthropic's ``message_start``, OTLP's
``resourceSpans``), so the first such object decides. Anything else is refused
in one line that names the file and the line.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from typing import Any

import orjson

from l0core.importers.errors import ImportFormatError
from l0core.importers.records import short

OPENAI_CHAT = "openai-chat"
OPENAI_RESPONSES = "openai-responses"
ANTHROPIC = "anthropic"
OTLP = "otlp"
FORMATS: tuple[str, ...] = (OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC, OTLP)

ANTHROPIC_TYPES = frozenset({
    "message_start", "message_delta", "message_stop", "content_block_start",
    "content_block_delta", "content_block_stop", "ping",
})
_SSE_HINTS = {"message_start": ANTHROPIC, "content_block_delta": ANTHROPIC,
              "response.created": OPENAI_RESPONSES}
_FIRST_KEY = re.compile(rb'^\s*[\[{]\s*(?:\{\s*)?"([A-Za-z_]+)"')
_WRAPPERS = ("data", "event", "chunk")


def check_format(name: str) -> str:
    """``name`` if it is a format we read, else a ValueError listing them."""
    if name not in FORMATS:
        raise ValueError(f"unknown import format {name!r} (one of: {', '.join(FORMATS)})")
    return name


def classify(obj: dict[str, Any], sse_event: str | None = None) -> str | None:
    """The format of one provider object; None when several formats write it (a bare error)."""
    if "resourceSpans" in obj:
        return OTLP
    kind = obj.get("type")
    if isinstance(kind, str):
        if kind.startswith("response."):
            return OPENAI_RESPONSES
        if kind in ANTHROPIC_TYPES:
            return ANTHROPIC
        if kind == "error":
            if isinstance(obj.get("error"), dict):
                return ANTHROPIC
            if "sequence_number" in obj or "message" in obj:
                return OPENAI_RESPONSES
    if obj.get("object") == "chat.completion.chunk" or isinstance(obj.get("choices"), list):
        return OPENAI_CHAT
    if "type" not in obj and isinstance(obj.get("error"), dict):
        return OPENAI_CHAT
    if sse_event in _SSE_HINTS:
        return _SSE_HINTS[sse_event]
    return None


def _keys(obj: dict[str, Any]) -> str:
    keys = list(obj)[:6]
    return ", ".join(repr(k) for k in keys) + (", ..." if len(obj) > 6 else "")


def _unknown(name: str, line: int, obj: dict[str, Any]) -> ImportFormatError:
    what = f"type {obj['type']!r}" if isinstance(obj.get("type"), str) else (
        f"keys {_keys(obj)}" if obj else "an empty object")
    return ImportFormatError(
        name, f"JSON with {what} is not a stream of a known format ({', '.join(FORMATS)})", line)


def _lines(first: bytes | bytearray | Iterable[bytes | str], name: str,
           complete: bool) -> tuple[list[bytes], bool]:
    """The input as lines, and whether its last line may be cut off."""
    if isinstance(first, bytes | bytearray):
        data = bytes(first).removeprefix(b"\xef\xbb\xbf")
        if not data.strip():
            raise ImportFormatError(name, "empty file: nothing to import")
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(data, final=complete)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ImportFormatError(name, "binary data, not a text capture", line) from None
        if b"\x00" in data:
            raise ImportFormatError(name, "binary data, not a text capture",
                                    data.count(b"\n", 0, data.index(b"\x00")) + 1)
        return data.split(b"\n"), not complete and not data.endswith(b"\n")
    lines = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in first]
    if not any(line.strip() for line in lines):
        raise ImportFormatError(name, "empty file: nothing to import")
    return [line.rstrip(b"\r\n") for line in lines], False


def check_text(first: bytes, *, name: str = "<input>", complete: bool = False) -> None:
    """Refuse an empty or binary input (the checks :func:`detect_format` starts with)."""
    _lines(first, name, complete)


def detect_format(first_bytes_or_lines: bytes | bytearray | Iterable[bytes | str], *,
                  name: str = "<input>", complete: bool = False) -> str:
    """The format of a capture from its first bytes (or lines).

    ``name`` is used in messages; ``complete`` says the bytes are the whole file
    (else the last line may be cut off by the head's end and only its first key
    is looked at). Raises :class:`ImportFormatError` naming the file and line for
    an empty or binary input and for JSON of no known format.
    """
    lines, last_may_be_cut = _lines(first_bytes_or_lines, name, complete)
    event: str | None = None
    seen_object = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith(b":") or line.startswith((b"id:", b"retry:")):
            if not line:
                event = None
            continue
        if line.startswith(b"event:"):
            event = line[6:].strip().decode("utf-8", "replace")
            if event in _SSE_HINTS:
                return _SSE_HINTS[event]
            continue
        payload = line[5:].strip() if line.startswith(b"data:") else line
        if payload == b"[DONE]":
            return OPENAI_CHAT
        cut = last_may_be_cut and number == len(lines)
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError:
            if cut or (number == 1 and payload[:1] in (b"{", b"[")):
                return _sniff(payload, name, number, lines)
            raise ImportFormatError(name, f"neither JSON nor SSE: {short(payload)}",
                                    number) from None
        if isinstance(obj, list):
            obj = next((x for x in obj if isinstance(x, dict)), {})
        if not isinstance(obj, dict):
            raise ImportFormatError(name, f"expected a JSON object, got {short(payload)}", number)
        if "request" in obj and not any(k in obj for k in ("type", "choices", "object")):
            seen_object = True
            continue
        inner = next((obj[k] for k in _WRAPPERS if isinstance(obj.get(k), dict)), None)
        if inner is not None and "type" not in obj and "choices" not in obj:
            obj = inner
        found = classify(obj, event)
        if found is not None:
            return found
        if not (obj.get("type") == "error" or "error" in obj):
            raise _unknown(name, number, obj)
        seen_object = True
    what = "no stream events in the first lines" if seen_object else "nothing to import"
    raise ImportFormatError(name, what, 1)


def _sniff(payload: bytes, name: str, number: int, lines: list[bytes]) -> str:
    """A first line too long to parse here (or a document over several lines): its first key."""
    head = b"\n".join(lines)
    match = _FIRST_KEY.match(head if number == 1 else payload)
    key = match.group(1).decode() if match else ""
    if key == "resourceSpans":
        return OTLP
    if key in ("choices", "object"):
        return OPENAI_CHAT
    # the first key of a provider object alone does not say more; parse what we have
    text = head.decode("utf-8", "replace")
    for marker, fmt in (('"chat.completion.chunk"', OPENAI_CHAT), ('"message_start"', ANTHROPIC),
                        ('"response.created"', OPENAI_RESPONSES), ('"resourceSpans"', OTLP)):
        if marker in text:
            return fmt
    raise ImportFormatError(name, f"neither JSON nor SSE: {short(payload)}", number)
