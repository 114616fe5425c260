"""The form final content and search words take in a text-search index.

The reference (:func:`l0core.catalog.query.matches`) looks for every case-folded word
as a substring of the case-folded content. Stores that index text keep the content
already case-folded by Python, so the index only has to find substrings: SQL's own
``lower()`` folds fewer characters than ``str.casefold`` (``ß`` and ``ss``).
NUL, which SQL text cannot always hold, becomes U+FFFD on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from l0core.catalog.summary import final_content

CONTENT_KINDS = frozenset({"TOKEN", "CONTINUATION", "COMPLETE", "ERROR"})
"""Event kinds after which an ended stream's indexed content is written again."""
TERMINAL_KINDS = frozenset({"COMPLETE", "ERROR"})
RESET_KINDS = frozenset({"CONTINUATION", "COMPLETE"})
"""Kinds that replace the content, so what follows them needs nothing earlier."""


def searchable(text: str) -> str:
    """``text`` as stored in a text index."""
    return text.casefold().replace("\x00", "\ufffd")


def search_words(words: Iterable[str]) -> list[str]:
    """Case-folded search words (as the reference splits them) in the stored form."""
    return [w.replace("\x00", "\ufffd") for w in words]


def content_needed(status: str, kinds: set[str]) -> bool:
    """True when a stream whose summary says ``status`` must have its content indexed
    (again) after a batch of these event ``kinds``: it ends the stream, or the stream
    had ended and the batch changes the content."""
    if kinds & TERMINAL_KINDS:
        return True
    return status != "running" and bool(kinds & CONTENT_KINDS)


def content_from_batch(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The final content after ``events`` when they alone decide it (they contain a
    CONTINUATION or COMPLETE), else None: the earlier events must be folded too."""
    for i in range(len(events) - 1, -1, -1):
        if events[i]["type"] in RESET_KINDS:
            return final_content(events[i:])
    return None
