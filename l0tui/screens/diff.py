"""The diff screen: two recorded streams side by side, cursors locked by the alignment.

Each side has its scrubber, state panel and content. With the lock on (the
default), moving one side moves the other to the aligned seq that
:func:`l0core.diff.diff_timelines` computed; with it off, only the focused side
moves. Content is compared word by word at the two cursors (token boundaries do
not count); state fields that differ are marked ``≠``; the summary bar shows the
headline deltas; ``f``/``n``/``N`` walk the differences the diff found, and ``w``
goes to the tokens that wrote the first different word of the final texts.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from l0core import BaseEventStore, L0Error, create_event_store
from l0core.fold import STATE_FIELDS, ReplayedState
from l0core.timeline import Timeline
from l0tui.commands.common import load_timeline, payload_changes
from l0tui.display.escape import clean
from l0tui.display.vocabulary import summary as event_summary
from l0tui.widgets.diff_content import render_pair, token_view
from l0tui.widgets.diff_side import DiffSide
from l0tui.widgets.diff_summary import DiffSummary
from l0tui.widgets.scrubber import Scrubber
from l0tui.widgets.state_panel import StatePanel

if TYPE_CHECKING:
    from l0core.diff import StreamDiff, WordDiff

IGNORED_FIELDS = frozenset({"start_ts", "end_ts"})
"""Two runs always differ in wall-clock time; the summary bar shows durations instead."""

SIDES = ("a", "b")


def differing_fields(a: ReplayedState, b: ReplayedState) -> frozenset[str]:
    """State fields whose values differ between the two sides (timestamps excluded)."""
    return frozenset(f for f in STATE_FIELDS
                     if f not in IGNORED_FIELDS and getattr(a, f) != getattr(b, f))


class Alignment:
    """Where each side's cursor goes, from the stream diff.

    ``other`` is :meth:`StreamDiff.counterpart` (an unpaired seq maps to the partner
    of the nearest pair); ``positions[i]`` is where difference ``i`` puts the two
    cursors: its first seq on each side, or the aligned seq on a side it has none.
    """

    def __init__(self, diff: StreamDiff, len_a: int, len_b: int) -> None:
        self.diff = diff
        self.lengths = {"a": len_a, "b": len_b}
        self.positions: list[tuple[int, int]] = []
        for d in diff.differences:
            a_seq, b_seq = d.a_seq, d.b_seq
            if a_seq is None:
                a_seq = self.other("b", b_seq) if b_seq is not None else 0
            if b_seq is None:
                b_seq = self.other("a", a_seq)
            self.positions.append((self._clamp("a", a_seq), self._clamp("b", b_seq)))

    def _clamp(self, side: str, seq: int) -> int:
        return max(0, min(self.lengths[side] - 1, seq))

    def other(self, side: str, seq: int) -> int:
        """The seq on the other side aligned with ``seq`` on ``side``."""
        other = "b" if side == "a" else "a"
        try:
            found = self.diff.counterpart(side, seq)
        except (IndexError, ValueError):
            found = None
        return self._clamp(other, found if found is not None else 0)

    def index_of(self, difference: object) -> int | None:
        for i, d in enumerate(self.diff.differences):
            if d is difference:
                return i
        return None

    def next_index(self, side: str, seq: int, current: int | None) -> int | None:
        """The difference after the cursor (after ``current`` when standing on it)."""
        if current is not None:
            return current + 1 if current + 1 < len(self.positions) else None
        return self.index_of(self.diff.next_difference(side, seq))

    def previous_index(self, side: str, seq: int, current: int | None) -> int | None:
        if current is not None:
            return current - 1 if current > 0 else None
        return self.index_of(self.diff.previous_difference(side, seq))

    def index_at(self, side: str, seq: int) -> int | None:
        """The difference whose run holds ``seq`` on ``side``."""
        return self.index_of(self.diff.difference_at(side, seq))


class DiffScreen(Screen[None]):
    """Two streams side by side (left ``a``, right ``b``)."""

    HELP = """\
## Diff

Two runs side by side. The lock keeps both cursors on aligned events; unlock it to
step one side alone. Tokens that differ are highlighted (left red, right green),
state fields that differ are marked **≠**, the top bar shows the headline deltas.

- **j / k** (down / up): step; **J / K**: 10 steps; **g / G** (home / end): first / last
- **tab**, **left / right**: choose the side the keys move
- **l**: lock / unlock the cursors
- **f**: first difference; **n / N**: next / previous difference
- **[ / ]**: previous / next non-token event on the focused side
- **q / escape**: back (to the stream browser; quits when the diff is the only screen)
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "step(1)", "Step", id="diff.step_forward"),
        Binding("k,up", "step(-1)", "Back", show=False, id="diff.step_back"),
        Binding("J", "step(10)", "+10", show=False, id="diff.step_forward_10"),
        Binding("K", "step(-10)", "-10", show=False, id="diff.step_back_10"),
        Binding("g,home", "edge(0)", "First", show=False, id="diff.first"),
        Binding("G,end", "edge(1)", "Last", show=False, id="diff.last"),
        Binding("tab", "switch_side", "Side", id="diff.switch_side"),
        Binding("left", "side('a')", "Left", show=False, id="diff.left"),
        Binding("right", "side('b')", "Right", show=False, id="diff.right"),
        Binding("l", "toggle_lock", "Lock", id="diff.lock"),
        Binding("f", "first_difference", "1st diff", id="diff.first_difference"),
        Binding("w", "first_word", "1st word", show=False, id="diff.first_word"),
        Binding("n", "next_difference", "Next diff", id="diff.next_difference"),
        Binding("N,p", "previous_difference", "Prev diff", id="diff.previous_difference"),
        Binding("]", "landmark(1)", "Next event", show=False, id="diff.next_landmark"),
        Binding("[", "landmark(-1)", "Prev event", show=False, id="diff.previous_landmark"),
        Binding("q,escape", "back", "Back", id="diff.back"),
    ]

    DEFAULT_CSS = """
    DiffScreen #diff-header {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    DiffScreen #diff-sides {
        height: 1fr;
    }
    """

    help_title = "Diff"

    locked: reactive[bool] = reactive(True, init=False)
    side: reactive[str] = reactive("a", init=False)

    def __init__(
        self,
        left_store: BaseEventStore,
        left_id: str,
        right_store: BaseEventStore,
        right_id: str,
        *,
        align: str = "content",
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.stores = {"a": left_store, "b": right_store}
        self.ids = {"a": left_id, "b": right_id}
        self.align = align
        self.timelines: dict[str, Timeline] = {}
        self.diff: StreamDiff | None = None
        self.words: WordDiff | None = None
        """The final texts compared by words (the first different word and its seqs)."""
        self.alignment: Alignment | None = None
        self.cursors = {"a": 0, "b": 0}
        self.difference_index: int | None = None
        self.error: str | None = None
        self.marked: frozenset[str] = frozenset()
        self.differing_tokens = 0
        self.header = Static("loading…", id="diff-header")
        self.summary = DiffSummary("", id="diff-summary")
        self.panes = {side: DiffSide(id=f"diff-{side}") for side in SIDES}

    # ── building ──

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.summary
        with Horizontal(id="diff-sides"):
            yield self.panes["a"]
            yield self.panes["b"]
        yield Footer()

    def on_mount(self) -> None:
        self.panes["a"].add_class("-active")
        self.run_worker(self._load(), name="diff-load", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        from l0core.diff import diff_timelines, diff_words

        try:
            for side in SIDES:
                name = clean(self.ids[side], limit=60)

                def progress(count: int, name: str = name) -> None:
                    self.header.update(Text(f"loading {name}: {count:,} events…", style="dim"))

                self.timelines[side] = await load_timeline(self.stores[side], self.ids[side],
                                                           progress)
            self.header.update(Text("comparing…", style="dim"))
            # The alignment is CPU work: keep the screen responsive while it runs.
            self.diff = await asyncio.to_thread(diff_timelines, self.timelines["a"],
                                                self.timelines["b"], align=self.align)
            self.alignment = Alignment(self.diff, len(self.timelines["a"]),
                                       len(self.timelines["b"]))
            self.words = await asyncio.to_thread(diff_words, self.timelines["a"],
                                                 self.timelines["b"])
        except (L0Error, OSError, ValueError) as exc:
            self.error = clean(str(exc), limit=300)
            self.header.update(Text(f"cannot compare: {self.error}", style="bold red"))
            self.notify(self.error, title="cannot compare", severity="error")
            return
        for side in SIDES:
            self.panes[side].scrubber.set_timeline(self.timelines[side])
        self.summary.show_deltas(self.diff.summary, identical=self.diff.identical)
        self._show()

    @property
    def ready(self) -> bool:
        return self.alignment is not None

    # ── moving ──

    def move(self, side: str, seq: int, *, follow: bool | None = None) -> None:
        """Put ``side``'s cursor at ``seq`` (clamped); the other follows when locked."""
        if self.alignment is None:
            return
        timeline = self.timelines[side]
        seq = max(0, min(len(timeline) - 1, seq))
        self.cursors[side] = seq
        if self.locked if follow is None else follow:
            other = "b" if side == "a" else "a"
            self.cursors[other] = max(0, min(len(self.timelines[other]) - 1,
                                             self.alignment.other(side, seq)))
        self.difference_index = None  # the cursor left the difference it jumped to
        self._show()

    def action_step(self, delta: int) -> None:
        self.move(self.side, self.cursors[self.side] + delta)

    def action_edge(self, end: int) -> None:
        if self.ready:
            self.move(self.side, len(self.timelines[self.side]) - 1 if end else 0)

    def action_switch_side(self) -> None:
        self.side = "b" if self.side == "a" else "a"

    def action_side(self, side: str) -> None:
        self.side = side

    def watch_side(self) -> None:
        for side in SIDES:
            self.panes[side].set_class(side == self.side, "-active")
        self._show()

    def action_toggle_lock(self) -> None:
        self.locked = not self.locked

    def watch_locked(self, locked: bool) -> None:
        if locked and self.ready:
            self.move(self.side, self.cursors[self.side])  # realign the other side
        else:
            self._show()

    def action_first_difference(self) -> None:
        self._go_to_difference(0)

    def action_first_word(self) -> None:
        """Both cursors to the tokens that wrote the first different word of the final texts."""
        words = self.words
        if words is None or self.alignment is None:
            return
        first = words.first
        if first is None:
            self.notify("the final texts have the same words", timeout=2)
            return
        for side, seq in (("a", first.a_seq), ("b", first.b_seq)):
            if seq is not None:
                self.cursors[side] = seq
        self.difference_index = None
        self._show()

    def action_next_difference(self) -> None:
        if self.alignment is None:
            return
        index = self.alignment.next_index(self.side, self.cursors[self.side],
                                          self.difference_index)
        if index is None:
            self.notify("no difference after this point", timeout=2)
            return
        self._go_to_difference(index)

    def action_previous_difference(self) -> None:
        if self.alignment is None:
            return
        index = self.alignment.previous_index(self.side, self.cursors[self.side],
                                              self.difference_index)
        if index is None:
            self.notify("no difference before this point", timeout=2)
            return
        self._go_to_difference(index)

    def _go_to_difference(self, index: int) -> None:
        if self.alignment is None:
            return
        if not self.alignment.positions:
            self.notify("the two streams do not differ", timeout=2)
            return
        self.cursors["a"], self.cursors["b"] = self.alignment.positions[index]
        self.difference_index = index
        self._show()

    def action_landmark(self, direction: int) -> None:
        if not self.ready:
            return
        timeline = self.timelines[self.side]
        seq = self.cursors[self.side]
        found = (timeline.next_landmark(seq) if direction > 0
                 else timeline.previous_landmark(seq))
        if found is not None:
            self.move(self.side, found)

    def action_back(self) -> None:
        stack = self.app.screen_stack
        if len(stack) >= 2 and stack[-2].id != "_default":
            self.app.pop_screen()
        else:
            self.app.exit()

    # A click on a side's scrubber, or a jump from its state panel, makes that side the
    # focused one and moves it; the pane the message comes from says which side it is.

    @on(Scrubber.Seek, "#diff-a Scrubber")
    @on(StatePanel.JumpTo, "#diff-a StatePanel")
    def seek_left(self, message: Scrubber.Seek | StatePanel.JumpTo) -> None:
        self._seek("a", message.seq)

    @on(Scrubber.Seek, "#diff-b Scrubber")
    @on(StatePanel.JumpTo, "#diff-b StatePanel")
    def seek_right(self, message: Scrubber.Seek | StatePanel.JumpTo) -> None:
        self._seek("b", message.seq)

    def _seek(self, side: str, seq: int) -> None:
        self.side = side
        self.move(side, seq)

    # ── showing ──

    def _show(self) -> None:
        if self.alignment is None or self.diff is None:
            return
        states: dict[str, ReplayedState] = {}
        for side in SIDES:
            timeline, seq = self.timelines[side], self.cursors[side]
            pane = self.panes[side]
            pane.scrubber.cursor = seq
            pane.state_panel.update_from(timeline, seq)
            states[side] = pane.state_panel.state or timeline.state_at(seq)
        self.marked = differing_fields(states["a"], states["b"])
        views = {side: token_view(self.timelines[side], self.cursors[side]) for side in SIDES}
        left, right, self.differing_tokens = render_pair(views["a"], views["b"])
        self.panes["a"].content.show_text(left)
        self.panes["b"].content.show_text(right)
        current = self.current_difference()
        for side in SIDES:
            pane = self.panes[side]
            column = 0 if side == "a" else 1
            pane.strip.show([p[column] for p in self.alignment.positions],
                            len(self.timelines[side]),
                            None if current is None else self.alignment.positions[current][column])
            pane.state_panel.marked = self.marked
            pane.scrubber.note = self._note()
            pane.set_title(self._title(side))
        self.header.update(self._header())

    def _note(self) -> str:
        assert self.diff is not None
        count = len(self.diff.differences)
        return f"≠ {count} diff" + ("" if count == 1 else "s") if count else "no diffs"

    def _title(self, side: str) -> Text:
        timeline, seq = self.timelines[side], self.cursors[side]
        event = timeline.envelope(seq).event
        active = side == self.side
        out = Text()
        out.append(" ◀ A " if side == "a" else " B ▶ ",
                   style="bold reverse" if active else "bold dim")
        out.append(" ")
        out.append(clean(self.ids[side], limit=60), style="bold")
        out.append(f"  #{seq}/{len(timeline) - 1}  ", style="dim")
        out.append(event.type, style="bold")
        out.append(" " + clean(event_summary(event, 60), limit=60))
        return out

    def current_difference(self) -> int | None:
        """The difference shown in the header: the one jumped to, or the one at the cursor."""
        if self.difference_index is not None or self.alignment is None:
            return self.difference_index
        return self.alignment.index_at(self.side, self.cursors[self.side])

    def _header(self) -> Text:
        assert self.alignment is not None and self.diff is not None
        out = Text()
        out.append("◆ locked" if self.locked else "◇ unlocked",
                   style="bold green" if self.locked else "bold yellow")
        out.append(f"  align: {self.diff.align}  ", style="dim")
        count = len(self.diff.differences)
        index = self.current_difference()
        if count == 0:
            out.append("no differences", style="bold green")
        elif index is not None:
            d = self.diff.differences[index]
            out.append(f"difference {index + 1}/{count}: ", style="bold yellow")
            out.append(clean(f"{d.kind}: {d.description}", limit=160))
            if d.kind == "event" and d.a_seq is not None and d.b_seq is not None:
                changes = payload_changes(self.timelines["a"].envelope(d.a_seq).event,
                                          self.timelines["b"].envelope(d.b_seq).event)
                if changes:
                    out.append("  " + clean("; ".join(changes), limit=160), style="yellow")
        else:
            out.append(f"{count} differences", style="bold yellow")
            out.append("  (f first · n next · N previous)", style="dim")
        words = self.words
        if words is not None and words.first is not None:
            first = words.first
            out.append("  │ words: ", style="dim")
            out.append(clean(first.a_word, limit=30), style="bold red")
            out.append(f" A#{first.a_seq} → " if first.a_seq is not None else " → ", style="dim")
            out.append(clean(first.b_word, limit=30), style="bold green")
            out.append(f" B#{first.b_seq}" if first.b_seq is not None else "", style="dim")
            out.append(" (w)", style="dim")
        elif words is not None:
            out.append("  │ same words", style="green")
        return out

    # ── for tests and the debugger ──

    def state_of(self, side: str) -> dict[str, Any]:
        """What a side shows: its cursor, stream id and marked fields."""
        return {"seq": self.cursors[side], "stream": self.ids[side], "marked": self.marked}


class DiffApp(App[int]):
    """A minimal host for :class:`DiffScreen` alone (tests, and ``l0tui diff`` without the app)."""

    TITLE = "l0tui diff"

    def __init__(self, left: tuple[BaseEventStore, str], right: tuple[BaseEventStore, str],
                 *, align: str = "content") -> None:
        super().__init__()
        self.left = left
        self.right = right
        self.align = align

    def on_mount(self) -> None:
        self.push_screen(DiffScreen(self.left[0], self.left[1], self.right[0], self.right[1],
                                    align=self.align))


def run_diff_app(left_location: str, left_id: str, right_location: str, right_id: str,
                 *, align: str = "content") -> int:
    """Open both stores read-only and run :class:`DiffApp`; the exit status."""

    async def main() -> int:
        store_a = await create_event_store(left_location, read_only=True)
        store_b = (store_a if right_location == left_location
                   else await create_event_store(right_location, read_only=True))
        try:
            app = DiffApp((store_a, left_id), (store_b, right_id), align=align)
            await app.run_async()
            return int(app.return_code or 0)
        finally:
            await store_a.close()
            if store_b is not store_a:
                await store_b.close()

    return asyncio.run(main())
