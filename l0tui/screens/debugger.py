"""The time-travel debugger for one stream.

A cursor seq drives every pane: the scrubber (minimap), the rate strip, the event
list, the state panel and the content view. What is shown at the cursor, and where
each key moves it, is a :class:`~l0tui.debug_session.DebugSession` (no Textual in
it); this screen binds the keys to it, forwards each cursor move to the panes, and
feeds it events: the stream loads in a worker, a small first batch then big ones, and
the screen is usable for the part already loaded. Playback moves the cursor from a
clock; follow mode appends events as the stream is written (``store.subscribe``).
A stream still being written opens on its newest event and stays there as events
arrive (``tail -f``) until the user moves the cursor; ``G`` / end resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from l0core.events import EventEnvelope, RecordedEventType
from l0core.stores.base import BaseEventStore
from l0core.timeline import Timeline
from l0tui import heap
from l0tui.debug_export import EXPORT_CHOICES, write_export
from l0tui.debug_session import DebugSession
from l0tui.display.escape import clean
from l0tui.export import save_svg
from l0tui.loading import error_text, iter_event_batches
from l0tui.messages import OpenDiff
from l0tui.playback import Player
from l0tui.screens.event_detail import EventDetailScreen
from l0tui.screens.kind_picker import KindPickerScreen
from l0tui.screens.lineage import LineageScreen
from l0tui.screens.prompt import PromptScreen
from l0tui.widgets.content_view import ContentView
from l0tui.widgets.debug_title import DebuggerTitle
from l0tui.widgets.event_list import EventList
from l0tui.widgets.rate_strip import RateStrip
from l0tui.widgets.scrubber import Scrubber
from l0tui.widgets.state_panel import StatePanel

TICK_SECONDS = 1 / 30
"""How often playback and follow mode update the screen."""
FOLLOW_FLUSH = 2_000
"""Followed events are added to the timeline in batches of at most this many."""


class DebuggerScreen(Screen[None]):
    """Scrub, step, search and play one recorded stream.

    ``session`` holds what is shown. State worth asserting in tests (read-only views
    of the session): ``cursor`` (seq), ``timeline``, ``player`` (``playing``,
    ``speed``, ``pacing``), ``following``, ``loaded``, ``matches``, ``load_error``.
    """

    HELP = """\
## Debugger

One stream, one cursor. Every pane shows the stream at the cursor's seq.

- **j / k**, **down / up**: step; **J / K**: ten steps; **g / G**, **home / end**: first / last
- **[ / ]**: previous / next non-token event
- **r / R** retry, **v / V** guardrail violation, **e / E** error: next / previous
- **t** then a letter: next event of that kind (**T**: previous); letters: s start,
  k checkpoint, g guardrail, d drift, r retry, f fallback, c continuation,
  o complete, e error
- **:** go to seq (negative counts from the end); **/** search (prefix `re:` for a
  regex), **n / N** next / previous match
- **space** play / pause, **+ / -** speed (0.25x to 64x), **p** recorded or uniform pacing
- **f** follow a stream that is still being written; one that is opens on its newest
  event and stays there (the title says `tail`) until you move; **G** resumes
- **a**: the attempts (what started each, backoff, how it ended, what a continuation
  carried over); enter goes to one
- **w**: the rate strip shows the gaps between tokens (p50 / p95 marked, stalls)
- **tab** to the content, then **arrows** or a click: where the character under the
  text cursor came from; **o**: go to the TOKEN that wrote it
- **c / C**: jump to where the selected state field last / next changes
- **enter**: the whole event; **d**: compare with another stream; **x**: export (JSONL,
  Markdown report, SVG); **q**: back
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "step(1)", "Step", id="debugger.step_forward"),
        Binding("k,up", "step(-1)", "Back", show=False, id="debugger.step_back"),
        Binding("J,shift+down", "step(10)", "+10", show=False, id="debugger.step_forward_10"),
        Binding("K,shift+up", "step(-10)", "-10", show=False, id="debugger.step_back_10"),
        Binding("g,home", "first", "First", show=False, id="debugger.first"),
        Binding("G,end", "last", "Last", show=False, id="debugger.last"),
        Binding("right_square_bracket", "landmark(1)", "Next event",
                id="debugger.next_landmark"),
        Binding("left_square_bracket", "landmark(-1)", "Prev event", show=False,
                id="debugger.previous_landmark"),
        Binding("r", "kind('RETRY', 1)", "Next retry", show=False, id="debugger.next_retry"),
        Binding("R", "kind('RETRY', -1)", "Prev retry", show=False,
                id="debugger.previous_retry"),
        Binding("v", "kind('GUARDRAIL', 1)", "Next violation", show=False,
                id="debugger.next_guardrail"),
        Binding("V", "kind('GUARDRAIL', -1)", "Prev violation", show=False,
                id="debugger.previous_guardrail"),
        Binding("e", "kind('ERROR', 1)", "Next error", show=False, id="debugger.next_error"),
        Binding("E", "kind('ERROR', -1)", "Prev error", show=False,
                id="debugger.previous_error"),
        Binding("t", "pick_kind(1)", "Next of kind", show=False, id="debugger.next_kind"),
        Binding("T", "pick_kind(-1)", "Prev of kind", show=False, id="debugger.previous_kind"),
        Binding("colon", "goto_prompt", "Go to", id="debugger.goto"),
        Binding("slash", "search_prompt", "Search", id="debugger.search"),
        Binding("n", "match(1)", "Next match", show=False, id="debugger.next_match"),
        Binding("N", "match(-1)", "Prev match", show=False, id="debugger.previous_match"),
        Binding("space", "play", "Play", id="debugger.play"),
        Binding("plus,equals_sign", "faster", "Faster", id="debugger.faster"),
        Binding("minus", "slower", "Slower", id="debugger.slower"),
        Binding("p", "pacing", "Pacing", show=False, id="debugger.pacing"),
        Binding("f", "follow", "Follow", show=False, id="debugger.follow"),
        Binding("a", "attempts", "Attempts", show=False, id="debugger.attempts"),
        Binding("w", "gaps", "Gaps", show=False, id="debugger.gaps"),
        Binding("c", "field_change(-1)", "Last change", show=False,
                id="debugger.field_last_change"),
        Binding("C", "field_change(1)", "Next change", show=False,
                id="debugger.field_next_change"),
        Binding("enter", "show_event", "Event", show=False, id="debugger.show_event"),
        Binding("d", "compare", "Compare", id="debugger.compare"),
        Binding("x", "export", "Export", show=False, id="debugger.export"),
        Binding("q,escape", "back", "Back", id="debugger.back"),
    ]

    def __init__(self, store: BaseEventStore, stream_id: str, *,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.store = store
        self.stream_id = stream_id
        self.session = DebugSession(stream_id, Player(clock or time.monotonic))
        self.session.observe(self._show_cursor)
        self._follow_buffer: list[EventEnvelope] = []
        self._batches = 0
        self._settled = False  # heap.settle() was called for this screen's stream
        self._moved_at = 0.0  # time.monotonic() of the last cursor move
        self.first_paint_at: float | None = None
        self.damage_note: str | None = None
        """What is wrong with the stream's stored seqs, when the store found damage."""
        """``time.perf_counter()`` after the first frame with events (benchmarks read it)."""
        # The panes, made here so that a cursor move reaches them without a DOM query.
        self.scrubber = Scrubber(id="scrubber")
        self.rate_strip = RateStrip(id="rate")
        self.event_list = EventList(id="events")
        self.state_panel = StatePanel(id="state")
        self.content_view = ContentView(id="content")
        self.title_bar = DebuggerTitle(id="debug-title")

    @property
    def help_title(self) -> str:
        return f"Debugger · {clean(self.stream_id, limit=60)}"

    # ── the session, as tests and the benchmarks read it ──

    @property
    def timeline(self) -> Timeline:
        return self.session.timeline

    @property
    def player(self) -> Player:
        return self.session.player

    @property
    def cursor(self) -> int:
        return self.session.cursor

    @property
    def loaded(self) -> bool:
        return self.session.loaded

    @property
    def following(self) -> bool:
        return self.session.following

    @property
    def matches(self) -> list[int]:
        return self.session.matches

    @property
    def load_error(self) -> str | None:
        return self.session.load_error

    @property
    def title_text(self) -> str:
        return str(self.title_bar.render())

    # ── layout ──

    def compose(self) -> ComposeResult:
        yield self.title_bar
        yield Static("", id="debug-error", classes="banner")
        yield self.scrubber
        yield self.rate_strip
        # The borders belong to plain containers around the panes: a container's
        # lines stay cached while the pane inside repaints on every seek.
        with Horizontal(id="debug-body"):
            with Vertical(id="events-box"):
                yield self.event_list
            with Vertical(id="debug-side"):
                with Vertical(id="state-box"):
                    yield self.state_panel
                with Vertical(id="content-box"):
                    yield self.content_view
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#debug-error").display = False
        for widget in (self.scrubber, self.rate_strip, self.event_list):
            widget.set_timeline(self.timeline)
        self.event_list.focus()
        self._refresh_title()
        self.set_interval(TICK_SECONDS, self.tick)
        self.set_interval(heap.COLLECT_SECONDS, self._collect)
        self.load()

    def _collect(self) -> None:
        heap.collect_between_frames(time.monotonic() - self._moved_at)

    def on_unmount(self) -> None:
        if self._settled:
            self._settled = False
            heap.release()

    def on_resize(self) -> None:
        self.set_class(self.size.height < 32, "-short")

    # ── the cursor ──

    def goto(self, seq: int, *, from_player: bool = False) -> None:
        """Move the cursor to ``seq`` (clamped to what is loaded) and update every pane."""
        self.session.goto(seq, from_player=from_player)

    def _show_cursor(self, seq: int) -> None:
        """The session's cursor moved to ``seq``: every pane shows it.

        The scrubber, rate strip and event list repaint only the rows that changed;
        the state panel and the content view read just what they show.
        """
        self._moved_at = time.monotonic()
        tl = self.timeline
        self.scrubber.cursor = seq
        self.rate_strip.cursor = seq
        self.event_list.cursor = seq
        self.state_panel.update_from(tl, seq)
        self.content_view.update_from(tl, seq)
        self._refresh_title()

    def _refresh_title(self) -> None:
        self.title_bar.show(self.session.title())
        self.scrubber.note = self.session.loading_note

    def tick(self) -> None:
        """Advance playback by the clock, and flush followed events."""
        self._flush_follow()
        if self.session.tick():
            self._refresh_title()

    # ── loading and following ──

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        session = self.session
        try:
            session.expected_total = max(0, await self.store.get_last_seq(self.stream_id) + 1)
            async for batch in iter_event_batches(self.store, self.stream_id,
                                                  from_seq=len(self.timeline)):
                self._extend(batch)
        except Exception as exc:  # shown on screen; the part loaded stays usable
            self._show_error(f"could not read {self.stream_id}: {error_text(exc)}")
        session.loaded = True
        if not self._settled:
            heap.settle()
            self._settled = True
        self.rate_strip.timeline_grew()
        if session.is_empty and session.load_error is None:
            self._show_error(f"stream {self.stream_id!r} has no events in "
                             f"{self.store.describe()}")
        self._refresh_title()
        if session.load_error is None and not session.is_empty and not session.is_terminated:
            # still being written: show the newest event and keep showing it
            if session.cursor == 0 or session.tailing:
                session.tail()
            self.set_follow(True)
        if session.load_error is None and not session.is_empty:
            await self._note_damage()

    async def _note_damage(self) -> None:
        """Say so when the stored seqs are damaged (stores of the spec's example layouts)."""
        try:
            damage = await self.store.seq_damage(self.stream_id)
        except Exception:  # the events read; a failed check only loses the note
            return
        if damage:
            self.damage_note = damage.describe()
            self.notify(clean(self.damage_note, limit=400), title="stored seqs damaged",
                        severity="warning", timeout=15)

    def _extend(self, batch: list[EventEnvelope]) -> None:
        first = self.session.is_empty
        target = self.session.add(batch)
        self._batches += 1
        self.scrubber.timeline_grew()
        self.event_list.timeline_grew()
        if self.loaded or self._batches % 10 == 1:
            self.rate_strip.timeline_grew()  # timing stats cost O(n log n): not every batch
        if target is not None:
            self.session.goto(target, tail=True)  # not the user's move: keeps tailing
        else:
            self._refresh_title()
        if first:
            self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        if self.first_paint_at is None:
            self.first_paint_at = time.perf_counter()

    def set_follow(self, on: bool) -> None:
        if on and not self.session.can_follow:
            self.notify("This stream has finished; nothing to follow.", title="follow")
            on = False
        self.session.following = on
        if on:
            self.follow()
        else:
            self.workers.cancel_group(self, "follow")
        self._refresh_title()

    @work(exclusive=True, group="follow")
    async def follow(self) -> None:
        try:
            async for env in self.store.subscribe(self.stream_id,
                                                  after_seq=self.timeline.last_seq):
                self._follow_buffer.append(env)
                if len(self._follow_buffer) >= FOLLOW_FLUSH:
                    self._flush_follow()
        except Exception as exc:
            self._show_error(f"follow stopped: {error_text(exc)}")
        self._flush_follow()
        self.session.following = False
        self.session.follow_finished = self.session.is_terminated
        self._refresh_title()

    def _flush_follow(self) -> None:
        if self._follow_buffer:
            batch, self._follow_buffer = self._follow_buffer, []
            self._extend(batch)

    def _show_error(self, message: str | None) -> None:
        self.session.load_error = message
        banner = self.query_one("#debug-error", Static)
        banner.display = message is not None
        if message is not None:
            banner.update(Text(clean(message, limit=400)))
            self.notify(clean(message, limit=400), title="load", severity="error")

    # ── navigation actions ──

    def action_step(self, n: int) -> None:
        self.goto(self.cursor + n)

    def action_first(self) -> None:
        self.goto(0)

    def action_last(self) -> None:
        self.session.tail()
        self._refresh_title()

    def _jump(self, seq: int | None, what: str) -> None:
        if seq is None:
            self.notify(f"No {what}.", title="jump")
        else:
            self.goto(seq)

    def action_landmark(self, direction: int) -> None:
        if self.session.is_empty:
            return
        later = direction > 0
        self._jump(self.session.landmark(direction),
                   "later non-token event" if later else "earlier non-token event")

    def jump_kind(self, kind: RecordedEventType, direction: int) -> None:
        if self.session.is_empty:
            return
        where = "later" if direction > 0 else "earlier"
        self._jump(self.session.landmark(direction, kind), f"{where} {kind.value}")

    def action_kind(self, kind: str, direction: int) -> None:
        self.jump_kind(RecordedEventType(kind), direction)

    def action_pick_kind(self, direction: int) -> None:
        def chosen(kind: RecordedEventType | None) -> None:
            if kind is not None:
                self.jump_kind(kind, direction)

        self.app.push_screen(KindPickerScreen("next" if direction > 0 else "previous"), chosen)

    def jump_first(self, kind: RecordedEventType) -> None:
        self._jump(self.session.first_of(kind), kind.value)

    def action_goto_prompt(self) -> None:
        hint = f"0 to {self.timeline.last_seq}; negative counts from the end"
        self.app.push_screen(PromptScreen("Go to seq", placeholder="seq", hint=hint),
                             self.goto_text)

    def goto_text(self, text: str | None) -> None:
        if text is None or not text.strip():
            return
        try:
            seq = self.session.seq_from_text(text)
        except ValueError:
            self.notify(f"Not a seq: {clean(text, limit=40)}", severity="warning")
            return
        self.goto(seq)

    def action_search_prompt(self) -> None:
        self.app.push_screen(
            PromptScreen("Search tokens, content and payloads",
                         value=self.session.search.text,
                         placeholder="text (re:PATTERN for a regex)",
                         hint="n / N: next / previous match"),
            self.search,
        )

    def search(self, text: str | None) -> None:
        """Search the loaded events for ``text`` and jump to the first match after the
        cursor (``re:`` prefix: a regular expression)."""
        if text is None:
            return
        try:
            self.session.run_search(text)
        except ValueError as exc:
            self.notify(clean(str(exc), limit=200), title="search", severity="error")
        if text and not self.matches:
            self.notify(f"No match for {clean(text, limit=40)}", title="search")
        if self.matches:
            self.action_match(1, inclusive=True)
        else:
            self._refresh_title()

    def action_match(self, direction: int, inclusive: bool = False) -> None:
        target = self.session.match(direction, inclusive=inclusive)
        if target is not None:
            self.goto(target)
        elif self.session.search.text:
            self.notify("No matches.", title="search")

    def action_field_change(self, direction: int) -> None:
        if self.session.is_empty:
            return
        field = self.state_panel.selected
        what = f"change of {field}" if direction < 0 else f"later change of {field}"
        self._jump(self.session.field_change(field, direction), what)

    # ── playback and follow actions ──

    def action_play(self) -> None:
        self.session.play_pause()
        self._refresh_title()

    def action_faster(self) -> None:
        self.player.faster()
        self._refresh_title()

    def action_slower(self) -> None:
        self.player.slower()
        self._refresh_title()

    def action_pacing(self) -> None:
        self.player.toggle_pacing()
        self._refresh_title()

    def action_follow(self) -> None:
        self.set_follow(not self.following)

    def action_gaps(self) -> None:
        self.rate_strip.toggle_gaps()

    def action_attempts(self) -> None:
        """The attempt lineage; enter there moves the cursor to the attempt chosen."""
        if self.session.is_empty:
            return

        def chosen(seq: int | None) -> None:
            if seq is not None:
                self.goto(seq)

        self.app.push_screen(LineageScreen(self.timeline, self.cursor), chosen)

    # ── other actions ──

    def action_show_event(self) -> None:
        envelope = self.session.envelope
        if envelope is not None:
            self.app.push_screen(EventDetailScreen(envelope))

    def export(self, kind: str) -> str | None:
        """Write an export into the current directory and say where; the path or None.

        ``kind``: ``"jsonl"`` (the whole stream), ``"jsonl-to-cursor"`` (events up to
        and including the cursor), ``"markdown"`` (the report) or ``"svg"`` (this screen).
        """
        try:
            path = write_export(self.session, kind, source=self.store.describe(),
                                screenshot=partial(save_svg, self.app))
        except (OSError, ValueError) as exc:
            self.notify(error_text(exc), title="export", severity="error")
            return None
        self.notify(clean(path, limit=200), title="exported")
        return path

    def action_export(self) -> None:
        """Choose what to export: JSONL (whole or up to the cursor), Markdown, SVG."""
        self.app.search_commands(
            [(c.name, partial(self.export, c.kind), c.help) for c in EXPORT_CHOICES],
            placeholder="Export what? (written to the current directory)",
        )

    async def action_compare(self) -> None:
        """Choose a second stream (from this store) and open the diff screen."""
        try:
            ids = sorted(await self.store.list_streams())
        except Exception as exc:
            self.notify(error_text(exc), title="compare", severity="error")
            return
        others = [i for i in ids if i != self.stream_id]
        if not others:
            self.notify("No other stream to compare with.", title="compare")
            return
        commands = [
            (f"compare with {clean(other, limit=80)}", partial(self.compare_with, other),
             f"diff {clean(self.stream_id, limit=40)} against {clean(other, limit=40)}")
            for other in others
        ]
        self.app.search_commands(commands, placeholder="Compare with which stream?")

    def compare_with(self, other_id: str) -> None:
        """Ask the app for the diff of this stream against ``other_id`` (same store)."""
        self.post_message(OpenDiff(self, self.store, self.stream_id, self.store, other_id))

    def action_back(self) -> None:
        self.player.pause()
        self.workers.cancel_group(self, "follow")
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit(0)

    # ── messages from the panes ──

    @on(Scrubber.Seek, "#scrubber")
    def scrubbed(self, message: Scrubber.Seek) -> None:
        self.goto(message.seq)

    @on(EventList.Picked, "#events")
    def picked(self, message: EventList.Picked) -> None:
        self.goto(message.seq)

    @on(EventList.Activated, "#events")
    def activated(self, message: EventList.Activated) -> None:
        self.goto(message.seq)
        self.action_show_event()

    @on(StatePanel.JumpTo, "#state")
    def jump_to_field(self, message: StatePanel.JumpTo) -> None:
        self.goto(message.seq)

    @on(ContentView.JumpTo, "#content")
    def jump_to_token(self, message: ContentView.JumpTo) -> None:
        self.goto(message.seq)
