"""Reading a JetStream subject: its tail, where a seq lies, and its messages in order.

Short reads fetch message by message from the stream leader (one request each);
longer ones switch to an ephemeral pull consumer (acknowledgements off, memory
storage) filtered on the subject. Live follow and the catalog's key-value mirror
use the same consumer, long-polling for new messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats.errors
from nats.aio.msg import Msg

from l0core.stores.nats_connection import API, NatsLink, is_status, transient
from l0core.stores.nats_layout import Batch, BatchAssembler, MessageHead, parse_head

PROBES = 4
"""Messages read one request at a time before a read opens a consumer."""
FETCH_BATCH = 2048
"""Messages asked for per pull request."""
FETCH_BYTES = 16 * 1024 * 1024


@dataclass(slots=True, frozen=True)
class Delivered:
    """One message a consumer delivered, with where it sits in the stream."""

    subject: str
    stream_seq: int
    pending: int
    timestamp_ns: int
    headers: dict[str, str] | None
    data: bytes


def ack_fields(reply: str) -> tuple[int, int, int]:
    """(stream seq, timestamp ns, pending) from a JetStream delivery's reply subject.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>``, or the
    longer form with a domain and account hash that newer servers send."""
    tokens = reply.split(".")
    base = 2 if len(tokens) == 9 else 4
    return int(tokens[base + 3]), int(tokens[base + 5]), int(tokens[base + 6])


class PullConsumer:
    """An ephemeral pull consumer that re-creates itself after its server went away.

    It remembers the last stream seq delivered, so a new consumer started after a
    restart or failover begins right after it: nothing is skipped or repeated.
    Deliveries arrive through a subscription callback into a buffer (one await per
    request, not per message)."""

    def __init__(self, link: NatsLink, stream: str, filter_subject: str, *,
                 start_seq: int = 0, last_per_subject: bool = False,
                 headers_only: bool = False) -> None:
        self.link = link
        self.stream = stream
        self.filter_subject = filter_subject
        self.last_seq = max(0, start_seq - 1)
        self._first_policy = "last_per_subject" if last_per_subject else None
        self.headers_only = headers_only
        self.name = ""
        self._sub: Any = None
        self._inbox = ""
        self._request = 0
        self._reply = ""
        self._want = 0
        self._got: list[Delivered] = []
        self._done: asyncio.Future[str] | None = None

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "ack_policy": "none", "filter_subject": self.filter_subject,
            "inactive_threshold": 60_000_000_000, "mem_storage": True, "num_replicas": 1,
            "max_waiting": 8,
        }
        if self.headers_only:
            config["headers_only"] = True
        if self._first_policy is not None and self.last_seq == 0:
            config["deliver_policy"] = self._first_policy
        elif self.last_seq == 0:
            config["deliver_policy"] = "all"
        else:
            config["deliver_policy"] = "by_start_sequence"
            config["opt_start_seq"] = self.last_seq + 1
        return config

    async def open(self) -> PullConsumer:
        if self._sub is None:
            self._inbox = self.link.new_inbox()
            self._sub = await self.link.nc.subscribe(
                self._inbox + ".*", cb=self._on_msg, pending_msgs_limit=1_000_000,
                pending_bytes_limit=512 * 1024 * 1024)
        resp = await self.link.api(f"CONSUMER.CREATE.{self.stream}",
                                   {"stream_name": self.stream, "config": self._config()},
                                   f"creating a consumer on {self.filter_subject}")
        self.name = str(resp["name"])
        return self

    async def _on_msg(self, msg: Msg) -> None:
        status = is_status(msg)
        if status is not None:
            if msg.subject == self._reply and status != "100":
                self._finish(status)
            return  # heartbeats, and the end of an earlier request
        if not msg.reply:
            return
        sseq, ts, pending = ack_fields(msg.reply)
        if sseq <= self.last_seq:
            return  # delivered again by a consumer re-created from an older point
        self.last_seq = sseq
        self._got.append(Delivered(msg.subject, sseq, pending, ts, msg.headers, msg.data))
        if len(self._got) >= self._want:
            self._finish("")

    def _finish(self, status: str) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(status)

    async def _recreate(self) -> None:
        old, self.name = self.name, ""
        if old:
            await self._delete(old)
        await self.open()

    async def fetch(self, batch: int = FETCH_BATCH, *,
                    wait: float | None = None) -> list[Delivered]:
        """Up to ``batch`` messages: those available now (``wait`` None), or the first
        ones to arrive within ``wait`` seconds."""
        request: dict[str, Any] = {"batch": batch, "max_bytes": FETCH_BYTES}
        if wait is None:
            request["no_wait"] = True
        else:
            request["expires"] = int(wait * 1e9)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.link.retry_timeout
        while True:
            try:
                return await self._fetch_once(request, wait)
            except _ConsumerLost:
                if loop.time() >= deadline:
                    raise nats.errors.TimeoutError from None
                await asyncio.sleep(0.05)
                try:
                    await self._recreate()
                except Exception as exc:
                    if not transient(exc):
                        raise
            finally:
                self._done = None

    async def _fetch_once(self, request: dict[str, Any], wait: float | None) -> list[Delivered]:
        if self._got:  # late deliveries of an earlier request come first
            out, self._got = self._got, []
            return out
        if not self.name:
            raise _ConsumerLost
        self._request += 1
        self._reply = f"{self._inbox}.{self._request}"
        self._want = int(request["batch"])
        self._done = asyncio.get_running_loop().create_future()
        try:
            await self.link.nc.publish(f"{API}.CONSUMER.MSG.NEXT.{self.stream}.{self.name}",
                                       json.dumps(request).encode(), reply=self._reply)
        except (nats.errors.ConnectionReconnectingError, nats.errors.OutboundBufferLimitError):
            raise _ConsumerLost from None
        try:
            status = await asyncio.wait_for(asyncio.shield(self._done),
                                            (wait or 0.0) + self.link.timeout)
        except TimeoutError:
            if self._got:
                out, self._got = self._got, []
                return out
            raise _ConsumerLost from None  # no reply at all: the consumer may be gone
        out, self._got = self._got, []
        if out or status in ("", "404", "408", "409"):
            return out
        raise _ConsumerLost  # 503 no responders (consumer gone), ...

    async def _delete(self, name: str) -> None:
        try:
            await asyncio.wait_for(self.link.nc.request(
                f"{API}.CONSUMER.DELETE.{self.stream}.{name}", b"", timeout=1.0), 2.0)
        except Exception:  # best effort: an ephemeral consumer also expires on its own
            pass

    async def close(self) -> None:
        if self.name and not self.link.closed:
            await self._delete(self.name)
        self.name = ""
        if self._sub is not None:
            sub, self._sub = self._sub, None
            try:
                await sub.unsubscribe()
            except Exception:
                pass


class _ConsumerLost(Exception):
    """The consumer did not answer or is gone; make a new one after the last seq."""


# ── a recording's subject ──


async def tail_head(link: NatsLink, stream: str, subject: str, where: str) -> MessageHead | None:
    """The subject's last message's head (None: the subject holds nothing)."""
    msg = await link.get_msg(stream, f"reading the tail of {subject}", last_by_subject=subject)
    return None if msg is None else parse_head(int(msg.seq or 0), msg.headers, where)


async def first_head(link: NatsLink, stream: str, subject: str, where: str,
                     after: int = 1) -> MessageHead | None:
    """The head of the subject's first message at or after stream seq ``after``."""
    msg = await link.get_msg(stream, f"reading {subject}", next_by_subject=subject, seq=after)
    return None if msg is None else parse_head(int(msg.seq or 0), msg.headers, where)


async def first_message(link: NatsLink, stream: str, subject: str,
                        where: str) -> tuple[MessageHead, float] | None:
    """The subject's first message's head and when the server stored it (Unix ms)."""
    msg = await link.get_msg(stream, f"reading {subject}", next_by_subject=subject, seq=1)
    if msg is None:
        return None
    stored = msg.time.timestamp() * 1000.0 if msg.time is not None else 0.0
    return parse_head(int(msg.seq or 0), msg.headers, where), stored


async def locate(link: NatsLink, stream: str, subject: str, seq: int, tail: MessageHead,
                 where: str) -> int:
    """A stream seq to read the subject from so that every event >= ``seq`` is found.

    ``L0-Seq`` never decreases along a subject, so a binary search over stream
    seqs (each probe: the subject's next message at or after the midpoint) finds
    the last message whose batch begins at or before ``seq``; for a part, the
    search goes back to the first message of that ``L0-Seq`` (torn parts before a
    batch share it, and the reader drops them)."""
    if seq <= 0:
        return 1
    if tail.first <= seq and tail.part == 0:
        return tail.stream_seq
    best = await _last_starting_at_or_before(link, stream, subject, seq, tail, where)
    if best is None:
        return 1
    if best.part == 0:
        return best.stream_seq
    return await _first_with_seq(link, stream, subject, best, where)


async def _last_starting_at_or_before(link: NatsLink, stream: str, subject: str, seq: int,
                                      tail: MessageHead, where: str) -> MessageHead | None:
    lo, hi = 1, tail.stream_seq
    best: MessageHead | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        head = await first_head(link, stream, subject, where, mid)
        if head is None or head.stream_seq > tail.stream_seq:
            hi = mid - 1
        elif head.first <= seq:
            best, lo = head, head.stream_seq + 1
        else:
            hi = mid - 1
    return best


async def _first_with_seq(link: NatsLink, stream: str, subject: str, best: MessageHead,
                          where: str) -> int:
    lo, hi, found = 1, best.stream_seq, best.stream_seq
    while lo <= hi:
        mid = (lo + hi) // 2
        head = await first_head(link, stream, subject, where, mid)
        if head is None or head.stream_seq > best.stream_seq:
            hi = mid - 1
        elif head.first >= best.first:
            found, hi = head.stream_seq, mid - 1
        else:
            lo = head.stream_seq + 1
    return found


async def read_batches(link: NatsLink, stream: str, subject: str, *, start: int, end: int,
                       where: str, assembler: BatchAssembler | None = None,
                       ) -> AsyncIterator[Batch]:
    """The complete batches of ``subject`` stored at stream seqs ``start..end``."""
    asm = assembler or BatchAssembler(where)
    pos = start
    for _ in range(PROBES):
        if pos > end:
            return
        msg = await link.get_msg(stream, f"reading {subject}", next_by_subject=subject, seq=pos)
        if msg is None or int(msg.seq or 0) > end:
            return
        sseq = int(msg.seq or 0)
        batch = asm.feed(parse_head(sseq, msg.headers, where), msg.data or b"")
        if batch is not None:
            yield batch
        pos = sseq + 1
    if pos > end:
        return
    consumer = await PullConsumer(link, stream, subject, start_seq=pos).open()
    try:
        while True:
            got = await consumer.fetch()
            if not got:
                return  # purged meanwhile
            for d in got:
                if d.stream_seq > end:
                    return
                batch = asm.feed(parse_head(d.stream_seq, d.headers, where), d.data)
                if batch is not None:
                    yield batch
                if d.stream_seq == end:
                    return
    finally:
        await consumer.close()


async def subject_counts(link: NatsLink, stream: str, subjects: str) -> tuple[dict[str, int], int]:
    """Every subject matching ``subjects`` with its message count, and the stream's last
    seq: stream info pages through the subjects, so listing reads no message."""
    counts: dict[str, int] = {}
    last_seq = 0
    offset = 0
    while True:
        info = await link.api(f"STREAM.INFO.{stream}",
                              {"subjects_filter": subjects, "offset": offset},
                              f"listing the subjects of {stream}")
        state = info.get("state") or {}
        if offset == 0:
            last_seq = int(state.get("last_seq", 0))
        page = state.get("subjects") or {}
        counts.update({str(k): int(v) for k, v in page.items()})
        total = int(info.get("total", 0) or 0)
        offset += len(page)
        if not page or len(counts) >= total:
            return counts, last_seq
