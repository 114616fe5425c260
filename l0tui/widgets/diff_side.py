"""One side of the diff screen: title line, scrubber, state panel and content of one stream."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from l0tui.widgets.content_view import ContentView
from l0tui.widgets.diff_strip import DiffStrip
from l0tui.widgets.scrubber import Scrubber
from l0tui.widgets.state_panel import StatePanel


class DiffSide(Vertical):
    """A pane for one stream of the diff; the screen drives it.

    Under the scrubber a :class:`DiffStrip` marks where this side's differences are.

    The pane does not know which side it is: the scrubber's seeks and the state
    panel's jumps bubble up to the screen, which tells the sides apart by the pane
    the message's ``control`` sits in (``@on(Scrubber.Seek, "#diff-a Scrubber")``).
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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
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
