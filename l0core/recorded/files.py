"""Reading one recording file, whatever wrote it, with errors that name the file and line.

A recording reaches a test as a file: the JSONL a file store keeps or ``l0tui
export`` writes (a whole stream or a ``--from``/``--to`` slice), the JSON array
the TypeScript library and ``ai2070-l0`` write (either spelling), or their
snapshot files. The kind is told from the content, not the name. The lines go
through the file store's own decoder (:mod:`l0core.stores.jsonl`) and the codec;
this module only says *where* a file is wrong, in one line, because a fixture
that does not load must be fixed by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from l0core.codec import decode_envelope, decode_snapshot, loads
from l0core.errors import CorruptionError, EventValidationError, L0Error
from l0core.events import EventEnvelope, Snapshot
from l0core.stores.jsonl import decode_block, split_complete

__all__ = ["RecordingFile", "RecordingFormatError", "read_recording_file"]


class RecordingFormatError(L0Error, ValueError):
    """A recording file does not load: ``path`` and ``line`` (1-based, or None) say where."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path} line {line}"
        super().__init__(f"{where}: {_one_line(message)}")


@dataclass(slots=True)
class RecordingFile:
    """What one file holds: one stream's envelopes (seqs consecutive from ``first_seq``)
    and/or snapshots."""

    path: Path
    envelopes: list[EventEnvelope] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)

    @property
    def stream_id(self) -> str | None:
        return self.envelopes[0].stream_id if self.envelopes else None

    @property
    def first_seq(self) -> int:
        return self.envelopes[0].seq if self.envelopes else 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


_BAD_LINE = re.compile(r"^bad line \d+: (?:line (?:is )?)?")
_IN_LINE = re.compile(r": line 1 column (\d+) \(char \d+\)")


def _json_error(exc: orjson.JSONDecodeError) -> str:
    """orjson's complaint; a document that stops early is a torn file, said so."""
    if exc.pos >= len(exc.doc.rstrip()):
        return (f"the file is cut short: its JSON ends early ({exc.msg}); a torn write: "
                "re-export the recording")
    return f"not JSON ({exc.msg})"


def _kind_of(item: object) -> str:
    """``envelope``, ``snapshot`` or ``foreign`` for one parsed JSON value."""
    if isinstance(item, dict):
        if "event" in item:
            return "envelope"
        if "seq" in item and ("tokenCount" in item or "token_count" in item):
            return "snapshot"
    return "foreign"


def _foreign(item: object) -> str:
    if isinstance(item, dict):
        keys = ", ".join(str(k) for k in list(item)[:8]) + (", ..." if len(item) > 8 else "")
        return (f"not an L0 recording: an object with keys {keys or '(none)'}, expected an "
                "event envelope {\"streamId\", \"seq\", \"event\"} or a snapshot")
    kind = "an array" if isinstance(item, list) else f"a JSON {type(item).__name__}"
    return f"not an L0 recording: {kind}, expected an event envelope or a snapshot"


def read_recording_file(path: Path) -> RecordingFile:
    """Read ``path``: every event and snapshot in it, or :class:`RecordingFormatError`.

    A torn last line (cut short by a crash, no newline), a foreign file and an
    empty one are refused too: a fixture that silently lost its tail would make a
    test pass on less than was recorded.
    """
    data = path.read_bytes()
    if not data.strip():
        raise RecordingFormatError(path, None, "the file is empty: no events")
    start = data.lstrip()[:1]
    if start == b"[":
        return _read_array(path, data)
    whole: orjson.JSONDecodeError | None = None
    if start == b"{":  # one object (a pretty-printed snapshot), else JSON lines
        try:
            return _read_object(path, loads(data))
        except orjson.JSONDecodeError as exc:
            whole = exc
    return _read_lines(path, data, whole)


def _read_object(path: Path, item: object) -> RecordingFile:
    kind = _kind_of(item)
    try:
        if kind == "snapshot":
            return RecordingFile(path, snapshots=[decode_snapshot(item, "snapshot")])
        if kind == "envelope":
            return RecordingFile(path, envelopes=[decode_envelope(item, "line 1")])
    except EventValidationError as exc:
        raise RecordingFormatError(path, 1, str(exc)) from None
    raise RecordingFormatError(path, 1, _foreign(item))


# ───────────────────────────── JSON arrays ─────────────────────────────


def _read_array(path: Path, data: bytes) -> RecordingFile:
    try:
        doc = loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordingFormatError(path, exc.lineno, _json_error(exc)) from None
    if not doc:
        raise RecordingFormatError(path, None, "an empty array: no events")
    out = RecordingFile(path)
    kind = _kind_of(doc[0])
    for i, item in enumerate(doc):
        try:
            if kind == "snapshot":
                out.snapshots.append(decode_snapshot(item, f"item {i}"))
                continue
            if _kind_of(item) != "envelope":
                raise ValueError(f"item {i} is {_foreign(item)}")
            env = decode_envelope(item, f"item {i}")
            _check_next(out.envelopes, env, f"item {i}")
            out.envelopes.append(env)
        except (EventValidationError, ValueError) as exc:
            raise RecordingFormatError(path, _array_item_line(data, i), str(exc)) from None
    return out


def _array_item_line(data: bytes, index: int) -> int | None:
    """The line where item ``index`` of a JSON array starts (only asked when it is bad)."""
    text = data.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    for i in range(index + 1):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if i == index:
            return text.count("\n", 0, pos) + 1
        try:
            _, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return None
    return None


def _check_next(previous: list[EventEnvelope], env: EventEnvelope, where: str) -> None:
    if not previous:
        return
    last = previous[-1]
    if env.stream_id != last.stream_id:
        raise ValueError(f"{where} belongs to stream {env.stream_id!r}, the file holds "
                         f"{last.stream_id!r} (one stream per file)")
    if env.seq != last.seq + 1:
        raise ValueError(f"{where} has seq {env.seq}, expected {last.seq + 1}")


# ───────────────────────────── JSON lines ─────────────────────────────


def _parse_line(path: Path, line: bytes, number: int,
                whole: orjson.JSONDecodeError | None = None) -> Any:
    if not line.strip():
        raise RecordingFormatError(path, number, "an empty line (one JSON object per line)")
    try:
        return loads(line)
    except orjson.JSONDecodeError as exc:
        if whole is not None:  # neither one object nor lines: say where the object broke
            raise RecordingFormatError(path, whole.lineno, _json_error(whole)) from None
        raise RecordingFormatError(path, number, f"not JSON ({exc.msg})") from None


def _read_lines(path: Path, data: bytes, whole: orjson.JSONDecodeError | None) -> RecordingFile:
    lines, end = split_complete(data)
    tail = data[end:]
    has_tail = bool(tail.strip())
    if not lines:  # one line, no newline, and not one JSON value
        if whole is not None:  # an object cut short
            raise RecordingFormatError(path, 1, _torn(whole.msg))
        raise RecordingFormatError(path, 1, _foreign(_parse_line(path, tail, 1)))
    first = _parse_line(path, lines[0], 1, whole)
    kind = _kind_of(first)
    if kind == "snapshot":
        return _read_snapshot_lines(path, lines, tail)
    if kind != "envelope":
        raise RecordingFormatError(path, 1, _foreign(first))
    try:
        head = decode_envelope(first, "line 1")
    except EventValidationError as exc:
        raise RecordingFormatError(path, 1, str(exc)) from None
    out = RecordingFile(path)
    try:
        out.envelopes, _ = decode_block(
            lines, stream_id=head.stream_id, first_seq=head.seq, base_offset=0,
            path=str(path), final_at_eof=False)
        if has_tail:
            more, torn = decode_block(
                [tail], stream_id=head.stream_id, first_seq=head.seq + len(lines),
                base_offset=end, path=str(path), final_at_eof=True)
            if torn:
                raise RecordingFormatError(path, len(lines) + 1, _torn(_why_tail(tail)))
            out.envelopes.extend(more)
    except CorruptionError as exc:
        line = data.count(b"\n", 0, exc.offset or 0) + 1
        every = [*lines, tail]
        if line <= len(every) and not every[line - 1].strip():
            raise RecordingFormatError(path, line,
                                       "an empty line (one JSON object per line)") from None
        raise RecordingFormatError(path, line, _block_message(exc)) from None
    return out


def _why_tail(tail: bytes) -> str:
    try:
        decode_envelope(loads(tail))
    except (orjson.JSONDecodeError, EventValidationError) as exc:
        return str(exc)
    return "it does not continue the stream"


def _torn(detail: str) -> str:
    detail = _IN_LINE.sub(r" at column \1", detail)
    return (f"the last line is cut short (no newline and not a complete event: {detail}); "
            "a torn write: re-export the recording, or delete the line")


def _block_message(exc: CorruptionError) -> str:
    """The file store's message for a bad line, without its path and byte offset."""
    text = str(exc)
    prefix = f"{exc.path} at byte {exc.offset}: "
    if text.startswith(prefix):
        text = text[len(prefix):]
    return _IN_LINE.sub(r" at column \1", _BAD_LINE.sub("", text))


def _read_snapshot_lines(path: Path, lines: list[bytes], tail: bytes) -> RecordingFile:
    out = RecordingFile(path)
    every = [*lines, tail] if tail.strip() else lines
    for number, line in enumerate(every, 1):
        if number > len(lines):  # no newline after it
            try:
                item = loads(line)
            except orjson.JSONDecodeError as exc:
                raise RecordingFormatError(path, number, _torn(exc.msg)) from None
        else:
            item = _parse_line(path, line, number)
        if _kind_of(item) != "snapshot":
            raise RecordingFormatError(path, number, "a snapshot file holds only snapshots: "
                                       + _foreign(item))
        try:
            out.snapshots.append(decode_snapshot(item, "snapshot"))
        except EventValidationError as exc:
            raise RecordingFormatError(path, number, str(exc)) from None
    return out
