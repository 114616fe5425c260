"""Reading a JSONL stream file in bounded chunks, ``batch_size`` events at a time.

Used by range reads, ``iter_batches`` and ``verify``: memory stays bounded by the
chunk and the batch, not by the stream, and lines before ``from_seq`` are skipped
without being decoded.
"""

from __future__ import annotations

from typing import Any

from l0core.events import EventEnvelope
from l0core.stores.jsonl import decode_block, split_complete

READ_CHUNK = 8 * 1024 * 1024


class BatchReader:
    """Reads a JSONL stream file in chunks and decodes it ``batch_size`` events at a time."""

    def __init__(self, path: str, stream_id: str, from_seq: int, batch_size: int) -> None:
        self.path = path
        self.stream_id = stream_id
        self.from_seq = from_seq
        self.batch_size = batch_size
        self.fh: Any = None
        self.offset = 0
        """File offset of ``pending[0]``."""
        self.seq = 0
        """Seq of ``pending[0]``."""
        self.pending: list[bytes] = []
        self.carry = b""
        self.eof = False
        self.good_end = 0
        """End of the last complete, good line seen so far."""

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def _fill(self) -> None:
        if self.fh is None:
            try:
                self.fh = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            except FileNotFoundError:
                self.eof = True
                return
        chunk = self.fh.read(READ_CHUNK)
        if not chunk:
            self.eof = True
            return
        data = self.carry + chunk
        lines, end = split_complete(data)
        self.carry = data[end:]
        self.pending.extend(lines)

    def next_batch(self) -> list[EventEnvelope]:
        while True:
            # Skip lines before from_seq without decoding them.
            if self.seq < self.from_seq and self.pending:
                skip = min(len(self.pending), self.from_seq - self.seq)
                self.offset += sum(len(line) + 1 for line in self.pending[:skip])
                del self.pending[:skip]
                self.seq += skip
                self.good_end = self.offset
            # One line more than a batch, or EOF: then we know whether a line is the last.
            if len(self.pending) > self.batch_size or (self.eof and self.pending):
                break
            if self.eof:
                return []
            self._fill()
        take = self.pending[:self.batch_size]
        at_eof = self.eof and len(take) == len(self.pending)
        events, torn = decode_block(take, stream_id=self.stream_id, first_seq=self.seq,
                                    base_offset=self.offset, path=self.path, final_at_eof=at_eof)
        used = len(events)
        self.offset += sum(len(line) + 1 for line in take[:used])
        self.good_end = self.offset
        self.seq += used
        del self.pending[:len(take)]
        if torn:
            self.pending.clear()
        return events
