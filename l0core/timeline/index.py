"""The timeline index: the state at any seq of a recorded stream without refolding.

The debugger scrubs a million-event stream, so "state at seq N" cannot mean folding
from seq 0 every time (the spec's ``replayToState``). A :class:`Timeline` indexes a
stream once, incrementally (:meth:`Timeline.extend` takes the next batch while a
large stream loads), and then answers in O(log n):

* every field of :class:`~l0core.fold.ReplayedState` is kept as the sorted list of
  seqs where its value changed, plus the value it changed to, so the state at N is
  one bisect per field;
* ``content`` is kept as versions (:mod:`.content`): each change stores only its
  seq and the content length, so memory grows with the events, never with
  events x content length;
* landmarks (non-TOKEN events) are sorted seq arrays per kind, for "next RETRY";
* only the non-TOKEN envelopes are kept as objects: a TOKEN event is columns
  (:mod:`.tokens`) and a slice of a content version, rebuilt into an equal
  envelope on demand by :meth:`Timeline.envelope` / :meth:`Timeline.events`;
* each seq's kind is one byte, its rank (:mod:`.ranks`), which also feeds the
  minimap (:mod:`.minimap`).

Everything here is derived from :func:`l0core.fold.apply_event`'s rules; the
property tests prove ``state_at(n) == fold(events[0..n])`` for random streams.
Attempts (:mod:`.attempts`), timing (:mod:`.timing`) and search (:mod:`.search`)
are computed on first use and cached until the next :meth:`Timeline.extend`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from itertools import compress
from typing import Any, Protocol

from l0core.events import (
    CheckpointEvent,
    CompleteEvent,
    ContinuationEvent,
    DriftEvent,
    ErrorEvent,
    EventEnvelope,
    FallbackEvent,
    GuardrailEvent,
    RecordedEventType,
    RetryEvent,
    StartEvent,
    TokenEvent,
)
from l0core.fold import STATE_FIELDS, ReplayedState
from l0core.timeline.attempts import Attempt, split_attempts
from l0core.timeline.content import ContentVersion
from l0core.timeline.minimap import Minimap
from l0core.timeline.provenance import CharProvenance, ProvenanceIndex
from l0core.timeline.ranks import CLASS_RANK, IMPORTANCE, IS_TOKEN, RANK, TOKEN_OR_NONE, TOKEN_RANK
from l0core.timeline.search import (
    SEARCH_SCOPES,
    Matcher,
    search_content,
    search_payloads,
    search_tokens,
)
from l0core.timeline.timing import (
    AttemptTiming,
    Timing,
    arrival_gaps,
    attempt_timing,
    max_gap_per_bucket,
    per_bucket,
    summarize,
)
from l0core.timeline.tokens import EXACT_INT, TS_INT, TS_KEPT, TokenColumns

__all__ = ["IMPORTANCE", "Timeline", "load_timeline"]

_INITIAL: dict[str, Any] = {name: getattr(ReplayedState(), name) for name in STATE_FIELDS}
"""Each field's value before any event changed it."""


class _History:
    """The seqs where one state field changed and the values it changed to."""

    __slots__ = ("seqs", "values")

    def __init__(self) -> None:
        self.seqs = array("q")
        self.values: list[Any] = []

    def add(self, seq: int, value: Any) -> None:
        self.seqs.append(seq)
        self.values.append(value)

    def at(self, seq: int, default: Any) -> Any:
        i = bisect_right(self.seqs, seq) - 1
        return self.values[i] if i >= 0 else default


class Timeline:
    """An incremental index over one stream's envelopes (seqs ``0..n-1``).

    Not locked: call :meth:`extend` and the queries from one thread or event loop
    (a Textual app feeds batches from an async worker).
    """

    def __init__(self, stream_id: str, envelopes: Iterable[EventEnvelope] = ()) -> None:
        self.stream_id = stream_id
        self._rank = bytearray()  # importance rank of each seq's kind; its length is len()
        self._ts = array("d")  # every seq's ts
        # TOKEN events are not kept as objects: a ts flag and an index column (see
        # .tokens), and their text is a slice of a content version (see .content)
        self._tokens = TokenColumns()
        self._lm_envs: dict[int, EventEnvelope] = {}  # every non-TOKEN envelope by seq
        # content: (seq, version, length) per change; token_count: (seq, value)
        self._versions: list[ContentVersion] = [ContentVersion("")]
        self._c_seq = array("q")
        self._c_len = array("q")
        self._v_first = array("q", [0])  # index of each version's first change entry
        self._tc_seq = array("q")
        self._tc_val = array("q")
        # violations: flattened list, and (seq, count) per change
        self._violations: list[Any] = []
        self._v_seq = array("q")
        self._v_cnt = array("q")
        self._hist: dict[str, _History] = {
            name: _History()
            for name in STATE_FIELDS
            if name not in ("content", "token_count", "violations")
        }
        # running values of the fold at the last indexed seq
        self._clen = 0
        self._tc = 0
        self._cur: dict[str, Any] = {
            "checkpoint": "",
            "drift_detected": False,
            "retry_attempts": 0,
            "network_retry_count": 0,
            "fallback_index": 0,
            "completed": False,
            "error": None,
            "start_ts": 0.0,
            "end_ts": 0.0,
        }
        # landmarks: every non-TOKEN seq, its rank, and per-kind seq arrays
        self._lm_seq = array("q")
        self._lm_rank = bytearray()
        self._lm_by_rank: list[array[int]] = [array("q") for _ in IMPORTANCE]
        self._minimap = Minimap(self._rank, self._lm_seq, self._lm_rank)
        self._cache: dict[Any, Any] = {}  # derived answers, dropped by extend()
        self._payload_cache: list[tuple[int, bytes]] = []
        self._provenance = ProvenanceIndex(self)
        env_list = envelopes if isinstance(envelopes, Sequence) else list(envelopes)
        if env_list:
            self.extend(env_list)

    # ───────────────────────────── building ─────────────────────────────

    def extend(self, envelopes: Sequence[EventEnvelope]) -> None:
        """Index the next batch; its seqs must continue from :attr:`last_seq` + 1."""
        if not envelopes:
            return
        start = len(self._rank)
        for offset, env in enumerate(envelopes):
            if env.seq != start + offset:
                raise ValueError(
                    f"timeline of {self.stream_id!r} expected seq {start + offset}, "
                    f"got {env.seq}"
                )
            if env.stream_id != self.stream_id:
                raise ValueError(
                    f"timeline of {self.stream_id!r} got an event of stream {env.stream_id!r}"
                )
            if type(env.event) not in CLASS_RANK:
                raise TypeError(
                    f"seq {env.seq}: {type(env.event).__name__} is not a recorded event type"
                )
        self._index(envelopes, start)
        self._minimap.extend(start)
        self._cache.clear()

    def _index(self, envelopes: Sequence[EventEnvelope], start: int) -> None:
        rank_of = CLASS_RANK
        ranks = self._rank
        ts_append = self._ts.append
        c_seq, c_len = self._c_seq.append, self._c_len.append
        tc_seq, tc_val = self._tc_seq.append, self._tc_val.append
        version = self._versions[-1]
        parts_append = version.parts.append
        clen = self._clen
        tc = self._tc
        tokens = self._tokens
        kept = tokens.kept
        lm_envs = self._lm_envs
        seq = start
        n = len(envelopes)
        batch_ranks = bytearray(n)
        batch_flags = bytearray(n)
        batch_index = array("q", bytes(8 * n))
        for k, env in enumerate(envelopes):
            ev = env.event
            seq = start + k
            ts = ev.ts
            ts_append(ts)
            if type(ev) is TokenEvent:
                index = ev.index
                # into the columns (flags TS_* in .tokens; a non-NaN float ts needs none)
                if type(ts) is not float or ts != ts or type(index) is not int:
                    if (type(ts) is int and -EXACT_INT <= ts <= EXACT_INT
                            and type(index) is int):
                        batch_flags[k] = TS_INT
                    else:
                        batch_flags[k] = TS_KEPT
                        kept[seq] = env
                try:
                    batch_index[k] = index
                except (OverflowError, TypeError):
                    batch_flags[k] = TS_KEPT
                    kept[seq] = env
                value = ev.value
                if value:
                    parts_append(value)
                    clen += len(value)
                    c_seq(seq)
                    c_len(clen)
                if index + 1 != tc:
                    tc = index + 1
                    tc_seq(seq)
                    tc_val(tc)
                continue
            rank = rank_of[type(ev)]
            batch_ranks[k] = rank
            lm_envs[seq] = env
            self._lm_seq.append(seq)
            self._lm_rank.append(rank)
            self._lm_by_rank[rank].append(seq)
            new_content: str | None = None
            if isinstance(ev, ContinuationEvent):
                new_content = ev.checkpoint
            elif isinstance(ev, CompleteEvent):
                new_content = ev.content
                if ev.token_count != tc:
                    tc = ev.token_count
                    tc_seq(seq)
                    tc_val(tc)
            if new_content is not None and (
                len(new_content) != clen or new_content != version.full()
            ):
                version.full()  # it is complete: one string rather than its tokens
                version = ContentVersion(new_content)
                self._versions.append(version)
                self._v_first.append(len(self._c_seq))
                parts_append = version.parts.append
                clen = len(new_content)
                c_seq(seq)
                c_len(clen)
            self._apply_rare(seq, ev)
        version.compact()
        ranks.extend(batch_ranks)
        tokens.flags.extend(batch_flags)
        tokens.index.extend(batch_index)
        self._clen = clen
        self._tc = tc

    def _set(self, seq: int, name: str, value: Any) -> None:
        if self._cur[name] != value:
            self._cur[name] = value
            self._hist[name].add(seq, value)

    def _apply_rare(self, seq: int, ev: Any) -> None:
        """The fold's rules for the non-TOKEN fields (content is handled by the caller)."""
        if isinstance(ev, StartEvent):
            self._set(seq, "start_ts", ev.ts)
        elif isinstance(ev, CheckpointEvent):
            self._set(seq, "checkpoint", ev.content)
        elif isinstance(ev, GuardrailEvent):
            if ev.result.violations:
                self._violations.extend(ev.result.violations)
                self._v_seq.append(seq)
                self._v_cnt.append(len(self._violations))
        elif isinstance(ev, DriftEvent):
            if ev.result.detected:
                self._set(seq, "drift_detected", True)
        elif isinstance(ev, RetryEvent):
            name = "retry_attempts" if ev.counts_toward_limit else "network_retry_count"
            self._set(seq, name, self._cur[name] + 1)
        elif isinstance(ev, FallbackEvent):
            self._set(seq, "fallback_index", ev.to)
        elif isinstance(ev, CompleteEvent):
            self._set(seq, "completed", True)
            self._set(seq, "end_ts", ev.ts)
        elif isinstance(ev, ErrorEvent):
            self._set(seq, "error", ev.error)
            self._set(seq, "end_ts", ev.ts)

    # ───────────────────────────── events ─────────────────────────────

    def __len__(self) -> int:
        return len(self._rank)

    @property
    def last_seq(self) -> int:
        """The last indexed seq (-1 while empty)."""
        return len(self._rank) - 1

    def _check(self, seq: int) -> None:
        if not 0 <= seq < len(self._rank):
            raise IndexError(f"seq {seq} is outside 0..{len(self._rank) - 1}")

    def _token_value(self, seq: int) -> str:
        """The text of the TOKEN event at ``seq`` (a slice of its content version)."""
        c_seq = self._c_seq
        k = bisect_left(c_seq, seq)
        if k == len(c_seq) or c_seq[k] != seq:
            return ""  # an empty token changes no content
        v = self._version_of(k)
        lo = self._c_len[k - 1] if k > self._v_first[v] else 0
        return self._versions[v].full()[lo : self._c_len[k]]

    def envelope(self, seq: int) -> EventEnvelope:
        self._check(seq)
        if self._rank[seq] != TOKEN_RANK:
            return self._lm_envs[seq]
        return self._tokens.envelope(self.stream_id, seq, self._ts[seq], self._token_value(seq))

    def events(self, start: int, stop: int) -> list[EventEnvelope]:
        """Envelopes with ``start <= seq < stop`` (clipped to what is indexed)."""
        values = self.token_values(start, stop)
        if not values:
            return []
        stream_id, lm_envs, tokens = self.stream_id, self._lm_envs, self._tokens
        ts, flags, index = self._ts, tokens.flags, tokens.index
        out: list[EventEnvelope] = []
        append = out.append
        for seq, value in enumerate(values, max(0, start)):
            if value is None:
                append(lm_envs[seq])
            elif flags[seq]:
                append(tokens.envelope(stream_id, seq, ts[seq], value))
            else:
                append(EventEnvelope(stream_id, seq,
                                     TokenEvent(ts=ts[seq], value=value, index=index[seq])))
        return out

    def token_values(self, start: int, stop: int) -> list[str | None]:
        """Per seq ``start <= seq < stop`` (clipped), the TOKEN's text, or None for any
        other event: ``events(start, stop)``'s token values without building envelopes.
        """
        start = max(0, start)
        stop = min(max(0, stop), len(self._rank))
        if start >= stop:
            return []
        c_seq, c_len = self._c_seq, self._c_len
        # "" for every TOKEN (an empty one changes no content), None for the rest ...
        out: list[str | None] = list(map(TOKEN_OR_NONE.__getitem__, self._rank[start:stop]))
        # ... then each TOKEN that appended text gets its slice of the version
        k = bisect_left(c_seq, start)
        end = bisect_left(c_seq, stop, k)
        while k < end:
            v = self._version_of(k)
            v_lo, v_hi = self._version_span(v)
            group_end = min(end, v_hi)
            if k == v_lo and v > 0:
                k += 1  # the entry that set the base: a CONTINUATION or COMPLETE
            text = self._versions[v].full()
            lo = c_len[k - 1] if k > v_lo else 0
            for s, hi in zip(c_seq[k:group_end], c_len[k:group_end], strict=True):
                out[s - start] = text[lo:hi]
                lo = hi
            k = group_end
        return out

    def kind(self, seq: int) -> RecordedEventType:
        self._check(seq)
        return IMPORTANCE[self._rank[seq]]

    # ───────────────────────────── state ─────────────────────────────

    def content_at(self, seq: int, start: int = 0) -> str:
        """``state_at(seq).content[start:]`` without building the rest of the state.

        ``start`` lets a view take the tail of a content of many megabytes without
        copying what it will not show.
        """
        self._check(seq)
        i = bisect_right(self._c_seq, seq) - 1
        if i < 0:
            return ""
        return self._versions[self._version_of(i)].full()[max(0, start) : self._c_len[i]]

    def content_length_at(self, seq: int) -> int:
        """``len(state_at(seq).content)``, in O(log n) and without copying anything."""
        self._check(seq)
        i = bisect_right(self._c_seq, seq) - 1
        return self._c_len[i] if i >= 0 else 0

    def _version_of(self, entry: int) -> int:
        """The content version a change entry belongs to."""
        return bisect_right(self._v_first, entry) - 1

    def _version_span(self, v: int) -> tuple[int, int]:
        """The change entries ``[lo, hi)`` of version ``v``."""
        first = self._v_first
        return first[v], first[v + 1] if v + 1 < len(first) else len(self._c_seq)

    def state_at(self, seq: int) -> ReplayedState:
        """The fold of events ``0..seq`` (inclusive), as a fresh object."""
        return ReplayedState(**{name: self.value_at(name, seq) for name in STATE_FIELDS})

    def value_at(self, field: str, seq: int) -> Any:
        """``getattr(state_at(seq), field)`` without building the other fields.

        A view that shows the content its own way (its length, its tail) can read
        every other field here and skip copying a content of many megabytes.
        """
        self._check(seq)
        if field == "content":
            return self.content_at(seq)
        if field == "token_count":
            i = bisect_right(self._tc_seq, seq) - 1
            return self._tc_val[i] if i >= 0 else 0
        if field == "violations":
            i = bisect_right(self._v_seq, seq) - 1
            return self._violations[: self._v_cnt[i]] if i >= 0 else []
        try:
            history = self._hist[field]
        except KeyError:
            raise ValueError(f"{field!r} is not a ReplayedState field") from None
        return history.at(seq, _INITIAL[field])

    def final_state(self) -> ReplayedState:
        """The state after the last indexed event (the initial state while empty)."""
        return self.state_at(self.last_seq) if self._rank else ReplayedState()

    def _changes(self, name: str) -> array[int]:
        if name == "content":
            return self._c_seq
        if name == "token_count":
            return self._tc_seq
        if name == "violations":
            return self._v_seq
        try:
            return self._hist[name].seqs
        except KeyError:
            raise ValueError(f"{name!r} is not a ReplayedState field") from None

    def changed_fields(self, seq: int) -> frozenset[str]:
        """The state fields whose value the event at ``seq`` changed."""
        self._check(seq)
        out = []
        for name in STATE_FIELDS:
            seqs = self._changes(name)
            i = bisect_left(seqs, seq)
            if i < len(seqs) and seqs[i] == seq:
                out.append(name)
        return frozenset(out)

    def field_last_changed(self, field: str, seq: int) -> int | None:
        """The largest seq ``<= seq`` whose event changed ``field`` (None: never)."""
        seqs = self._changes(field)
        i = bisect_right(seqs, seq) - 1
        return seqs[i] if i >= 0 else None

    def field_next_change(self, field: str, seq: int) -> int | None:
        """The smallest seq ``> seq`` whose event changes ``field`` (None: never)."""
        seqs = self._changes(field)
        i = bisect_right(seqs, seq)
        return seqs[i] if i < len(seqs) else None

    def field_changes(self, field: str) -> Sequence[int]:
        """Every seq whose event changed ``field``, ascending (a copy)."""
        return self._changes(field)[:]

    # ───────────────────────────── landmarks ─────────────────────────────

    def _landmark_array(self, kind: RecordedEventType | str | None) -> array[int]:
        if kind is None:
            return self._lm_seq
        rank = RANK[RecordedEventType(kind)]
        if rank == TOKEN_RANK:
            return self._token_seqs()
        return self._lm_by_rank[rank]

    def _token_seqs(self) -> array[int]:
        """Seqs of the TOKEN events (built on demand with C-level loops, cached)."""
        cached: array[int] | None = self._cache.get("token_seqs")
        if cached is None:
            mask = self._rank.translate(IS_TOKEN)
            cached = array("q", compress(range(len(self._rank)), mask))
            self._cache["token_seqs"] = cached
        return cached

    def landmarks(self, kind: RecordedEventType | str | None = None) -> Sequence[int]:
        """Sorted seqs of the non-TOKEN events, or of one kind (a copy)."""
        return self._landmark_array(kind)[:]

    def next_landmark(self, seq: int, kind: RecordedEventType | str | None = None) -> int | None:
        """The first landmark (of ``kind``) after ``seq``."""
        if kind is not None and RecordedEventType(kind) == RecordedEventType.TOKEN:
            found = self._rank.find(TOKEN_RANK, max(0, seq + 1))
            return found if found >= 0 else None
        seqs = self._landmark_array(kind)
        i = bisect_right(seqs, seq)
        return seqs[i] if i < len(seqs) else None

    def previous_landmark(
        self, seq: int, kind: RecordedEventType | str | None = None
    ) -> int | None:
        """The last landmark (of ``kind``) before ``seq``."""
        if kind is not None and RecordedEventType(kind) == RecordedEventType.TOKEN:
            found = self._rank.rfind(TOKEN_RANK, 0, max(0, seq))
            return found if found >= 0 else None
        seqs = self._landmark_array(kind)
        i = bisect_left(seqs, seq) - 1
        return seqs[i] if i >= 0 else None

    def count(self, kind: RecordedEventType | str) -> int:
        """How many events of ``kind`` are indexed."""
        rank = RANK[RecordedEventType(kind)]
        if rank == TOKEN_RANK:
            return len(self._rank) - len(self._lm_seq)
        return len(self._lm_by_rank[rank])

    def _tokens_between(self, start: int, stop: int) -> int:
        """TOKEN events with ``start <= seq < stop``."""
        if stop <= start:
            return 0
        landmarks = bisect_left(self._lm_seq, stop) - bisect_left(self._lm_seq, start)
        return stop - start - landmarks

    # ───────────────────────────── minimap ─────────────────────────────

    def minimap(
        self, cells: int, start: int = 0, stop: int | None = None
    ) -> list[RecordedEventType | None]:
        """The most important kind in each of ``cells`` equal seq ranges of [start, stop).

        Cell ``i`` covers ``[start + i*n//cells, start + (i+1)*n//cells)``; a cell
        with no seq (more cells than events) is None.
        """
        return self._minimap.cells(cells, start, stop)

    # ───────────────────────────── attempts ─────────────────────────────

    def _token_text(self, start: int, stop: int) -> str:
        """The TOKEN values with ``start <= seq < stop``, joined (sliced from the versions)."""
        c_seq, c_len = self._c_seq, self._c_len
        k = bisect_left(c_seq, start)
        end = bisect_left(c_seq, stop, k)
        parts = []
        while k < end:
            v = self._version_of(k)
            v_lo, v_hi = self._version_span(v)
            group_end = min(end, v_hi)
            first = k + 1 if v > 0 and k == v_lo else k  # skip the entry that set the base
            if first < group_end:
                lo_len = c_len[first - 1] if first > v_lo else 0
                parts.append(self._versions[v].full()[lo_len : c_len[group_end - 1]])
            k = group_end
        return "".join(parts)

    def attempts(self) -> list[Attempt]:
        """The stream split into attempts (copies; cached until :meth:`extend`).

        Rules: the stream opens attempt 1 ("start"). A RETRY or FALLBACK ends the
        current attempt ("retried" / "fell_back") and starts the next at its own
        seq. A CONTINUATION sets ``resumed_from`` of the current attempt if that has
        no tokens yet (the usual RETRY, CONTINUATION pair), else it starts a new
        attempt ("continuation") and the one before ends "retried". COMPLETE ends
        an attempt "completed", ERROR "errored" (with the error message as reason;
        an attempt that errored and then retried stays "errored"). An attempt with
        none of these is "running".

        Content rules (proved by the property tests): before a COMPLETE, the
        fold's content is ``A.resumed_from`` of the attempt ``A`` holding the last
        CONTINUATION (the first attempt if there is none) followed by the
        ``content`` of ``A`` and of every later attempt; a run completed by the
        runtime ends with ``resumed_from + content`` of its last attempt.
        """
        return [a.copy() for a in self._attempts()]

    def _attempts(self) -> list[Attempt]:
        cached: list[Attempt] | None = self._cache.get("attempts")
        if cached is None:
            lm_envs = self._lm_envs
            cached = split_attempts(len(self), self._lm_seq, lambda s: lm_envs[s].event,
                                    self._tokens_between, self._token_text)
            self._cache["attempts"] = cached
        return cached

    def attempt_at(self, seq: int) -> Attempt:
        """The attempt that contains ``seq`` (a copy)."""
        self._check(seq)
        attempts = self._attempts()
        starts = [a.start_seq for a in attempts]
        return attempts[bisect_right(starts, seq) - 1].copy()

    # ───────────────────────────── provenance ─────────────────────────────

    def provenance(self, seq: int, offset: int) -> CharProvenance:
        """Where ``content_at(seq)[offset]`` came from (rules: :mod:`.provenance`)."""
        return self._provenance.at(seq, offset)

    def unproduced_spans(
        self, seq: int, start: int = 0, stop: int | None = None
    ) -> list[tuple[int, int]]:
        """The ``[lo, hi)`` ranges of ``content_at(seq)[start:stop]`` that no TOKEN wrote
        (text a COMPLETE or CONTINUATION brought that differs from the tokens)."""
        return self._provenance.unproduced(seq, start, stop)

    def visible_start(self, seq: int) -> int:
        """Where the output of the attempt at ``seq`` begins in ``content_at(seq)``.

        The fold keeps a failed attempt's tokens before the next attempt's; the
        attempt's own output (its checkpoint plus its tokens, or the final content
        after COMPLETE) is ``content_at(seq, visible_start(seq))``.
        """
        self._check(seq)
        return self._provenance.visible_start(seq)

    def attempt_number(self, seq: int) -> int:
        """The number (from 1) of the attempt holding ``seq``, without building attempts."""
        self._check(seq)
        return self._provenance.attempt_number(seq)

    def token_gap_ms(self, seq: int) -> float | None:
        """Milliseconds from the TOKEN before ``seq`` to ``seq`` (None: no earlier token)."""
        self._check(seq)
        before = self._rank.rfind(TOKEN_RANK, 0, seq)
        return self._ts[seq] - self._ts[before] if before >= 0 else None

    # ───────────────────────────── timing ─────────────────────────────

    def ts(self, seq: int) -> float:
        """The recorded ``ts`` of the event at ``seq`` (Unix ms)."""
        self._check(seq)
        return self._ts[seq]

    def relative_ms(self, seq: int) -> float:
        """Milliseconds from the first event to the event at ``seq``."""
        self._check(seq)
        return self._ts[seq] - self._ts[0]

    def delta_ms(self, seq: int) -> float:
        """Milliseconds since the previous event (0 for seq 0)."""
        self._check(seq)
        return self._ts[seq] - self._ts[seq - 1] if seq > 0 else 0.0

    def time_to_first_token_ms(self) -> float | None:
        """From the START event (else the first event) to the first TOKEN; None: no token."""
        first = self._rank.find(TOKEN_RANK)
        if first < 0:
            return None
        starts = self._lm_by_rank[RANK[RecordedEventType.START]]
        origin = self._ts[starts[0]] if starts else self._ts[0]
        return self._ts[first] - origin

    def _token_ts(self) -> array[float]:
        """The ``ts`` of every TOKEN event, in seq order."""
        return array("d", compress(self._ts, self._rank.translate(IS_TOKEN)))

    def _sorted_token_ts(self) -> array[float]:
        cached: array[float] | None = self._cache.get("sorted_token_ts")
        if cached is None:
            cached = array("d", sorted(self._token_ts()))
            self._cache["sorted_token_ts"] = cached
        return cached

    def timing(self, stall_ms: float = 2000.0) -> Timing:
        """Time to first token (from START, else the first event), gaps and stalls."""
        key = ("timing", stall_ms)
        cached: Timing | None = self._cache.get(key)
        if cached is None:
            cached = summarize(self._ts, self._token_ts(), self.time_to_first_token_ms(),
                               stall_ms)
            self._cache[key] = cached
        return cached.copy()

    def rate_buckets(self, buckets: int) -> list[int]:
        """TOKEN events per equal time bucket from the first to the last event."""
        if not self._ts:
            return [0] * max(0, buckets)
        return per_bucket(self._sorted_token_ts(), self._ts[0], self._ts[-1], buckets)

    def gap_buckets(self, buckets: int) -> list[float]:
        """Per equal time bucket (as :meth:`rate_buckets`), the longest inter-token gap
        ending in it, in ms."""
        if not self._ts:
            return [0.0] * max(0, buckets)
        gaps: array[float] | None = self._cache.get("arrival_gaps")
        if gaps is None:
            gaps = self._cache["arrival_gaps"] = arrival_gaps(self._sorted_token_ts())
        return max_gap_per_bucket(self._sorted_token_ts(), gaps, self._ts[0], self._ts[-1],
                                  buckets)

    def attempt_timings(self, stall_ms: float = 2000.0) -> list[AttemptTiming]:
        """Timing of each attempt: first token, gap percentiles, stalls, tokens/s."""
        stalls = self.timing(stall_ms).stalls
        starts = self._provenance.attempt_starts()
        out = []
        for n, start in enumerate(starts, start=1):
            stop = starts[n] if n < len(starts) else len(self)
            stamps = array("d", compress(self._ts[start:stop],
                                         self._rank[start:stop].translate(IS_TOKEN)))
            out.append(attempt_timing(n, start, stop - 1, self._ts[start], stamps, stalls))
        return out

    # ───────────────────────────── search ─────────────────────────────

    def search(
        self,
        pattern: str,
        *,
        regex: bool = False,
        case_sensitive: bool = False,
        scope: str = "all",
    ) -> list[int]:
        """Sorted seqs that match ``pattern`` (a literal unless ``regex``).

        Scopes: ``"token"`` searches the text the TOKEN events appended to the
        content, so a word split over several tokens is found; a match is reported
        at the token holding its first character (matches do not reach back into
        text a CONTINUATION or COMPLETE put in the content). ``"content"`` searches
        the accumulated content and reports the seq at which a match is first
        complete in it (a match inside text that a CONTINUATION or COMPLETE put
        there is reported at that event). ``"payload"`` searches every non-TOKEN
        event's JSON. ``"all"`` is the union. Case-insensitive means
        ``re.IGNORECASE``. An empty pattern matches nothing; a bad regex raises
        ``ValueError``.
        """
        if scope not in SEARCH_SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SEARCH_SCOPES)}, not {scope!r}")
        if not pattern:
            return []
        matcher = Matcher(pattern, regex=regex, case_sensitive=case_sensitive)
        found: set[int] = set()
        if scope != "payload":
            for v, version in enumerate(self._versions):
                lo, hi = self._version_span(v)
                if lo == hi:
                    continue
                text, use_find = matcher.haystack(version.full(), version.lower)
                if scope in ("token", "all"):
                    search_tokens(matcher, text, use_find, version.base_len,
                                  self._c_seq, self._c_len, lo, hi, found)
                if scope in ("content", "all"):
                    search_content(matcher, text, use_find, self._c_seq, self._c_len,
                                   lo, hi, found)
        if scope in ("payload", "all"):
            found.update(search_payloads(matcher, self._payloads()))
        return sorted(found)

    def _payloads(self) -> list[tuple[int, bytes]]:
        """Seq and UTF-8 JSON of every non-TOKEN event (kept across extends; compact)."""
        from l0core.codec import dumps, encode_event

        cached = self._payload_cache
        for seq in self._lm_seq[len(cached) :]:
            cached.append((seq, dumps(encode_event(self._lm_envs[seq].event))))
        return cached

class _BatchSource(Protocol):
    """What :func:`load_timeline` needs from a store (every ``BaseEventStore`` has it)."""

    def iter_batches(
        self, stream_id: str, *, from_seq: int = 0, batch_size: int = 20_000
    ) -> AsyncIterator[list[EventEnvelope]]: ...


async def load_timeline(
    store: _BatchSource,
    stream_id: str,
    *,
    batch_size: int = 20_000,
    on_progress: Callable[[int], object] | None = None,
) -> Timeline:
    """Read a stream from ``store`` batch by batch into a new :class:`Timeline`.

    ``on_progress`` gets the number of events indexed after each batch, so a UI
    can show progress while a long stream loads.
    """
    tl = Timeline(stream_id)
    async for batch in store.iter_batches(stream_id, batch_size=batch_size):
        tl.extend(batch)
        if on_progress is not None:
            on_progress(len(tl))
    return tl
