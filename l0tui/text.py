"""Hostile text made safe to show: recorded LLM output is data, never markup or escapes.

Every string that came from a stream goes through :func:`clean` (or :func:`safe_text`)
before it reaches a widget. Nothing here parses Rich markup: callers build
:class:`rich.text.Text` objects from the cleaned string, so ``[bold]`` stays the six
characters it is. Control characters (C0, DEL, C1), which is how ANSI and OSC escape
sequences start, become visible pictures such as ``␛``; bidirectional overrides and
isolates become ``<U+202E>``-style tags so right-to-left text cannot reorder what
surrounds it, while ordinary RTL letters and emoji are kept as they are. Giant strings
are capped, with a note of how much was left out.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text

MAX_RENDER_CHARS = 4096
"""The most characters of one value (a token, a message) a single-line view renders."""

# C0 controls map to the Unicode "Control Pictures" block (U+2400 + code).
_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_BIDI_CONTROLS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _table(keep_newlines: bool) -> dict[int, str]:
    table: dict[int, str] = dict(_C0_PICTURES)
    table[0x7F] = "\u2421"  # DEL
    for code in range(0x80, 0xA0):  # C1 controls, e.g. the 8-bit CSI 0x9B
        table[code] = f"\\x{code:02x}"
    for code in _BIDI_CONTROLS:
        table[code] = f"<U+{code:04X}>"
    table[0x2028] = "\u2424"  # line separator
    table[0x2029] = "\u00b6"  # paragraph separator
    if keep_newlines:
        del table[0x0A]
        table[0x09] = "    "
        table[0x0D] = "\u240d"
    else:
        table[0x0A] = "\u21b5"  # ↵ shows where a newline was
        table[0x09] = "\u2409"
    return table


def _needs(table: dict[int, str]) -> re.Pattern[str]:
    """A pattern that finds any character ``table`` replaces."""
    return re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(table)) + "]")


_ONE_LINE = _table(keep_newlines=False)
_MULTI_LINE = _table(keep_newlines=True)
_ONE_LINE_NEEDS = _needs(_ONE_LINE)
_MULTI_LINE_NEEDS = _needs(_MULTI_LINE)


def clean(value: str, *, limit: int | None = MAX_RENDER_CHARS, multiline: bool = False) -> str:
    """``value`` with every control character made visible, capped at ``limit`` characters.

    ``multiline`` keeps ``\\n`` (and expands tabs) for views that wrap text; otherwise
    newlines show as ``↵`` so one value stays on one line. A capped value ends with
    ``… (+N chars)``.
    """
    extra = 0
    if limit is not None and len(value) > limit:
        extra = len(value) - limit
        value = value[:limit]
    table, needs = (_MULTI_LINE, _MULTI_LINE_NEEDS) if multiline else (_ONE_LINE, _ONE_LINE_NEEDS)
    # translate() looks every character up in a dict; most text has nothing to
    # replace, and a regex finds that out in one C loop.
    out = value.translate(table) if needs.search(value) else value
    if extra:
        out += f"… (+{extra:,} chars)"
    return out


def clean_tail(value: str, limit: int, *, multiline: bool = True) -> tuple[str, int]:
    """The last ``limit`` characters of ``value``, cleaned, and how many were left out."""
    dropped = max(0, len(value) - limit)
    return clean(value[dropped:], limit=None, multiline=multiline), dropped


def safe_text(
    value: str,
    style: str | Style = "",
    *,
    limit: int | None = MAX_RENDER_CHARS,
    multiline: bool = False,
) -> Text:
    """A :class:`Text` showing ``value`` literally (no markup parsed, no escapes emitted)."""
    return Text(clean(value, limit=limit, multiline=multiline), style=style, no_wrap=not multiline)
