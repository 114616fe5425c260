"""What the debugger shows, without Textual: one stream, one cursor, and the state around it.

A :class:`DebugSession` holds the stream as loaded so far (a
:class:`~l0core.timeline.Timeline`), the cursor seq, playback, follow and loading
status, the search, and answers the questions the debugger's keys ask (where is the
next retry, where did this field last change, which match comes next). It knows
nothing of widgets: moving the cursor tells its observers, and the debugger screen,
one of them, forwards the seq to its panes. What the title line says is a
:class:`Title`, plain data the screen styles.

This keeps the debugger's rules testable with plain pytest, and the screen a thin
layer of key bindings and widgets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from l0core.events import TERMINAL_TYPES, EventEnvelope, RecordedEventType, StartEvent
from l0core.timeline import Attempt, Timeline
from l0tui.playback import Player
from l0tui.search import StreamSearch

CursorObserver = Callable[[int], None]
"""Called with the new cursor seq after every move."""


@dataclass(frozen=True, slots=True)
class Title:
    """What the debugger's title line says, as raw data (the screen escapes and styles it).

    Equal titles draw the same line: the screen repaints it only when the title changed,
    which most cursor moves do not.
    """

    stream_id: str
    model: str
    """The model the START event names ("" when none)."""
    status: str
    """``empty``, ``running``, ``completed`` or ``error``."""
    playback: str
    """``playing``, ``paused`` or ``end`` (playback stopped at the last event)."""
    speed: float
    pacing: str
    following: bool
    search_text: str
    match_position: int
    """Matches at or before the cursor (0 without a search)."""
    match_count: int
    loading: tuple[int, int] | None
    """(events loaded, events expected) while a load of known size runs, else None."""
    tailing: bool = False
    """Following with the cursor kept on the newest event (until the user moves it)."""


class DebugSession:
    """One stream in the debugger, and everything shown at its cursor.

    ``player`` is the :class:`~l0tui.playback.Player` (its clock injected by tests).
    The session never reads a store: the screen's workers feed it with :meth:`add`.
    """

    def __init__(self, stream_id: str, player: Player | None = None) -> None:
        self.stream_id = stream_id
        self.timeline = Timeline(stream_id)
        self.player = player or Player()
        self.search = StreamSearch()
        self.cursor = 0
        self.model = ""
        """The model the START event names ("" when none)."""
        self.loaded = False
        """The first load finished (follow mode may still add events)."""
        self.expected_total = 0
        """Events the store had when loading started (for the progress shown)."""
        self.following = False
        self.tailing = False
        """The cursor stays on the newest event as events arrive, like ``tail -f``,
        until the user moves it; :meth:`tail` (``G``) resumes."""
        self.follow_finished = False
        """Following ended because the stream finished (nothing more will come)."""
        self.load_error: str | None = None
        self._observers: list[CursorObserver] = []

    def observe(self, observer: CursorObserver) -> None:
        """Call ``observer(seq)`` after every cursor move."""
        self._observers.append(observer)

    # ── the stream ──

    @property
    def is_empty(self) -> bool:
        return len(self.timeline) == 0

    @property
    def is_terminated(self) -> bool:
        """The last event loaded is a COMPLETE or an ERROR."""
        tl = self.timeline
        return len(tl) > 0 and tl.envelope(tl.last_seq).event.type in TERMINAL_TYPES

    @property
    def status(self) -> str:
        """``empty``, ``running``, ``completed`` or ``error``."""
        tl = self.timeline
        if len(tl) == 0:
            return "empty"
        if tl.count(RecordedEventType.ERROR):
            return "error"
        return "completed" if tl.count(RecordedEventType.COMPLETE) else "running"

    @property
    def can_follow(self) -> bool:
        """Whether more events may still come (the stream has not finished)."""
        return not (self.is_terminated or self.follow_finished)

    def add(self, batch: Sequence[EventEnvelope]) -> int | None:
        """Add events loaded or followed; the seq the cursor should move to, if any.

        That is the first seq when these are the first events, or the new last seq
        when following, playback paused, and the cursor tailing (see :attr:`tailing`)
        or at the end (the view sticks to the end like ``tail -f``).
        """
        tl = self.timeline
        first = len(tl) == 0
        at_end = self.cursor >= tl.last_seq or self.tailing
        tl.extend(batch)
        if first and batch and isinstance(batch[0].event, StartEvent):
            self.model = batch[0].event.options.model or ""
        if first:
            return 0
        if self.following and at_end and not self.player.playing:
            return tl.last_seq
        return None

    # ── the cursor ──

    def goto(self, seq: int, *, from_player: bool = False, tail: bool = False) -> None:
        """Move the cursor to ``seq``, clamped to what is loaded, and tell the observers.

        A move the user made while playing re-anchors playback there; ``from_player``
        marks the moves playback itself makes, ``tail`` the moves that keep the
        cursor on the newest event. Any other move stops :attr:`tailing`.
        """
        tl = self.timeline
        if len(tl) == 0:
            return
        if not tail and not from_player:
            self.tailing = False
        seq = max(0, min(tl.last_seq, seq))
        self.cursor = seq
        if not from_player:
            self.player.seek(seq)
        for observer in self._observers:
            observer(seq)

    def tail(self) -> None:
        """Go to the newest event and stay there as events arrive (while the stream
        may still grow; else just go to the end)."""
        self.tailing = self.can_follow
        self.goto(self.timeline.last_seq, tail=True)

    @property
    def envelope(self) -> EventEnvelope | None:
        """The event at the cursor (None before anything is loaded)."""
        return None if self.is_empty else self.timeline.envelope(self.cursor)

    @property
    def attempt(self) -> Attempt | None:
        """The attempt the cursor is in (None before anything is loaded)."""
        return None if self.is_empty else self.timeline.attempt_at(self.cursor)

    @property
    def changed(self) -> frozenset[str]:
        """The state fields the event at the cursor changed."""
        return frozenset() if self.is_empty else self.timeline.changed_fields(self.cursor)

    # ── where the keys go (None: there is nothing there) ──

    def landmark(self, direction: int, kind: RecordedEventType | None = None) -> int | None:
        """The next (``direction > 0``) or previous non-token event, of ``kind`` if given."""
        if self.is_empty:
            return None
        if direction > 0:
            return self.timeline.next_landmark(self.cursor, kind)
        return self.timeline.previous_landmark(self.cursor, kind)

    def first_of(self, kind: RecordedEventType) -> int | None:
        """The first event of ``kind``."""
        seqs = self.timeline.landmarks(kind)
        return seqs[0] if seqs else None

    def field_change(self, field: str, direction: int) -> int | None:
        """Where ``field`` last changed, at or before the cursor (``direction < 0``), or
        where it changes next."""
        if self.is_empty:
            return None
        if direction < 0:
            return self.timeline.field_last_changed(field, self.cursor)
        return self.timeline.field_next_change(field, self.cursor)

    def seq_from_text(self, text: str) -> int:
        """The seq typed as ``text``: ``12``, ``#12``, or negative from the end (``-1``
        is the last). Raises ``ValueError`` when it is not a number."""
        seq = int(text.strip().lstrip("#"))
        return len(self.timeline) + seq if seq < 0 else seq

    # ── search ──

    @property
    def matches(self) -> list[int]:
        return self.search.matches

    def run_search(self, text: str) -> None:
        """Search the loaded events for ``text`` (``re:`` prefix: a regular expression).

        Raises ``ValueError`` for a bad regular expression.
        """
        self.search.run(self.timeline, text)

    def match(self, direction: int, *, inclusive: bool = False) -> int | None:
        """The next or previous match from the cursor, wrapping around."""
        return self.search.target(self.cursor, direction, inclusive=inclusive)

    # ── playback ──

    def play_pause(self) -> None:
        """Pause, or play from the cursor (from the first event when at the end)."""
        if self.player.playing:
            self.player.pause()
            return
        self.player.play(self.timeline, self.cursor)
        if self.player.playing and self.cursor >= self.timeline.last_seq:
            self.goto(0, from_player=True)

    def tick(self) -> bool:
        """Move the cursor where playback is now. True when playback stopped by itself
        without moving the cursor (only the title changes)."""
        was_playing = self.player.playing
        seq = self.player.tick()
        if seq is not None and seq != self.cursor:
            self.goto(seq, from_player=True)
            return False
        return was_playing and not self.player.playing

    # ── what the title and the scrubber say ──

    def title(self) -> Title:
        player = self.player
        playback = "playing" if player.playing else ("end" if player.at_end else "paused")
        searching = bool(self.search.text)
        loading = (len(self.timeline), self.expected_total) if (
            not self.loaded and self.expected_total) else None
        return Title(
            stream_id=self.stream_id,
            model=self.model,
            status=self.status,
            playback=playback,
            speed=player.speed,
            pacing=player.pacing,
            following=self.following,
            search_text=self.search.text,
            match_position=self.search.position(self.cursor) if searching else 0,
            match_count=len(self.search.matches),
            loading=loading,
            tailing=self.following and self.tailing,
        )

    @property
    def loading_note(self) -> str:
        """Progress shown under the scrubber while the first load runs."""
        if self.loaded:
            return ""
        return f"loading {len(self.timeline):,}/{self.expected_total:,}"
