"""The whole event: its envelope's wire JSON, pretty-printed, in a modal.

The JSON is built with the codec (what a store persists) and shown as a literal
:class:`Text` with JSON highlighting; hostile strings are cleaned, giant values capped.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from l0core.codec import encode_envelope
from l0core.events import EventEnvelope
from l0tui.display.escape import clean

MAX_JSON_CHARS = 200_000


def event_json(envelope: EventEnvelope) -> str:
    """The envelope in the spec's wire format, indented (non-ASCII kept readable)."""
    wire = encode_envelope(envelope)
    return json.dumps(wire, indent=2, ensure_ascii=False)


class EventDetailScreen(ModalScreen[None]):
    """Shows one event in full. Escape, enter or q closes it."""

    HELP = """\
## Event

The event exactly as stored (the spec's JSON wire format). Control characters are
shown as visible symbols (␛ for ESC); values over 200,000 characters are cut.

- **escape / enter / q**: close
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="event_detail.close"),
    ]

    def __init__(self, envelope: EventEnvelope) -> None:
        super().__init__(classes="detail")
        self.envelope = envelope

    def compose(self) -> ComposeResult:
        env = self.envelope
        text = Text(clean(event_json(env), limit=MAX_JSON_CHARS, multiline=True))
        JSONHighlighter().highlight(text)
        with Vertical(id="detail-box"):
            yield Label(Text(f"#{env.seq} {env.event.type.value}", style="bold"),
                        id="detail-title")
            with VerticalScroll(id="detail-scroll"):
                yield Static(text, id="detail-json")

    def on_mount(self) -> None:
        self.query_one("#detail-scroll").focus()

    @property
    def json_text(self) -> str:
        return str(self.query_one("#detail-json", Static).render())

    def action_close(self) -> None:
        self.dismiss(None)
