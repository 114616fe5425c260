"""Reading an import's input: a path or a binary file, line by line, with progress.

Captures can be hundreds of megabytes, so the file is read in chunks and handed on
one line at a time; nothing but the current chunk and a line being assembled is
held. ``tail_partial`` tells a reader that the last line had no newline, which is
how a capture cut off mid-write looks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

CHUNK = 1 << 18
HEAD = 1 << 16
"""Bytes read before anything else, to detect the format."""

Progress = Callable[[int, int], None]
"""Called with (bytes read, total bytes; 0 when unknown)."""


class Source:
    """One input file. ``name`` is what messages call it."""

    def __init__(self, path_or_file: str | os.PathLike[str] | BinaryIO,
                 progress: Progress | None = None) -> None:
        if isinstance(path_or_file, str | os.PathLike):
            self.name = os.fspath(path_or_file)
            self._file: BinaryIO = open(self.name, "rb")  # noqa: SIM115 - closed by close()
            self._owned = True
        else:
            self._file = path_or_file
            raw_name = getattr(path_or_file, "name", None)
            self.name = raw_name if isinstance(raw_name, str) else "<input>"
            self._owned = False
        self._progress = progress
        self.total, self.mtime_ms = self._stat()
        self.read_bytes = 0
        self.tail_partial = False
        self.last_line = 0
        self._head = self._read(HEAD)
        self.head_is_all = len(self._head) < HEAD

    def _stat(self) -> tuple[int, int | None]:
        try:
            st = os.fstat(self._file.fileno())
        except (OSError, AttributeError, ValueError):
            return 0, None
        return (st.st_size if st.st_size > 0 else 0), int(st.st_mtime * 1000)

    @property
    def head(self) -> bytes:
        """The first bytes of the file (up to 64 KiB)."""
        return self._head

    @property
    def stem(self) -> str:
        """The file name without directories and extensions (``capture`` for ``capture.sse``)."""
        base = os.path.basename(self.name)
        return base.split(".", 1)[0] if not base.startswith(".") else base

    def _read(self, size: int) -> bytes:
        data = self._file.read(size)
        if data:
            self.read_bytes += len(data)
            if self._progress is not None:
                self._progress(self.read_bytes, max(self.total, self.read_bytes))
        return data

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(line number from 1, line without its end)``; may be called once."""
        pending: list[bytes] = []
        number = 0
        chunk = self._head
        self._head = b""
        first = True
        while chunk:
            if first:
                first = False
                if chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]
            parts = chunk.split(b"\n")
            if len(parts) > 1:
                if pending:
                    pending.append(parts[0])
                    parts[0] = b"".join(pending)
                    pending = []
                last = parts.pop()
                crlf = b"\r" in chunk
                for line in parts:
                    number += 1
                    if crlf and line.endswith(b"\r"):
                        line = line[:-1]
                    self.last_line = number
                    yield number, line
                if last:
                    pending.append(last)
            else:
                pending.append(chunk)
            chunk = self._read(CHUNK)
        if pending:
            number += 1
            self.tail_partial = True
            self.last_line = number
            tail = b"".join(pending)
            yield number, tail[:-1] if tail.endswith(b"\r") else tail

    def read_all(self) -> bytes:
        """The rest of the file in one piece (for a single JSON document)."""
        parts = [self._head]
        self._head = b""
        while chunk := self._read(CHUNK):
            parts.append(chunk)
        data = b"".join(parts)
        return data[3:] if data.startswith(b"\xef\xbb\xbf") else data

    def close(self) -> None:
        if self._owned:
            self._file.close()
