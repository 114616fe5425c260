"""The fast TOKEN paths: nearly every event of a stream is a token, so they skip work.

Two shortcuts, each allowed to *refuse* a token (the caller then takes the fully
checked path) but never to accept one the checked path would reject or to build a
different event:

- :func:`token_event` builds a :class:`~l0core.events.TokenEvent` from values
  already checked, without the dataclass ``__init__`` (a third of the cost);
- :func:`decode_token_run` (and :func:`decode_token_line` for one line) decodes
  JSONL lines straight into envelopes with msgspec, as long as each line is
  exactly a TOKEN envelope as the stores write it.

``tests/core/test_codec_token_lines.py`` pins both to
:func:`~l0core.codec.decode_envelope`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import msgspec

from l0core.codec.checks import MAX_INT, MIN_INT
from l0core.events import EventEnvelope, TokenEvent


def token_event(ts: float, value: str, index: int, _new: Any = object.__new__) -> TokenEvent:
    """A TokenEvent from values the caller has checked (no ``__init__``, no defaults)."""
    event: TokenEvent = _new(TokenEvent)
    event.ts = ts
    event.value = value
    event.index = index
    return event


_Int64 = Annotated[int, msgspec.Meta(ge=MIN_INT, le=MAX_INT)]
"""The integers the checked path accepts (msgspec alone would take up to 2**64 - 1)."""


class _TokenBody(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["TOKEN"]
    ts: _Int64 | float
    value: str
    index: _Int64


class _TokenLine(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly the shape the stores write for a TOKEN envelope, nothing more."""

    streamId: str
    seq: int
    event: _TokenBody


_decode_token_line = msgspec.json.Decoder(_TokenLine).decode


def decode_token_run(
    lines: Sequence[bytes], start: int, stream_id: str, first_seq: int,
    out: list[EventEnvelope],
) -> int:
    """Decode ``lines[start:]`` onto ``out`` while each is a plain TOKEN line.

    ``lines[k]`` must be the envelope of ``stream_id`` at ``first_seq + k``. Returns
    the index of the first line that is not on the fast path (``len(lines)`` when
    all were): any other kind, an unknown key, a snake_case spelling, a wrong seq
    or stream, or anything malformed. The checked path then decodes that line, or
    says what is wrong with it. msgspec itself refuses NaN, infinities,
    out-of-range numbers and invalid UTF-8.
    """
    decode = _decode_token_line
    append = out.append
    new = token_event
    for k in range(start, len(lines)):
        try:
            tok = decode(lines[k])
        except (msgspec.DecodeError, UnicodeDecodeError):
            return k
        seq = first_seq + k
        if tok.seq != seq or tok.streamId != stream_id:
            return k
        ev = tok.event
        append(EventEnvelope(stream_id, seq, new(ev.ts, ev.value, ev.index)))
    return len(lines)


def decode_token_line(line: bytes, stream_id: str, seq: int) -> EventEnvelope | None:
    """The envelope on ``line`` if it is a plain TOKEN line of ``stream_id`` at ``seq``,
    else ``None`` (see :func:`decode_token_run`)."""
    out: list[EventEnvelope] = []
    decode_token_run((line,), 0, stream_id, seq, out)
    return out[0] if out else None
