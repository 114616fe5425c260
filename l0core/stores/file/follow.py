"""Following a file store's stream while another process writes it (``subscribe``).

A subscriber polls the file's size and inode: it decodes only the bytes added
since its last look, and starts again from the top when the file was replaced
or truncated (a migration, a delete and re-create).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from l0core.events import TERMINAL_TYPES, EventEnvelope, validate_stream_id
from l0core.stores.file.core import FileStoreCore
from l0core.stores.file.legacy import read_legacy
from l0core.stores.jsonl import decode_block, split_complete


@dataclass(slots=True)
class Cursor:
    """Where a subscriber is in a stream file."""

    next_seq: int
    offset: int = -1
    ino: int = -1


class FileFollow(FileStoreCore):
    """Catch-up, then live, by polling the file."""

    async def subscribe(
        self, stream_id: str, *, after_seq: int = -1, poll_interval: float = 0.05
    ) -> AsyncIterator[EventEnvelope]:
        """Catch up, then follow the file by its size: works while another process writes."""
        validate_stream_id(stream_id)
        cursor = Cursor(next_seq=after_seq + 1)
        while True:
            batch = await asyncio.to_thread(self._follow_sync, stream_id, cursor)
            for env in batch:
                yield env
                if env.event.type in TERMINAL_TYPES:
                    return
            if not batch:
                await asyncio.sleep(poll_interval)

    def _follow_sync(self, stream_id: str, cursor: Cursor) -> list[EventEnvelope]:
        src = self._source(stream_id)
        if src is None:
            return []
        kind, path, st = src
        if kind == "legacy":
            events = read_legacy(stream_id, path)[cursor.next_seq:]
        else:
            if st.st_ino != cursor.ino or st.st_size < cursor.offset or cursor.offset < 0:
                cursor.ino, cursor.offset, line_seq = st.st_ino, 0, 0  # (re)start from the top
            else:
                line_seq = cursor.next_seq
            if st.st_size <= cursor.offset:
                return []
            with open(path, "rb") as fh:
                fh.seek(cursor.offset)
                data = fh.read(st.st_size - cursor.offset)
            lines, _ = split_complete(data)
            decoded, _ = decode_block(lines, stream_id=stream_id, first_seq=line_seq,
                                      base_offset=cursor.offset, path=path, final_at_eof=True)
            cursor.offset += sum(len(lines[i]) + 1 for i in range(len(decoded)))
            events = [e for e in decoded if e.seq >= cursor.next_seq]
        if events:
            cursor.next_seq = events[-1].seq + 1
        return events
