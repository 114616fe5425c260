"""``l0tui export --format html``: one file that replays a recording in any browser.

The file carries everything: the recording (as JSON in a ``<script
type="application/json">`` block), the player's script and its styles. Nothing is
fetched when it opens, and its Content-Security-Policy allows only the script and
the style it carries (by their SHA-256), so a recording whose tokens are HTML or
script can neither run code nor load anything. The player (``l0tui/player/``)
inserts stream text as text nodes only, never as markup.

The recording is stored by columns to keep a 100,000-event file small: one
letter per event for its kind, the gaps between timestamps, the TOKEN values
(and their ``index`` only where it is not one more than the last), and every
other event whole, as the wire format writes it (``docs/format.md``). The player
folds it with the same rules as :func:`l0core.fold.apply_event`.
"""

from __future__ import annotations

import base64
import hashlib
import html
from importlib import resources
from typing import Any

import orjson

from l0core.codec import encode_event
from l0core.events import RecordedEventType
from l0core.timeline import IMPORTANCE, Timeline
from l0tui.display.vocabulary import LETTERS

FORMAT_NAME = "l0tui-recording"
FORMAT_VERSION = 1
BATCH = 8192
"""Envelopes read from the timeline at a time."""

KIND_CODES: dict[RecordedEventType, str] = {
    RecordedEventType.START: "S",
    RecordedEventType.TOKEN: "t",
    RecordedEventType.CHECKPOINT: "K",
    RecordedEventType.GUARDRAIL: "G",
    RecordedEventType.DRIFT: "D",
    RecordedEventType.RETRY: "R",
    RecordedEventType.FALLBACK: "F",
    RecordedEventType.CONTINUATION: "C",
    RecordedEventType.COMPLETE: "X",
    RecordedEventType.ERROR: "E",
}
"""One ASCII character per kind in the recording's ``kinds`` column (not shown)."""

_JSON_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def script_safe_json(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` block.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so no text in the data can
    close the block (``</script>``) or open a comment (``<!--``); U+2028/2029 too,
    for readers that still treat them as line ends. ``JSON.parse`` reads them back.
    """
    return orjson.dumps(value).decode("utf-8").translate(_JSON_ESCAPES)


def recording_payload(timeline: Timeline, *, source: str) -> dict[str, Any]:
    """The recording as the player reads it (see the module docstring)."""
    n = len(timeline)
    kinds: list[str] = []
    gaps: list[float] = []
    values: list[str] = []
    index_breaks: list[int] = []  # [token ordinal, index, ...] where index != previous + 1
    others: list[list[Any]] = []
    previous_ts: float | None = None
    previous_index = -1
    for start in range(0, n, BATCH):
        for env in timeline.events(start, min(n, start + BATCH)):
            event = env.event
            wire = encode_event(event)
            kinds.append(KIND_CODES[event.type])
            ts = wire["ts"]
            gaps.append(0 if previous_ts is None else ts - previous_ts)
            previous_ts = ts
            if event.type is RecordedEventType.TOKEN:
                index = wire["index"]
                if index != previous_index + 1:
                    index_breaks.extend((len(values), index))
                previous_index = index
                values.append(wire["value"])
            else:
                others.append([env.seq, wire])
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "streamId": timeline.stream_id,
        "source": source,
        "count": n,
        "firstTs": timeline.ts(0) if n else 0,
        "kinds": "".join(kinds),
        "gaps": gaps,
        "tokens": values,
        "indexBreaks": index_breaks,
        "events": others,
        "legend": [
            {"code": KIND_CODES[kind], "type": kind.value, "letter": LETTERS[kind],
             "rank": rank}
            for rank, kind in enumerate(IMPORTANCE)
        ],
    }


def _asset(name: str) -> str:
    text = resources.files("l0tui").joinpath("player", name).read_text(encoding="utf-8")
    if "</" in text:
        # Inline script and style end at the first "</": the assets must not contain one.
        raise ValueError(f"l0tui/player/{name} contains '</' and cannot be inlined")
    return text


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def content_security_policy(script: str, style: str) -> str:
    """Nothing but the inline ``script`` and ``style`` given (by hash) may load or run."""
    return (
        "default-src 'none'; "
        f"script-src '{_sha256(script)}'; "
        f"style-src '{_sha256(style)}'; "
        "img-src 'none'; connect-src 'none'; font-src 'none'; media-src 'none'; "
        "object-src 'none'; frame-src 'none'; worker-src 'none'; manifest-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def render_html(timeline: Timeline, *, source: str) -> str:
    """The self-contained player page for ``timeline``."""
    script = _asset("player.js")
    style = _asset("player.css")
    title = html.escape(f"{timeline.stream_id} · l0tui recording", quote=True)
    data = script_safe_json(recording_payload(timeline, source=source))
    csp = html.escape(content_security_policy(script, style), quote=True)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f"<style>{style}</style>\n"
        "</head>\n<body>\n"
        '<noscript>This recording needs JavaScript to play.</noscript>\n'
        f'<script type="application/json" id="l0-recording">{data}</script>\n'
        f"<script>{script}</script>\n"
        "</body>\n</html>\n"
    )
