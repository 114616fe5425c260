"""One side of the diff screen: title line, scrubber, state panel and content of one stream."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from l0tui.widgets.content_view import ContentView
from l0tui.widgets.diff_strip import DiffStrip
from l0tui.widgets.scrubber import Scrubber
from l0tui.widgets.state_panel import StatePanel


class DiffSide(Vertical):
    """A pane for side ``"a"`` (left) or ``"b"`` (right); the screen drives it.

    Under the scrubber a :class:`DiffStrip` marks where this side's differences are.

    Scrubber seeks and state-panel jumps come out as :class:`DiffSide.Seek` carrying
    the side, so the screen knows which cursor to move.
    """

    DEFAULT_CSS = """
    DiffSide {
        width: 1fr;
        height: 1fr;
        border: round $panel;
        padding: 0;
    }
    DiffSide.-active {
        border: round $accent;
    }
    DiffSide > .diff-title {
        height: 1;
        padding: 0 1;
    }
    DiffSide > StatePanel {
        height: auto;
        max-height: 50%;
        border-bottom: solid $panel;
    }
    DiffSide > ContentView {
        min-height: 4;
    }
    """

    class Seek(Message):
        def __init__(self, side: str, seq: int) -> None:
            super().__init__()
            self.side = side
            self.seq = seq

    def __init__(self, side: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.side = side
        self.title = Static("", classes="diff-title")
        self.scrubber = Scrubber()
        self.strip = DiffStrip()
        self.state_panel = StatePanel()
        self.content = ContentView()
        # The screen owns the keys: panes never take focus away from it.
        self.state_panel.can_focus = False
        self.content.can_focus = False

    def compose(self) -> ComposeResult:
        yield self.title
        yield self.scrubber
        yield self.strip
        yield self.state_panel
        yield self.content

    def set_title(self, text: Text) -> None:
        self.title.update(text)

    def on_scrubber_seek(self, event: Scrubber.Seek) -> None:
        event.stop()
        self.post_message(self.Seek(self.side, event.seq))

    def on_state_panel_jump_to(self, event: StatePanel.JumpTo) -> None:
        event.stop()
        self.post_message(self.Seek(self.side, event.seq))
