"""One stream file's summary as of a byte offset, and folding a file (or its new bytes) into it.

Writers keep a :class:`StreamState` per stream they append to, advanced from the wire
events they write; readers build one when an index record does not match the file.
Both fold the same way: the checked decode of every line, then
:func:`~l0core.catalog.advance_summary` and the final content, so a summary folded
from the file is exactly the one advanced at append time. The format is described in
``docs/format.md`` (section 7, "File").
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from l0core.catalog.summary import ReadStatus, StreamSummary, advance_summary
from l0core.codec import encode_event
from l0core.errors import CorruptionError
from l0core.stores.file.layout import events_path, legacy_events_path
from l0core.stores.file.legacy import read_legacy
from l0core.stores.jsonl import decode_block, split_complete

FOLD_CHUNK = 8 * 1024 * 1024


class Content:
    """The fold's ``content`` as it grows (what text search looks in once a stream ends)."""

    __slots__ = ("_buf",)

    def __init__(self, start: str = "") -> None:
        self._buf = io.StringIO()
        if start:
            self._buf.write(start)

    def advance(self, wire_events: Iterable[Mapping[str, Any]]) -> None:
        """Same rules as :func:`l0core.catalog.final_content`."""
        write = self._buf.write
        for ev in wire_events:
            kind = ev["type"]
            if kind == "TOKEN":
                write(ev["value"])
            elif kind == "CONTINUATION" or kind == "COMPLETE":
                self._buf = io.StringIO()
                write = self._buf.write
                write(ev["checkpoint"] if kind == "CONTINUATION" else ev["content"])

    def write(self, text: str) -> None:
        """Tokens' text, in order."""
        self._buf.write(text)

    def value(self) -> str:
        return self._buf.getvalue()


class StreamState:
    """The summary of the first ``end`` bytes of one file (inode ``ino``)."""

    __slots__ = ("bad", "content", "end", "ino", "options_recorded", "recorded", "size",
                 "summary")

    def __init__(self, stream_id: str, ino: int, *, content: bool = True) -> None:
        self.ino = ino
        self.end = 0
        """Bytes folded: complete lines only."""
        self.size = 0
        """Bytes of the file seen (``end`` plus a torn tail, if any)."""
        self.summary = StreamSummary(stream_id=stream_id)
        self.content: Content | None = Content() if content else None
        """The content so far; None when not followed (a writer's running stream: a
        COMPLETE brings it, else the file is folded once when the stream ends)."""
        self.bad: tuple[ReadStatus, str] | None = None
        """(``unreadable`` or ``other_stream``, why) when the file cannot be folded."""
        self.recorded = False
        """An index record for exactly this state has been written."""
        self.options_recorded = False
        """A record of this state's stream carried its options already."""

    def advance(self, wire_events: Sequence[Mapping[str, Any]], end: int) -> None:
        """Fold events that were just written, ending at byte ``end``.

        A batch of TOKEN events only (most of any stream) is folded as its last token
        plus the count, and its text joined once: the same result as one
        :func:`advance_summary` call per event, at a fraction of the cost.
        """
        n = len(wire_events)
        content = self.content
        if n > 1 and [e["type"] for e in wire_events].count("TOKEN") == n:
            s = self.summary
            advance_summary(s, wire_events[-1:])
            s.event_count += n - 1
            s.last_seq += n - 1
            if content is not None:
                content.write("".join([e["value"] for e in wire_events]))
            return self._moved(end)
        advance_summary(self.summary, wire_events)
        if content is not None:
            content.advance(wire_events)
        else:  # COMPLETE sets the content whatever came before: follow it from there
            for i in range(n - 1, -1, -1):
                if wire_events[i]["type"] == "COMPLETE":
                    self.content = Content()
                    self.content.advance(wire_events[i:])
                    break
        self._moved(end)

    def _moved(self, end: int) -> None:
        self.end = self.size = end
        self.recorded = False

    def copy(self) -> StreamState:
        other = StreamState(self.summary.stream_id, self.ino)
        other.end, other.size, other.bad = self.end, self.size, self.bad
        other.summary = self.summary.copy()
        other.content = None if self.content is None else Content(self.content.value())
        return other


def source_stat(root: str, stream_id: str) -> tuple[bool, os.stat_result] | None:
    """(is_legacy, stat) of the file holding the stream, as the store's reads choose it."""
    try:
        st = os.stat(events_path(root, stream_id))
        if st.st_size > 0:
            return False, st
    except FileNotFoundError:
        pass
    try:
        return True, os.stat(legacy_events_path(root, stream_id))
    except FileNotFoundError:
        return None


def fold_stream(root: str, stream_id: str, start: StreamState | None = None,
                fd: int | None = None) -> StreamState | None:
    """The state of the stream's file now; None when the stream has no file.

    Folds only the bytes after ``start`` when ``start`` describes a prefix of the same
    file (same inode, no longer than it); otherwise the whole file. ``fd`` is an open
    descriptor of ``<id>.jsonl`` to read (a writer holding its lock), else the path is
    opened. A file that cannot be decoded gives a state with ``bad`` set.
    """
    if fd is None:
        found = source_stat(root, stream_id)
        if found is None:
            return None
        legacy, st = found
        if legacy:
            return _fold_legacy(root, stream_id, st)
        try:
            own = os.open(events_path(root, stream_id), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return fold_stream(root, stream_id, start) if source_stat(root, stream_id) else None
        try:
            return _fold_jsonl(root, stream_id, own, start)
        finally:
            os.close(own)
    return _fold_jsonl(root, stream_id, fd, start)


def _fold_legacy(root: str, stream_id: str, st: os.stat_result) -> StreamState:
    state = StreamState(stream_id, st.st_ino)
    path = legacy_events_path(root, stream_id)
    try:
        wire = [encode_event(env.event) for env in read_legacy(stream_id, path)]
    except CorruptionError as exc:
        state.bad = ("unreadable", _one_line(str(exc)))
        state.size = state.end = st.st_size
        return state
    state.advance(wire, st.st_size)
    return state


def _fold_jsonl(root: str, stream_id: str, fd: int, start: StreamState | None) -> StreamState:
    st = os.fstat(fd)
    if (start is not None and start.bad is None and start.ino == st.st_ino
            and 0 < start.end <= st.st_size and os.pread(fd, 1, start.end - 1) == b"\n"):
        state = start.copy()
    else:
        state = StreamState(stream_id, st.st_ino)
    path = events_path(root, stream_id)
    offset = state.end
    window = FOLD_CHUNK
    while True:
        data = os.pread(fd, window, offset)
        at_eof = len(data) < window
        lines, used = split_complete(data)
        if not lines and not at_eof:  # one line longer than the window
            window *= 2
            continue
        try:
            envs, torn = decode_block(lines, stream_id=stream_id,
                                      first_seq=state.summary.last_seq + 1,
                                      base_offset=offset, path=path, final_at_eof=at_eof)
        except CorruptionError as exc:
            state.bad = _bad(fd, stream_id, exc)
            state.end = 0
            state.size = os.fstat(fd).st_size
            state.recorded = False
            return state
        good = used - (len(lines[-1]) + 1 if torn else 0)
        state.advance([encode_event(env.event) for env in envs], offset + good)
        if at_eof:
            state.size = offset + len(data)
            return state
        offset += used
        window = FOLD_CHUNK


def _bad(fd: int, stream_id: str, exc: CorruptionError) -> tuple[ReadStatus, str]:
    """Why a file cannot be folded: its events name another stream, or the error."""
    try:
        first = orjson.loads(os.pread(fd, 1 << 20, 0).split(b"\n", 1)[0])
        named = first.get("streamId", first.get("stream_id")) if isinstance(first, dict) else None
    except (orjson.JSONDecodeError, OSError):
        named = None
    if isinstance(named, str) and named != stream_id:
        return "other_stream", f"its events name stream {named!r}"
    return "unreadable", _one_line(str(exc))


def _one_line(text: str) -> str:
    return " ".join(text.split())
