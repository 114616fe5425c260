"""The time-travel debugger for one stream.

A cursor seq drives every pane: the scrubber (minimap), the rate strip, the event
list, the state panel and the content view. The stream loads in a worker, a small
first batch then big ones, into a :class:`~l0core.timeline.Timeline`; the screen is
usable for the part already loaded. Playback moves the cursor from a clock; follow
mode appends events as the stream is written (``store.subscribe``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from l0core.events import TERMINAL_TYPES, EventEnvelope, RecordedEventType, StartEvent
from l0core.stores.base import BaseEventStore
from l0core.timeline import Timeline
from l0tui import heap
from l0tui.loading import error_text, iter_event_batches
from l0tui.playback import Player, format_speed
from l0tui.screens.event_detail import EventDetailScreen
from l0tui.screens.kind_picker import KindPickerScreen
from l0tui.screens.prompt import PromptScreen
from l0tui.text import clean
from l0tui.widgets.content_view import ContentView
from l0tui.widgets.event_list import EventList
from l0tui.widgets.rate_strip import RateStrip
from l0tui.widgets.scrubber import Scrubber
from l0tui.widgets.state_panel import StatePanel

TICK_SECONDS = 1 / 30
"""How often playback and follow mode update the screen."""
FOLLOW_FLUSH = 2_000
"""Followed events are added to the timeline in batches of at most this many."""

K = RecordedEventType


class DebuggerScreen(Screen[None]):
    """Scrub, step, search and play one recorded stream.

    State worth asserting in tests: ``cursor`` (seq), ``timeline``, ``player``
    (``playing``, ``speed``, ``pacing``), ``following``, ``loaded``, ``matches``.
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
- **f** follow a stream that is still being written
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
        self.timeline = Timeline(stream_id)
        self.player = Player(clock or time.monotonic)
        self.cursor = 0
        self.loaded = False
        self.expected_total = 0
        self.following = False
        self.follow_finished = False
        self.load_error: str | None = None
        self.matches: list[int] = []
        self.search_text = ""
        self.model = ""
        self._follow_buffer: list[EventEnvelope] = []
        self._batches = 0
        self._settled = False  # heap.settle() was called for this screen's stream
        self._moved_at = 0.0  # time.monotonic() of the last cursor move
        self._title_bits: list[tuple[str, str]] = []
        self.first_paint_at: float | None = None
        """``time.perf_counter()`` after the first frame with events (benchmarks read it)."""

    @property
    def help_title(self) -> str:
        return f"Debugger · {clean(self.stream_id, limit=60)}"

    # ── layout ──

    def compose(self) -> ComposeResult:
        yield Static("", id="debug-title")
        yield Static("", id="debug-error", classes="banner")
        yield Scrubber(id="scrubber")
        yield RateStrip(id="rate")
        # The borders belong to plain containers around the panes: a container's
        # lines stay cached while the pane inside repaints on every seek.
        with Horizontal(id="debug-body"):
            with Vertical(id="events-box"):
                yield EventList(id="events")
            with Vertical(id="debug-side"):
                with Vertical(id="state-box"):
                    yield StatePanel(id="state")
                with Vertical(id="content-box"):
                    yield ContentView(id="content")
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

    @property
    def scrubber(self) -> Scrubber:
        return self.query_one("#scrubber", Scrubber)

    @property
    def rate_strip(self) -> RateStrip:
        return self.query_one("#rate", RateStrip)

    @property
    def event_list(self) -> EventList:
        return self.query_one("#events", EventList)

    @property
    def state_panel(self) -> StatePanel:
        return self.query_one("#state", StatePanel)

    @property
    def content_view(self) -> ContentView:
        return self.query_one("#content", ContentView)

    @property
    def title_text(self) -> str:
        return str(self.query_one("#debug-title", Static).render())

    # ── loading and following ──

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        try:
            self.expected_total = max(0, await self.store.get_last_seq(self.stream_id) + 1)
            async for batch in iter_event_batches(self.store, self.stream_id,
                                                  from_seq=len(self.timeline)):
                self._extend(batch)
        except Exception as exc:  # shown on screen; the part loaded stays usable
            self._show_error(f"could not read {self.stream_id}: {error_text(exc)}")
        self.loaded = True
        if not self._settled:
            heap.settle()
            self._settled = True
        self.rate_strip.timeline_grew()
        if len(self.timeline) == 0 and self.load_error is None:
            self._show_error(f"stream {self.stream_id!r} has no events in "
                             f"{self.store.describe()}")
        self._refresh_title()
        if self.load_error is None and len(self.timeline) and not self.is_terminated:
            self.set_follow(True)

    @property
    def is_terminated(self) -> bool:
        tl = self.timeline
        return len(tl) > 0 and tl.envelope(tl.last_seq).event.type in TERMINAL_TYPES

    def _extend(self, batch: list[EventEnvelope]) -> None:
        first = len(self.timeline) == 0
        self.timeline.extend(batch)
        if first and batch and isinstance(batch[0].event, StartEvent):
            self.model = batch[0].event.options.model or ""
        self._batches += 1
        self.scrubber.timeline_grew()
        self.event_list.timeline_grew()
        if self.loaded or self._batches % 10 == 1:
            self.rate_strip.timeline_grew()  # timing stats cost O(n log n): not every batch
        at_end = self.cursor >= len(self.timeline) - len(batch) - 1
        if first:
            self.goto(0)
            self.call_after_refresh(self._painted)
        elif self.following and at_end and not self.player.playing:
            self.goto(self.timeline.last_seq)
        else:
            self._refresh_title()

    def _painted(self) -> None:
        if self.first_paint_at is None:
            self.first_paint_at = time.perf_counter()

    def set_follow(self, on: bool) -> None:
        if on and (self.is_terminated or self.follow_finished):
            self.notify("This stream has finished; nothing to follow.", title="follow")
            on = False
        self.following = on
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
        self.following = False
        self.follow_finished = self.is_terminated
        self._refresh_title()

    def _flush_follow(self) -> None:
        if self._follow_buffer:
            batch, self._follow_buffer = self._follow_buffer, []
            self._extend(batch)

    def _show_error(self, message: str | None) -> None:
        self.load_error = message
        banner = self.query_one("#debug-error", Static)
        banner.display = message is not None
        if message is not None:
            banner.update(Text(clean(message, limit=400)))
            self.notify(clean(message, limit=400), title="load", severity="error")

    # ── the cursor ──

    def goto(self, seq: int, *, from_player: bool = False) -> None:
        """Move the cursor to ``seq`` (clamped to what is loaded) and update every pane."""
        tl = self.timeline
        if len(tl) == 0:
            return
        seq = max(0, min(tl.last_seq, seq))
        self._moved_at = time.monotonic()
        self.cursor = seq
        self.scrubber.cursor = seq
        self.rate_strip.cursor = seq
        self.event_list.cursor = seq
        self.state_panel.update_from(tl, seq)
        self.content_view.update_from(tl, seq)
        if not from_player:
            self.player.seek(seq)
        self._refresh_title()

    def tick(self) -> None:
        """Advance playback by the clock, and flush followed events."""
        self._flush_follow()
        was_playing = self.player.playing
        seq = self.player.tick()
        if seq is not None and seq != self.cursor:
            self.goto(seq, from_player=True)
        elif was_playing and not self.player.playing:
            self._refresh_title()

    def _refresh_title(self) -> None:
        tl = self.timeline
        bits: list[tuple[str, str]] = [
            (clean(self.stream_id, limit=60), "bold"),
            (f"  {clean(self.model, limit=30)}" if self.model else "", "dim"),
        ]
        status = ("error" if tl.count(K.ERROR) else "completed" if tl.count(K.COMPLETE)
                  else "running") if len(tl) else "empty"
        bits.append((f"  {status}", {"error": "bold red", "completed": "green"}.get(
            status, "yellow")))
        bits.append(("  │ ", "dim"))
        if self.player.playing:
            bits.append(("▶ playing", "bold green"))
        else:
            bits.append(("❚❚ paused" if not self.player.at_end else "■ end", "bold"))
        bits.append((f" {format_speed(self.player.speed)} {self.player.pacing}", ""))
        if self.following:
            bits.append(("  │ follow", "bold cyan"))
        if self.search_text:
            pos = sum(1 for m in self.matches if m <= self.cursor)
            bits.append((f"  │ /{clean(self.search_text, limit=30)} {pos}/{len(self.matches)}",
                         "magenta"))
        if not self.loaded and self.expected_total:
            pct = 100 * len(tl) // max(1, self.expected_total)
            bits.append((f"  │ loading {pct}% ({len(tl):,}/{self.expected_total:,})",
                         "bold yellow"))
        if bits != self._title_bits:  # most cursor moves leave the title as it was
            self._title_bits = bits
            self.query_one("#debug-title", Static).update(Text.assemble(*bits), layout=False)
        note = "" if self.loaded else f"loading {len(tl):,}/{self.expected_total:,}"
        self.scrubber.note = note

    # ── navigation actions ──

    def action_step(self, n: int) -> None:
        self.goto(self.cursor + n)

    def action_first(self) -> None:
        self.goto(0)

    def action_last(self) -> None:
        self.goto(self.timeline.last_seq)

    def _jump(self, seq: int | None, what: str) -> None:
        if seq is None:
            self.notify(f"No {what}.", title="jump")
        else:
            self.goto(seq)

    def action_landmark(self, direction: int) -> None:
        tl = self.timeline
        if len(tl) == 0:
            return
        if direction > 0:
            self._jump(tl.next_landmark(self.cursor), "later non-token event")
        else:
            self._jump(tl.previous_landmark(self.cursor), "earlier non-token event")

    def jump_kind(self, kind: RecordedEventType, direction: int) -> None:
        tl = self.timeline
        if len(tl) == 0:
            return
        name = kind.value
        if direction > 0:
            self._jump(tl.next_landmark(self.cursor, kind), f"later {name}")
        else:
            self._jump(tl.previous_landmark(self.cursor, kind), f"earlier {name}")

    def action_kind(self, kind: str, direction: int) -> None:
        self.jump_kind(RecordedEventType(kind), direction)

    def action_pick_kind(self, direction: int) -> None:
        def chosen(kind: RecordedEventType | None) -> None:
            if kind is not None:
                self.jump_kind(kind, direction)

        self.app.push_screen(KindPickerScreen("next" if direction > 0 else "previous"), chosen)

    def jump_first(self, kind: RecordedEventType) -> None:
        seqs = self.timeline.landmarks(kind)
        self._jump(seqs[0] if seqs else None, kind.value)

    def action_goto_prompt(self) -> None:
        hint = f"0 to {self.timeline.last_seq}; negative counts from the end"
        self.app.push_screen(PromptScreen("Go to seq", placeholder="seq", hint=hint),
                             self.goto_text)

    def goto_text(self, text: str | None) -> None:
        if text is None or not text.strip():
            return
        try:
            seq = int(text.strip().lstrip("#"))
        except ValueError:
            self.notify(f"Not a seq: {clean(text, limit=40)}", severity="warning")
            return
        if seq < 0:
            seq = len(self.timeline) + seq
        self.goto(seq)

    def action_search_prompt(self) -> None:
        self.app.push_screen(
            PromptScreen("Search tokens, content and payloads", value=self.search_text,
                         placeholder="text (re:PATTERN for a regex)",
                         hint="n / N: next / previous match"),
            self.search,
        )

    def search(self, text: str | None) -> None:
        """Search the loaded events for ``text`` and jump to the first match after the
        cursor (``re:`` prefix: a regular expression)."""
        if text is None:
            return
        self.search_text = text
        if not text:
            self.matches = []
            self._refresh_title()
            return
        regex = text.startswith("re:")
        pattern = text[3:] if regex else text
        try:
            self.matches = self.timeline.search(pattern, regex=regex)
        except ValueError as exc:
            self.matches = []
            self.notify(clean(str(exc), limit=200), title="search", severity="error")
        if not self.matches:
            self.notify(f"No match for {clean(text, limit=40)}", title="search")
            self._refresh_title()
            return
        self.action_match(1, inclusive=True)

    def action_match(self, direction: int, inclusive: bool = False) -> None:
        if not self.matches:
            if self.search_text:
                self.notify("No matches.", title="search")
            return
        if direction > 0:
            later = [m for m in self.matches if m > self.cursor or (inclusive and m == self.cursor)]
            target = later[0] if later else self.matches[0]
        else:
            earlier = [m for m in self.matches if m < self.cursor]
            target = earlier[-1] if earlier else self.matches[-1]
        self.goto(target)

    def action_field_change(self, direction: int) -> None:
        field = self.state_panel.selected
        tl = self.timeline
        if len(tl) == 0:
            return
        if direction < 0:
            self._jump(tl.field_last_changed(field, self.cursor), f"change of {field}")
        else:
            self._jump(tl.field_next_change(field, self.cursor), f"later change of {field}")

    # ── playback and follow actions ──

    def action_play(self) -> None:
        if self.player.playing:
            self.player.pause()
        else:
            self.player.play(self.timeline, self.cursor)
            if self.player.playing and self.cursor >= self.timeline.last_seq:
                self.goto(0, from_player=True)
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

    # ── other actions ──

    def action_show_event(self) -> None:
        if len(self.timeline):
            self.app.push_screen(EventDetailScreen(self.timeline.envelope(self.cursor)))

    def export(self, kind: str) -> str | None:
        """Write an export into the current directory and say where; the path or None.

        ``kind``: ``"jsonl"`` (the whole stream), ``"jsonl-to-cursor"`` (events up to
        and including the cursor), ``"markdown"`` (the report) or ``"svg"`` (this screen).
        """
        from l0tui.export import export_to_file, save_svg

        try:
            if kind == "svg":
                path = save_svg(self.app, f"{self.stream_id}-{self.cursor}.svg")
            elif kind == "jsonl-to-cursor":
                path = export_to_file(self.timeline, "jsonl", ".", stop=self.cursor + 1)
            else:
                path = export_to_file(self.timeline, kind, ".", source=self.store.describe())
        except (OSError, ValueError) as exc:
            self.notify(error_text(exc), title="export", severity="error")
            return None
        self.notify(clean(path, limit=200), title="exported")
        return path

    def action_export(self) -> None:
        """Choose what to export: JSONL (whole or up to the cursor), Markdown, SVG."""
        choices = [
            ("export events up to the cursor as JSONL", "jsonl-to-cursor",
             "the spec's wire format, seqs 0 to the cursor"),
            ("export the whole stream as JSONL", "jsonl", "the spec's wire format"),
            ("export a Markdown report", "markdown",
             "summary, attempts, violations, errors, final content"),
            ("export an SVG screenshot", "svg", "this screen as it looks now"),
        ]
        self.app.search_commands(
            [(name, partial(self.export, kind), help_text) for name, kind, help_text in choices],
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
        open_diff: Any = getattr(self.app, "open_diff", None)
        commands = [
            (f"compare with {clean(other, limit=80)}",
             partial(open_diff, self.store, self.stream_id, self.store, other),
             f"diff {clean(self.stream_id, limit=40)} against {clean(other, limit=40)}")
            for other in others
        ]
        self.app.search_commands(commands, placeholder="Compare with which stream?")

    def action_back(self) -> None:
        self.player.pause()
        self.workers.cancel_group(self, "follow")
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit(0)

    # ── messages from the panes ──

    @on(Scrubber.Seek)
    def scrubbed(self, message: Scrubber.Seek) -> None:
        self.goto(message.seq)

    @on(EventList.Picked)
    def picked(self, message: EventList.Picked) -> None:
        self.goto(message.seq)

    @on(EventList.Activated)
    def activated(self, message: EventList.Activated) -> None:
        self.goto(message.seq)
        self.action_show_event()

    @on(StatePanel.JumpTo)
    def jump_to_field(self, message: StatePanel.JumpTo) -> None:
        self.goto(message.seq)
