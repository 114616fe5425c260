"""Hostile text made safe to show: recorded LLM output is data, never markup or escapes.

Every string that came from a stream goes through this module before it reaches a
terminal or a widget. Nothing here parses Rich markup: callers build
:class:`rich.text.Text` objects from the cleaned string, so ``[bold]`` stays the six
characters it is. Control characters (C0, DEL, C1), which is how ANSI and OSC escape
sequences start, are replaced by something visible; bidirectional overrides and
isolates become ``<U+202E>``-style tags so right-to-left text cannot reorder what
surrounds it, while ordinary RTL letters and emoji are kept as they are.

One set of characters is replaced, shown in one of two ways (a :class:`Scheme`):

- ``PICTURES`` (every screen: the TUI and the command line, :data:`COMMAND_LINE`):
  Unicode control pictures such as ``␛``, ``↵`` for a newline on a one-line view, four
  spaces for a tab in a wrapped view; one visible cell per character replaced, so a
  hostile string reads the same in ``l0tui show`` and in the debugger;
- ``ESCAPES`` (documents, such as the Markdown report): backslash escapes such as
  ``\\x1b``, which survive any Markdown renderer and copy and paste into a bug report.

JSON output is exact JSON: :func:`to_json` only escapes what orjson leaves raw.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # Rich is imported where a Text is made: ``ls --jsonl`` never loads it
    from rich.style import Style
    from rich.text import Text

MAX_RENDER_CHARS = 4096
"""The most characters of one value (a token, a message) a single-line view renders."""


class Scheme(Enum):
    """How a replaced character is shown."""

    PICTURES = "pictures"
    ESCAPES = "escapes"


COMMAND_LINE = Scheme.PICTURES
"""The scheme of everything the command line prints: the same pictures as the TUI, so a
hostile string reads the same on both (documents such as the Markdown report use
``ESCAPES``)."""

_BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_NAMED_ESCAPES = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}


def _table(scheme: Scheme, multiline: bool) -> dict[int, str]:
    """What each replaced character becomes: C0, DEL, C1, bidi controls, U+2028/9."""
    pictures = scheme is Scheme.PICTURES
    table: dict[int, str] = {}
    for code in range(0x20):
        table[code] = chr(0x2400 + code) if pictures else _NAMED_ESCAPES.get(code, f"\\x{code:02x}")
    table[0x7F] = "\u2421" if pictures else "\\x7f"
    for code in range(0x80, 0xA0):  # C1 controls, e.g. the 8-bit CSI 0x9B
        table[code] = f"\\x{code:02x}"
    for code in _BIDI_CONTROLS:
        table[code] = f"<U+{code:04X}>"
    table[0x2028] = "\u2424" if pictures else "<U+2028>"  # line separator
    table[0x2029] = "\u00b6" if pictures else "<U+2029>"  # paragraph separator
    if pictures:
        if multiline:
            del table[0x0A]
            table[0x09] = "    "
            table[0x0D] = "\u240d"
        else:
            table[0x0A] = "\u21b5"  # ↵ shows where a newline was
            table[0x09] = "\u2409"
    elif multiline:
        del table[0x0A], table[0x09]
    return table


def _needs(table: dict[int, str]) -> re.Pattern[str]:
    """A pattern that finds any character ``table`` replaces."""
    return re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(table)) + "]")


_ONE_LINE = _table(Scheme.PICTURES, multiline=False)
_MULTI_LINE = _table(Scheme.PICTURES, multiline=True)
_TABLES: dict[tuple[Scheme, bool], tuple[dict[int, str], re.Pattern[str]]] = {
    (scheme, multiline): (table, _needs(table))
    for scheme in Scheme
    for multiline in (False, True)
    for table in (_table(scheme, multiline),)
}


def clean(
    value: str,
    *,
    limit: int | None = MAX_RENDER_CHARS,
    multiline: bool = False,
    scheme: Scheme = Scheme.PICTURES,
) -> str:
    """``value`` with every control character made visible, capped at ``limit`` characters.

    ``multiline`` keeps ``\\n`` (and, with pictures, expands tabs) for views that wrap
    text; otherwise newlines show as ``↵`` (or ``\\n``) so one value stays on one line.
    A capped value ends with ``… (+N chars)``.
    """
    extra = 0
    if limit is not None and len(value) > limit:
        extra = len(value) - limit
        value = value[:limit]
    table, needs = _TABLES[scheme, multiline]
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
    """A TUI :class:`Text` showing ``value`` literally (no markup parsed, no escapes emitted)."""
    from rich.text import Text

    return Text(clean(value, limit=limit, multiline=multiline), style=style, no_wrap=not multiline)


# ───────────────────────────── the command line ─────────────────────────────


def sanitize(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` as the command line prints it: whole, every control made visible.

    With ``keep_newlines`` newlines and tabs stay as they are (multi-line content);
    otherwise the result is one line.
    """
    return clean(text, limit=None, multiline=keep_newlines, scheme=COMMAND_LINE)


def shorten(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters as :func:`sanitize` shows it; ``…`` marks a cut."""
    if len(text) > limit * 4:  # do not escape a 1 MB token to show 80 characters of it
        text = text[: limit * 4]
    line = sanitize(text)
    return line if len(line) <= limit else line[: max(0, limit - 1)] + "…"


def terminal_text(text: str, style: str | Style = "", *, keep_newlines: bool = False) -> Text:
    """A command-line :class:`Text` of :func:`sanitize`'d ``text`` (it may wrap in a table)."""
    from rich.text import Text

    return Text(sanitize(text, keep_newlines=keep_newlines), style=style)


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029]")


def to_json(obj: Any, *, indent: bool = True) -> str:
    """JSON text with every control character escaped (orjson leaves DEL and C1 raw)."""
    option = orjson.OPT_INDENT_2 if indent else 0
    raw = orjson.dumps(obj, option=option | orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)
