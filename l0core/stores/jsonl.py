"""JSONL event files: decoding blocks of lines fast and finding a file's tail.

Kept apart from the store so the rules for "what is data" live in one place:
only complete lines (ending in a newline) are data; a bad *final* line is a torn
tail (a crash during the last write), a bad line anywhere else is corruption,
reported with the file and the byte offset where that line starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import orjson

from l0core import gcpolicy
from l0core.codec import decode_envelope, decode_token_run
from l0core.errors import CorruptionError, EventValidationError
from l0core.events import EventEnvelope

__all__ = ["DECODE_CHUNK", "TAIL_WINDOW", "Tail", "decode_block", "read_tail",
           "split_complete"]

TAIL_WINDOW = 64 * 1024
DECODE_CHUNK = 32_768


def _line_offset(lines: list[bytes], index: int, base: int) -> int:
    return base + sum(len(line) + 1 for line in lines[:index])


def _check_one(raw: bytes | Any, stream_id: str, seq: int, parsed: bool) -> EventEnvelope:
    """Decode one line (or its parsed value); raise ValueError saying what is wrong."""
    item = raw
    if not parsed:
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"line is not JSON ({exc})") from None
    try:
        env = decode_envelope(item)
    except EventValidationError as exc:
        raise ValueError(f"line is not an event envelope ({exc})") from None
    if env.seq != seq:
        raise ValueError(f"expected seq {seq}, the line says {env.seq}")
    if env.stream_id != stream_id:
        raise ValueError(f"line belongs to stream {env.stream_id!r}, not {stream_id!r}")
    return env


def decode_block(
    lines: list[bytes],
    *,
    stream_id: str,
    first_seq: int,
    base_offset: int,
    path: str,
    final_at_eof: bool,
) -> tuple[list[EventEnvelope], bool]:
    """Decode complete lines numbered from ``first_seq``; returns (envelopes, torn).

    ``torn`` is True when the last line is bad and ``final_at_eof`` says it is the
    file's last line: it is then dropped as a torn tail. Any other bad line raises
    :class:`CorruptionError` with the offset where it starts.
    """
    out: list[EventEnvelope] = []
    last = len(lines) - 1
    k = 0
    # A million fresh objects would otherwise trigger collections costing more than
    # the parse itself (about 4x); the pause is shared with the application's own.
    with gcpolicy.paused():
        while True:
            # Runs of plain TOKEN lines go straight into typed objects; any other line
            # takes the fully checked path, which also locates damage.
            k = decode_token_run(lines, k, stream_id, first_seq, out)
            if k > last:
                return out, False
            seq = first_seq + k
            try:
                out.append(_check_one(lines[k], stream_id, seq, False))
            except ValueError as exc:
                if final_at_eof and k == last:
                    return out, True
                raise CorruptionError(
                    f"bad line {seq}: {exc}",
                    path=path,
                    offset=_line_offset(lines, k, base_offset),
                ) from None
            k += 1


def split_complete(data: bytes) -> tuple[list[bytes], int]:
    """The complete lines of ``data`` and the length they cover (the rest is torn)."""
    end = data.rfind(b"\n") + 1
    if end == 0:
        return [], 0
    lines = data[: end - 1].split(b"\n")
    return lines, end


@dataclass(slots=True)
class Tail:
    """Where a JSONL file's good data ends and what its last event is."""

    good_end: int
    """Bytes that are complete, parseable lines; anything after is a torn tail."""
    last: EventEnvelope | None
    torn_bytes: int


def _last_line(fd: int, end: int) -> tuple[int, bytes] | None:
    """(offset, bytes) of the last complete line in ``[0, end)``; ``end`` follows a newline."""
    if end <= 0:
        return None
    window = TAIL_WINDOW
    while True:
        start = max(0, end - window)
        buf = os.pread(fd, end - start, start)
        prev = buf.rfind(b"\n", 0, len(buf) - 1)
        if prev >= 0 or start == 0:
            return start + prev + 1, buf[prev + 1: -1]
        window *= 4


def read_tail(fd: int, size: int, *, stream_id: str, path: str) -> Tail:
    """Find the last good event by reading backwards from ``size`` (never the whole file).

    A final line that does not parse counts as torn (crash mid-write); if the line
    before it is bad too, the file is corrupt and :class:`CorruptionError` says where.
    """
    end = size
    window = TAIL_WINDOW
    # Position after the last newline.
    while end > 0:
        start = max(0, size - window)
        buf = os.pread(fd, size - start, start)
        nl = buf.rfind(b"\n")
        if nl >= 0:
            end = start + nl + 1
            break
        if start == 0:
            end = 0
            break
        window *= 4
    dropped_bad_line = False
    while True:
        found = _last_line(fd, end)
        if found is None:
            return Tail(good_end=0, last=None, torn_bytes=size)
        offset, line = found
        try:
            item = orjson.loads(line)
            env = decode_envelope(item)
            if env.stream_id != stream_id:
                raise ValueError(f"line belongs to stream {env.stream_id!r}")
        except (orjson.JSONDecodeError, EventValidationError, ValueError) as exc:
            if dropped_bad_line:
                raise CorruptionError(f"bad line before the torn tail: {exc}", path=path,
                                      offset=offset) from None
            dropped_bad_line = True
            end = offset
            continue
        return Tail(good_end=end, last=env, torn_bytes=size - end)
