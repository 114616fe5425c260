"""Stream ids for imported streams: from the source, made safe, unique within a file.

The rule (docs/format.md, section 2 and section 10): ``[A-Za-z0-9_-]{1,200}``;
other characters become ``_``; the second stream with an id gets ``-2``; a
response's tool call ``n`` is ``<id>-tool-<n>``, as the SDK recorders name it.
"""

from __future__ import annotations

import re

from l0core.events import MAX_STREAM_ID_LENGTH

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
FALLBACK_ID = "imported"


def sanitize(raw: str | None, fallback: str = FALLBACK_ID) -> str:
    """``raw`` with unsafe characters replaced and cut to the length limit."""
    text = _UNSAFE.sub("_", raw or "")[:MAX_STREAM_ID_LENGTH]
    if not text.strip("_"):
        text = _UNSAFE.sub("_", fallback)[:MAX_STREAM_ID_LENGTH] or FALLBACK_ID
    return text


def numbered(base: str, n: int) -> str:
    """``base`` for n = 1, else ``base-n``, cut so that the whole stays within the limit."""
    if n <= 1:
        return base[:MAX_STREAM_ID_LENGTH]
    suffix = f"-{n}"
    return base[: MAX_STREAM_ID_LENGTH - len(suffix)] + suffix


class UniqueIds:
    """Hands out each id once: a repeat becomes ``id-2``, ``id-3``, ..."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def claim(self, wanted: str) -> str:
        n = 1
        candidate = numbered(wanted, n)
        while candidate in self._seen:
            n += 1
            candidate = numbered(wanted, n)
        self._seen.add(candidate)
        return candidate


def tool_stream_id(parent: str, number: int) -> str:
    """The stream of tool call ``number`` (from 0) of the response ``parent``."""
    suffix = f"-tool-{number}"
    return parent[: MAX_STREAM_ID_LENGTH - len(suffix)] + suffix


class StreamNamer:
    """Names the streams of one file: from the source, or ``ID``, ``ID-2``, ... when given."""

    def __init__(self, fixed: str | None = None) -> None:
        self.fixed = fixed
        self._ids = UniqueIds()
        self._responses = 0

    def response(self, derived: str) -> str:
        self._responses += 1
        wanted = numbered(self.fixed, self._responses) if self.fixed is not None else derived
        return self._ids.claim(wanted)

    def tool(self, parent: str, number: int) -> str:
        return self._ids.claim(tool_stream_id(parent, number))
