"""The Redis store's catalog records: the summary hash and the sorted-set entries.

Every stream has a hash ``<base>summary:<id>`` with its summary's fields, and one
member in each of the shard's catalog sorted sets that concern it
(docs/format.md, "Redis"). All catalog sorted sets have score 0 and order their
members by bytes (``ZRANGE ... BYLEX``): a member is the order value encoded so
that byte order is value order, followed by the stream id, so ties go by stream id
in the same direction and a keyset cursor is one exclusive ``BYLEX`` bound.

- ``o:<status>:<field>`` for the three statuses and every sort field but
  ``status``: the stream is in its status's sets only, so a status filter reads
  just those, and sorting by status reads ``o:<status>:stream_id`` in status order.
  There are no ``o:running:<field>`` sets for the :data:`LIVE_FIELDS` that every
  TOKEN moves: a TOKEN then changes the summary hash only, and a query sorts the
  running streams (few) by those fields when it asks (l0core.stores.redis_query).
- ``f:model:<model>``, ``f:failure:<failureType>`` (non-empty ones) and
  ``f:flag:<retries|violations|fallback|drift>`` (streams where it holds), ordered
  by ``start_ts``: the narrow filters of the default order.

The append computes the new summary in Python from the summary it started from
(:func:`l0core.catalog.advance_summary`, so it is exactly the fold) and passes
the changes to the append script, which applies them only if the stream is still in
the state the summary was computed from. This module computes those changes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from l0core.catalog.query import value_of
from l0core.catalog.summary import SUMMARY_FIELDS, StreamSummary, final_content
from l0core.codec import dumps, loads
from l0core.events import JSONDict
from l0core.stores.batch_summary import TokenMoves

STATUSES = ("completed", "error", "running")
"""In byte order, which is the order ``status`` sorts in."""

ORDER_FIELDS = ("start_ts", "end_ts", "last_ts", "duration_ms", "event_count",
                "token_count", "retries", "violation_count", "fallback_index", "model",
                "stream_id")
"""Sort fields with a sorted set per status (``status`` sorts by ``o:<status>:stream_id``)."""

LIVE_FIELDS = ("last_ts", "event_count", "token_count", "duration_ms")
"""The sort fields a TOKEN moves: ended streams only have members ordered by them."""
_RUNNING_ORDER_FIELDS = tuple(f for f in ORDER_FIELDS if f not in LIVE_FIELDS)

FLOAT_FIELDS = frozenset({"start_ts", "end_ts", "last_ts", "duration_ms"})
INT_FIELDS = frozenset({"event_count", "token_count", "retries", "violation_count",
                        "fallback_index"})
TEXT_FIELDS = frozenset({"model", "status"})

FLAGS = ("retries", "violations", "fallback", "drift")
"""``has_<flag>`` filters with a set of the streams where the flag holds."""

_INT_BIAS = 1 << 64
"""Integers are written as 17 hex digits of ``value + 2**64``: exact and ordered for
every value the wire format allows (|v| < 2**63, plus one for ``index + 1``)."""

_SUMMARY_FIELDS = tuple(name for name in SUMMARY_FIELDS
                        if name not in ("stream_id", "read_status", "read_note"))
_CAMEL = {name: "".join(w if i == 0 else w.title() for i, w in enumerate(name.split("_")))
          for name in _SUMMARY_FIELDS}
_SNAKE = {camel.encode(): name for name, camel in _CAMEL.items()}
_DEFAULTS = StreamSummary(stream_id="-")

BATCH_FIELD = "b"
"""The hash field holding the batch id of the stream's last batch: the state the
summary describes (the append script compares it with the stream's top entry)."""
EXPIRY_FIELD = "x"
"""The hash field holding the stream's expiry (server ms); absent without TTL."""
PACKED_FIELD = "p"
"""The hash field holding the :data:`STABLE_FIELDS` and the options as one JSON array,
written whenever one of them changes (never by a TOKEN)."""
LIVE_PACKED_FIELD = "q"
"""The hash field holding ``lastTs,durationMs,eventCount,tokenCount`` as JSON numbers
separated by commas, written with those fields by every append.

With :data:`PACKED_FIELD`, a page of summaries is read with two or three ``HMGET``
fields per stream instead of every field, and parsed in one call
(:func:`packed_summaries`); hashes of older writers lack them."""

STABLE_FIELDS = ("model", "prompt_head", "start_ts", "end_ts", "status", "retry_attempts",
                 "network_retry_count", "violation_count", "drift_detected",
                 "fallback_index", "failure_type", "error_head")
"""The summary attributes a TOKEN never moves, in the order :data:`PACKED_FIELD` holds
them (then ``options``)."""


# ── members: order-preserving text ──

def enc_float(value: float) -> str:
    """16 hex digits whose byte order is the numeric order (``-0.0`` is ``0.0``)."""
    bits = int.from_bytes(struct.pack(">d", float(value) + 0.0), "big")
    bits = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | 1 << 63
    return f"{bits:016x}"


def enc_int(value: int) -> str:
    return f"{int(value) + _INT_BIAS:017x}"


def enc_text(value: str) -> str:
    """``value`` then a terminator below every character (NUL escaped as NUL 1)."""
    return value.replace("\x00", "\x00\x01") + "\x00\x00"


def encode_value(field: str, value: Any) -> str:
    """The member prefix of ``value`` in sets ordered by ``field``."""
    if field in FLOAT_FIELDS:
        return enc_float(value)
    if field in INT_FIELDS:
        return enc_int(value)
    if field in TEXT_FIELDS:
        return enc_text(value)
    return ""  # stream_id: the id itself is the member


def member(field: str, value: Any, stream_id: str) -> str:
    return encode_value(field, value) + stream_id


def stream_id_of(field: str, raw: bytes) -> str:
    """The stream id at the end of a member of a set ordered by ``field``."""
    if field in FLOAT_FIELDS:
        return raw[16:].decode()
    if field in INT_FIELDS:
        return raw[17:].decode()
    if field in TEXT_FIELDS:
        return raw[raw.index(b"\x00\x00") + 2:].decode()
    return raw.decode()


def cursor_bound(field: str, value: Any, stream_id: str,
                 descending: bool) -> tuple[bytes, bool]:
    """The exclusive keyset bound after ``(value, stream_id)``: (member, inclusive).

    A fractional cursor on an integer field (a hand-made one) becomes the inclusive
    bound at the next integer up, which selects the same rows.
    """
    if field in INT_FIELDS and isinstance(value, float) and not value.is_integer():
        return enc_int(math.ceil(value)).encode(), not descending
    return member(field, value, stream_id).encode(), False


# ── which sets a summary is in ──

def flag_holds(summary: StreamSummary, flag: str) -> bool:
    if flag == "retries":
        return summary.retries > 0
    if flag == "violations":
        return summary.violation_count > 0
    if flag == "fallback":
        return summary.fallback_index > 0
    return summary.drift_detected


def order_set(status: str, field: str) -> str:
    return f"o:{status}:{field}"


def model_set(model: str) -> str:
    return "f:model:" + model


def failure_set(failure_type: str) -> str:
    return "f:failure:" + failure_type


def flag_set(flag: str) -> str:
    return "f:flag:" + flag


def _filter_entries(summary: StreamSummary, out: dict[str, str]) -> None:
    by_start = enc_float(summary.start_ts) + summary.stream_id
    out[model_set(summary.model)] = by_start
    if summary.failure_type:
        out[failure_set(summary.failure_type)] = by_start
    for flag in FLAGS:
        if flag_holds(summary, flag):
            out[flag_set(flag)] = by_start


def index_entries(summary: StreamSummary) -> dict[str, str]:
    """Set name (relative to the shard) -> this summary's member in it."""
    sid, status = summary.stream_id, summary.status
    ordered = _RUNNING_ORDER_FIELDS if status == "running" else ORDER_FIELDS
    out = {order_set(status, f): member(f, value_of(summary, f), sid) for f in ordered}
    _filter_entries(summary, out)
    return out


def set_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(set name, op)`` turning ``old`` entries into ``new``, one per set: ``+member``,
    ``-member``, or ``~<bytes of old>:<old><new>`` to replace (the scripts' apply_sets)."""
    ops: list[tuple[str, str]] = []
    for name, was in old.items():
        now = new.get(name)
        if now is None:
            ops.append((name, "-" + was))
        elif now != was:
            ops.append((name, f"~{len(was.encode())}:{was}{now}"))
    for name, now in new.items():
        if name not in old:
            ops.append((name, "+" + now))
    return ops


# ── what an append changes ──

_SCALARS = ("last_ts", "event_count", "token_count", "duration_ms", "end_ts", "start_ts",
            "retry_attempts", "network_retry_count", "violation_count", "fallback_index",
            "status", "model", "failure_type", "drift_detected", "prompt_head", "error_head")
"""The stored attributes but ``options`` (set once, by the first event), most often
changed first. ``last_seq`` is not stored: it is ``event_count - 1``."""
_GET = attrgetter(*_SCALARS)
_SCALAR_FIELDS = tuple(_CAMEL[name] for name in _SCALARS)
_ORDER_OF = ("last_ts", "event_count", "token_count", "duration_ms", "end_ts", "start_ts",
             "retries", "retries", "violation_count", "fallback_index")
"""The sort field each of the first ``_SCALARS`` moves."""
_FIRST_STABLE = len(_SCALARS) - len(STABLE_FIELDS)
"""``_SCALARS`` from here on are the :data:`STABLE_FIELDS`; a TOKEN moves those before."""
_STATUS, _MODEL = _SCALARS.index("status"), _SCALARS.index("model")
_FILTERED = frozenset({_SCALARS.index(n) for n in (
    "start_ts", "retry_attempts", "network_retry_count", "violation_count", "fallback_index",
    "model", "failure_type", "drift_detected")})
"""Attributes that decide the ``f:`` sets."""


def _encode_field(name: str, value: Any) -> str | bytes:
    if name == "options":
        return dumps(value)
    if value is True or value is False:
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def packed(summary: StreamSummary) -> bytes:
    """The :data:`PACKED_FIELD` value of ``summary``."""
    s = summary
    return dumps([s.model, s.prompt_head, float(s.start_ts), float(s.end_ts), s.status,
                  s.retry_attempts, s.network_retry_count, s.violation_count,
                  bool(s.drift_detected), s.fallback_index, s.failure_type, s.error_head,
                  s.options])


def live_packed(last_ts: float, duration_ms: float, event_count: int, token_count: int
                ) -> str:
    """The :data:`LIVE_PACKED_FIELD` value (``repr`` of a float is its JSON)."""
    return f"{float(last_ts)!r},{float(duration_ms)!r},{event_count},{token_count}"


def all_fields(summary: StreamSummary) -> list[str | bytes]:
    """Flat ``field, value`` pairs of every non-default attribute (a hash from scratch),
    and the packed ones."""
    out: list[str | bytes] = []
    for name in _SUMMARY_FIELDS:
        value = getattr(summary, name)
        if name != "last_seq" and getattr(_DEFAULTS, name) != value:
            out.append(_CAMEL[name])
            out.append(_encode_field(name, value))
    out += (PACKED_FIELD, packed(summary), LIVE_PACKED_FIELD,
            live_packed(summary.last_ts, summary.duration_ms, summary.event_count,
                        summary.token_count))
    return out


def _replace(name: str, old: str, new: str) -> tuple[str, str]:
    return name, f"~{len(old.encode())}:{old}{new}"


@dataclass(slots=True)
class SummaryChanges:
    """What the append script writes for one summary change."""

    fields: list[str | bytes]
    """Flat ``field, value`` pairs for ``HSET``."""
    entries: dict[str, str]
    """The catalog entries of the new summary."""
    sets: list[tuple[str, str]]
    """``(set name, op)`` as :func:`set_changes` gives them."""


def summary_changes(before: StreamSummary, after: StreamSummary, entries: Mapping[str, str],
                    rewrite: bool) -> SummaryChanges:
    """The hash fields and set changes that turn ``before`` (stored with ``entries``)
    into ``after``. ``rewrite``: the stored hash and ``entries`` are not ``before``'s
    (none yet, a leftover, an older writer's), so everything is written anew.

    Otherwise only what changed is encoded: a batch of TOKENs touches three or four
    attributes and as many sets.
    """
    if rewrite or not entries:
        new = index_entries(after)
        return SummaryChanges(all_fields(after), new, set_changes(entries, new))
    now, was = _GET(after), _GET(before)
    changed = [i for i, (a, b) in enumerate(zip(now, was, strict=True)) if a != b]
    fields: list[str | bytes] = []
    for i in changed:
        fields.append(_SCALAR_FIELDS[i])
        fields.append(_encode_field(_SCALARS[i], now[i]))
    if not changed:
        return SummaryChanges(fields, dict(entries), [])
    if changed[0] < _FIRST_STABLE:
        fields += (LIVE_PACKED_FIELD, live_packed(after.last_ts, after.duration_ms,
                                                  after.event_count, after.token_count))
    if changed[-1] >= _FIRST_STABLE:
        fields += (PACKED_FIELD, packed(after))
    if _STATUS in changed:  # every order set is another one
        new = index_entries(after)
        return SummaryChanges(fields, new, set_changes(entries, new))
    out = dict(entries)
    ops: list[tuple[str, str]] = []
    sid, status = after.stream_id, after.status
    moved: set[str] = set()
    running = status == "running"
    for i in changed:
        if i < len(_ORDER_OF) and _ORDER_OF[i] not in moved:
            field = _ORDER_OF[i]
            moved.add(field)
            if running and field in LIVE_FIELDS:
                continue
            name = order_set(status, field)
            old, value = out[name], member(field, value_of(after, field), sid)
            if value != old:
                out[name] = value
                ops.append(_replace(name, old, value))
    if _MODEL in changed:
        name = order_set(status, "model")
        old, value = out[name], member("model", after.model, sid)
        out[name] = value
        ops.append(_replace(name, old, value))
    if any(i in _FILTERED for i in changed):
        kept = {n: m for n, m in out.items() if n.startswith("f:")}
        fresh: dict[str, str] = {}
        _filter_entries(after, fresh)
        for n in kept:
            del out[n]
        out.update(fresh)
        ops.extend(set_changes(kept, fresh))
    return SummaryChanges(fields, out, ops)


_TOKEN_MOVES = (("last_ts", "lastTs", enc_float), ("event_count", "eventCount", enc_int),
                ("token_count", "tokenCount", enc_int), ("duration_ms", "durationMs", enc_float))
"""What a TOKEN can change (besides ``last_seq``, which is not stored)."""


def running_token_fields(before: StreamSummary, moves: TokenMoves) -> list[str | bytes]:
    """The hash fields a batch of TOKENs to a running stream changes (``moves``:
    :func:`~l0core.stores.batch_summary.after_tokens`): no sorted set holds a member
    ordered by them, so these are all it writes."""
    last_ts, event_count, token_count, duration_ms = moves
    fields: list[str | bytes] = []
    if last_ts != before.last_ts:
        fields += ("lastTs", repr(last_ts))
    if event_count != before.event_count:
        fields += ("eventCount", str(event_count))
    if token_count != before.token_count:
        fields += ("tokenCount", str(token_count))
    if duration_ms != before.duration_ms:
        fields += ("durationMs", repr(duration_ms))
    if fields:
        fields += (LIVE_PACKED_FIELD, live_packed(last_ts, duration_ms, event_count,
                                                  token_count))
    return fields


def token_changes(before: StreamSummary, after: StreamSummary,
                  entries: dict[str, str]) -> SummaryChanges:
    """:func:`summary_changes` for a batch of TOKENs only (most appends): the fold moves
    at most these four attributes, so only they are compared. The fields and set ops
    are single words (numbers and hex), as the append script's first argument wants.
    A running stream (nearly every TOKEN) has no set entries for them to move."""
    sid, status = after.stream_id, after.status
    if status == "running":
        moves = (after.last_ts, after.event_count, after.token_count, after.duration_ms)
        return SummaryChanges(running_token_fields(before, moves), entries, [])
    fields: list[str | bytes] = []
    ops: list[tuple[str, str]] = []
    out = dict(entries)
    for attr, camel, enc in _TOKEN_MOVES:
        value = getattr(after, attr)
        if value != getattr(before, attr):
            fields.append(camel)
            fields.append(repr(value) if isinstance(value, float) else str(value))
            name = order_set(status, attr)
            old, new = out[name], enc(value) + sid
            if new != old:
                out[name] = new
                ops.append(_replace(name, old, new))
    if fields:
        fields += (LIVE_PACKED_FIELD, live_packed(after.last_ts, after.duration_ms,
                                                  after.event_count, after.token_count))
    return SummaryChanges(fields, out, ops)


# ── the summary hash ──

def _decode_field(name: str, raw: bytes) -> Any:
    if name == "options":
        return loads(raw)
    default = getattr(_DEFAULTS, name)
    if isinstance(default, bool):
        return raw == b"1"
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, int):
        return int(raw)
    return raw.decode()


def summary_from_hash(stream_id: str, raw: Mapping[bytes, bytes]
                      ) -> tuple[StreamSummary, str, float | None]:
    """(summary, batch id it describes, expiry ms or None) from ``HGETALL``."""
    values = {_SNAKE[k]: _decode_field(_SNAKE[k], v) for k, v in raw.items() if k in _SNAKE}
    values["last_seq"] = values.get("event_count", 0) - 1
    summary = StreamSummary(stream_id=stream_id, **values)
    batch = raw.get(BATCH_FIELD.encode(), b"").decode()
    expiry = raw.get(EXPIRY_FIELD.encode())
    return summary, batch, None if expiry is None else float(expiry)


def hash_fields(names: Sequence[str]) -> list[str]:
    """The hash fields holding the summary attributes ``names`` (for ``HMGET``), after
    the batch id (present in every summary hash) and the expiry."""
    return [BATCH_FIELD, EXPIRY_FIELD, *(_CAMEL[n] for n in names)]


def partial_summary(stream_id: str, names: Sequence[str], values: Sequence[bytes | None]
                    ) -> tuple[StreamSummary, float | None] | None:
    """An ``HMGET`` of :func:`hash_fields` as a summary with just those attributes (the
    rest at their defaults) and its expiry; None when there is no summary hash."""
    if values[0] is None:
        return None
    known = {name: _decode_field(name, raw) for name, raw in zip(names, values[2:], strict=True)
             if raw is not None}
    expiry = values[1]
    return StreamSummary(stream_id=stream_id, **known), None if expiry is None else float(expiry)


HASH_NAMES = tuple(name for name in _SUMMARY_FIELDS if name != "last_seq")
"""The attributes a summary hash holds (``last_seq`` is ``event_count - 1``)."""
_TEXT_FIELDS = frozenset(n for n in HASH_NAMES if isinstance(getattr(_DEFAULTS, n), str))
_FLOAT_FIELDS = tuple(n for n in HASH_NAMES if isinstance(getattr(_DEFAULTS, n), float))
_BOOL_FIELDS = tuple(n for n in HASH_NAMES if isinstance(getattr(_DEFAULTS, n), bool))
"""How each attribute is typed, read off the defaults as :func:`_decode_field` does."""


def gather_args(names: Sequence[str]) -> list[str]:
    """The GATHER script's arguments for the attributes ``names``: the batch id first
    (every summary hash has it), then the expiry, then ``names``."""
    args = [BATCH_FIELD, "_b", "s", EXPIRY_FIELD, "_x", "r"]
    for name in names:
        args += [_CAMEL[name], name, "s" if name in _TEXT_FIELDS else "r"]
    return args


def gathered_summaries(ids: Sequence[str], reply: bytes
                       ) -> list[tuple[StreamSummary, float | None] | None] | None:
    """GATHER's reply as (summary, expiry ms or None) per id, None where there is no
    summary hash; None for the whole page when the reply is not JSON (a value the
    script could not copy as it is: the caller reads the hashes instead)."""
    try:
        rows = loads(reply)
    except ValueError:
        return None
    out: list[tuple[StreamSummary, float | None] | None] = []
    for sid, row in zip(ids, rows, strict=True):
        if row is None:
            out.append(None)
            continue
        del row["_b"]
        expiry = row.pop("_x", None)
        for name in _BOOL_FIELDS:  # stored as 1/0
            if name in row:
                row[name] = row[name] == 1
        for name in _FLOAT_FIELDS:  # a float that JSON wrote without a fraction
            if name in row:
                row[name] = float(row[name])
        if "event_count" in row:
            row["last_seq"] = row["event_count"] - 1
        out.append((StreamSummary(stream_id=sid, **row), expiry))
    return out


PACKED_READ = (PACKED_FIELD, LIVE_PACKED_FIELD, EXPIRY_FIELD, BATCH_FIELD)
"""What the GATHER_PACKED script reads: the two packed fields and the expiry of each
hash, and the batch id of one that lacks them (to tell an older writer's hash from no
hash)."""


def packed_args(ids: Sequence[str]) -> list[str | bytes]:
    """GATHER_PACKED's arguments: the fields it reads, then each stream id as a JSON
    string (copied into the reply as it is)."""
    return [*PACKED_READ, *(dumps(sid) for sid in ids)]


def packed_summaries(reply: bytes) -> list[tuple[StreamSummary, float | None] | None] | None:
    """GATHER_PACKED's reply as (summary, expiry ms or None) per id, None where there is
    no summary hash; None for the whole page when the reply is not JSON (the caller
    reads it with GATHER, which copes).

    Each row is ``[id, *STABLE_FIELDS, options, lastTs, durationMs, eventCount,
    tokenCount, expiry]``, already typed by JSON; the summary is made positionally."""
    try:
        rows = loads(reply)
    except ValueError:  # a value JSON cannot carry (an infinite duration): not packed
        return None
    out: list[tuple[StreamSummary, float | None] | None] = []
    for row in rows:
        if row is None:
            out.append(None)
            continue
        (sid, model, prompt, start, end, status, retries, network, violations, drift,
         fallback, failure, error, options, last, duration, events, tokens, expiry) = row
        out.append((StreamSummary(sid, model, prompt, start, end, last, duration, status,
                                  events, tokens, retries, network, violations, drift,
                                  fallback, failure, error, events - 1, options), expiry))
    return out


def pairs_to_dict(flat: Sequence[bytes]) -> dict[bytes, bytes]:
    """A flat ``HGETALL`` reply (as a script returns it) as a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat) - 1, 2)}


# ── final content (what text search looks in) ──

_RESETS = ("COMPLETE", "CONTINUATION")


def content_change(ended_before: bool, ended_after: bool, events: Sequence[JSONDict],
                   content_before: str | None) -> tuple[str, str] | None:
    """How the stored final content changes with ``events``: ``("S", text)`` to set it,
    ``("A", text)`` to append, None to leave it.

    Content is stored once a stream has ended (a COMPLETE or ERROR was folded) and
    kept up to date after that; a running stream is searched by folding it.
    ``content_before`` is the fold's content before ``events``: only needed (and
    only read from the stream by the caller) when ``events`` end the stream without
    a COMPLETE or CONTINUATION to start the text from.
    """
    if not ended_after:
        return None
    last_reset = -1
    for i, ev in enumerate(events):
        if ev["type"] in _RESETS:
            last_reset = i
    if last_reset >= 0:
        return "S", final_content(events[last_reset:])
    if ended_before:
        return "A", "".join(ev["value"] for ev in events if ev["type"] == "TOKEN")
    assert content_before is not None
    return "S", final_content(events, content_before)


def needs_content_before(ended_before: bool, ended_after: bool,
                         events: Sequence[JSONDict]) -> bool:
    """True when :func:`content_change` needs the content folded so far."""
    return (ended_after and not ended_before
            and not any(ev["type"] in _RESETS for ev in events))


def is_ended(summary: StreamSummary) -> bool:
    return summary.status != "running"
