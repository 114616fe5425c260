"""Where a NATS JetStream store keeps what, and how one message carries events.

The layout (``docs/format.md``, "NATS JetStream"):

- one JetStream stream per store location (``?stream=NAME``), subjects ``NAME.>``;
- one subject per recording, ``NAME.<prefix>.ev.<streamId>`` (stream ids are
  ``[A-Za-z0-9_-]``, safe as a subject token);
- every message holds one batch of events as JSON lines, with headers ``L0-Seq``
  (the batch's first seq), ``L0-Count`` and ``L0-Batch`` (a token per append
  attempt); a batch larger than the server's payload limit is cut into parts that
  also carry ``L0-Part: i/K``, and only counts once its last part is stored;
- key-value buckets ``NAME_<prefix>_summaries``, ``_snapshots`` and ``_contents``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from l0core.errors import CorruptionError, StoreConfigError

STREAM_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

DESCRIPTION = "l0core event store"
"""The events stream's description: how an open tells our stream from another program's."""

H_SEQ = "L0-Seq"
H_COUNT = "L0-Count"
H_PART = "L0-Part"
H_BATCH = "L0-Batch"
H_MSG_ID = "Nats-Msg-Id"
H_EXPECTED = "Nats-Expected-Last-Subject-Sequence"
H_KV_OP = "KV-Operation"
H_ROLLUP = "Nats-Rollup"

PART_HEADROOM = 1024
"""Bytes of a message left for headers when a batch is cut to the server's payload limit."""


def validate_stream_name(name: object) -> str:
    """A JetStream stream name that is also one subject token."""
    if not isinstance(name, str) or STREAM_NAME_RE.fullmatch(name) is None:
        raise StoreConfigError(
            f"stream={name!r} must be 1 to 64 letters, digits, '_' or '-' (a JetStream stream "
            "name that is also a subject token)")
    return name


@dataclass(slots=True, frozen=True)
class NatsNames:
    """Every name one store location uses: the stream, its subjects, the buckets."""

    stream: str
    prefix: str

    @property
    def events_prefix(self) -> str:
        return f"{self.stream}.{self.prefix}.ev."

    @property
    def events_filter(self) -> str:
        return self.events_prefix + ">"

    @property
    def stream_subjects(self) -> str:
        return f"{self.stream}.>"

    def subject(self, stream_id: str) -> str:
        return self.events_prefix + stream_id

    def stream_id_of(self, subject: str) -> str | None:
        """The recording a subject names, None for a subject that is not one of ours."""
        if not subject.startswith(self.events_prefix):
            return None
        rest = subject[len(self.events_prefix):]
        return rest if rest and "." not in rest else None

    def bucket(self, kind: str) -> str:
        """``summaries``, ``snapshots`` or ``contents``."""
        return f"{self.stream}_{self.prefix}_{kind}"

    def kv_stream(self, kind: str) -> str:
        return "KV_" + self.bucket(kind)

    def kv_subject(self, kind: str, key: str) -> str:
        return f"$KV.{self.bucket(kind)}.{key}"


def msg_id(stream_id: str, after: int, token: str) -> str:
    """The deduplication id of the message that follows stream seq ``after`` on the subject.

    Two writers that read the same tail publish under the same id, so the stream
    keeps only the first: JetStream 2.9 checks ``Nats-Expected-Last-Subject-Sequence``
    on a replicated stream only against what its leader has applied, but it checks
    message ids when it applies each message, on every replica. A resent publish has
    the same id too. The first message of a subject (``after`` 0) gets a token id,
    since a subject deleted and written again starts from 0 again; the server checks
    an expected 0 when it applies the message."""
    return f"{stream_id}:new:{token}" if after == 0 else f"{stream_id}:after:{after}"


@dataclass(slots=True, frozen=True)
class MessageHead:
    """What a message's headers say about the batch it carries."""

    stream_seq: int
    first: int
    count: int
    part: int = 0
    """0: the whole batch is in this message; else ``1..parts``."""
    parts: int = 0
    batch: str = ""

    @property
    def completes(self) -> bool:
        """True when this message is the last (or only) one of its batch."""
        return self.part == self.parts

    @property
    def starts(self) -> bool:
        return self.part <= 1

    @property
    def last_complete_seq(self) -> int:
        """The recording's last seq once this message is its tail.

        A batch still being written (or torn by a writer that died) does not count
        yet; every part of one carries the batch's ``L0-Seq``, so the seq before it is
        the last complete one."""
        return self.first + self.count - 1 if self.completes else self.first - 1


def _int_header(headers: Mapping[str, str], key: str, where: str) -> int:
    raw = headers.get(key)
    try:
        return int(raw) if raw is not None else -1
    except ValueError:
        raise CorruptionError(f"header {key}={raw!r} is not an integer", path=where) from None


def parse_head(stream_seq: int, headers: Mapping[str, str] | None, where: str) -> MessageHead:
    """The batch a stored message carries; a message without our headers is refused."""
    hdrs = headers or {}
    first = _int_header(hdrs, H_SEQ, where)
    count = _int_header(hdrs, H_COUNT, where)
    if first < 0 or count < 1:
        raise CorruptionError(f"message {stream_seq} lacks the {H_SEQ}/{H_COUNT} headers "
                              "l0core writes", path=where)
    part_text = hdrs.get(H_PART)
    if part_text is None:
        return MessageHead(stream_seq, first, count)
    part, _, parts = part_text.partition("/")
    try:
        i, k = int(part), int(parts)
    except ValueError:
        raise CorruptionError(f"header {H_PART}={part_text!r} is not i/K", path=where) from None
    if not 1 <= i <= k:
        raise CorruptionError(f"header {H_PART}={part_text!r} is out of range", path=where)
    return MessageHead(stream_seq, first, count, i, k, hdrs.get(H_BATCH, ""))


def encode_payload(lines: Sequence[bytes]) -> bytes:
    """One batch as JSON lines (compact JSON never holds a raw newline)."""
    return b"\n".join(lines)


def split_payload(payload: bytes, limit: int) -> list[bytes]:
    """``payload`` cut into pieces of at most ``limit`` bytes (one piece when it fits)."""
    if len(payload) <= limit:
        return [payload]
    return [payload[i:i + limit] for i in range(0, len(payload), limit)]


def batch_headers(stream_id: str, first: int, count: int, expected: int, token: str,
                  part: int = 0, parts: int = 0) -> dict[str, str]:
    """The headers of one message: checked against ``expected``, deduplicated on it."""
    headers = {H_MSG_ID: msg_id(stream_id, expected, token), H_EXPECTED: str(expected),
               H_SEQ: str(first), H_COUNT: str(count), H_BATCH: token}
    if parts > 1:
        headers[H_PART] = f"{part}/{parts}"
    return headers


def token_of(headers: Mapping[str, str] | None) -> str:
    """The append attempt a stored message came from."""
    return (headers or {}).get(H_BATCH, "")


@dataclass(slots=True, frozen=True)
class Batch:
    """A complete batch read back: its first seq, its JSON lines, and where it ends."""

    first: int
    lines: list[bytes]
    end_stream_seq: int
    messages: int
    """Subject messages read up to and including this batch's last (torn parts too)."""


class BatchAssembler:
    """Turns a subject's messages, in order, into complete batches.

    Parts are joined once the last one arrives. A batch whose parts stop before
    the last (its writer died, or lost a race and started again) is dropped when
    the next batch begins: readers never see part of an append."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.messages = 0
        self._open: list[bytes] = []
        self._open_head: MessageHead | None = None

    def feed(self, head: MessageHead, data: bytes) -> Batch | None:
        self.messages += 1
        if head.part == 0:
            self._open, self._open_head = [], None
            return self._batch(head, data)
        if head.part == 1:
            self._open, self._open_head = [data], head
        elif (self._open_head is not None and head.batch == self._open_head.batch
              and head.first == self._open_head.first and head.part == len(self._open) + 1):
            self._open.append(data)
        else:  # a part whose batch began before where we started reading, or a torn one
            self._open, self._open_head = [], None
            return None
        if head.completes:
            data, self._open, self._open_head = b"".join(self._open), [], None
            return self._batch(head, data)
        return None

    def _batch(self, head: MessageHead, data: bytes) -> Batch:
        lines = data.split(b"\n")
        if len(lines) != head.count:
            raise CorruptionError(f"message {head.stream_seq} holds {len(lines)} events, its "
                                  f"{H_COUNT} header says {head.count}", path=self.where)
        return Batch(head.first, lines, head.stream_seq, self.messages)


def lines_from(batches: Sequence[Batch], from_seq: int) -> Iterator[tuple[int, bytes]]:
    """``(seq, line)`` of every event at or after ``from_seq``."""
    for batch in batches:
        for i, line in enumerate(batch.lines):
            if batch.first + i >= from_seq:
                yield batch.first + i, line
