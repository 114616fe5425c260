"""The kind picker: ``t`` (or ``T``) then one letter jumps to the next (previous) event
of that kind. Shows the letters; any other key cancels."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from l0core.events import RecordedEventType
from l0tui.display.theme import kind_styles
from l0tui.display.vocabulary import KIND_BY_KEY, LETTERS


class KindPickerScreen(ModalScreen[RecordedEventType | None]):
    """Dismisses with the kind whose key was pressed (None on any other key)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="kind_picker.cancel"),
    ]

    def __init__(self, direction: str = "next") -> None:
        super().__init__(classes="picker")
        self.direction = direction

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Label(f"Jump to the {self.direction} event of kind:", id="picker-title")
            lines = Text()
            styles = kind_styles(self.app.theme_variables)
            for key, kind in KIND_BY_KEY.items():
                lines.append(f" {key} ", style="bold reverse")
                lines.append(f" {LETTERS[kind]} ", style=styles[kind])
                lines.append(f"{kind.value.lower()}\n")
            yield Static(lines, id="picker-keys")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(KIND_BY_KEY.get(event.character or ""))

    def action_cancel(self) -> None:
        self.dismiss(None)
