"""The help panel (``?``): help for the focused pane, every active key, the minimap legend.

The key list is read from the screen's active bindings, so keys a user remapped in
``keymap.toml`` show as remapped, with the binding id to remap them by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Label, Markdown, Static

from l0tui.display.theme import kind_styles
from l0tui.display.vocabulary import LETTERS

KeyRow = tuple[str, str, str]
"""(key as shown, description, binding id)."""


def pane_help(screen: Screen[Any], focused: Widget | None) -> str:
    """The HELP text of the focused widget or its nearest ancestor that has one."""
    node: Any = focused
    while node is not None and node is not screen:
        text = getattr(type(node), "HELP", None)
        if isinstance(text, str) and text.strip():
            return text
        node = node.parent
    text = getattr(type(screen), "HELP", None)
    return text if isinstance(text, str) else ""


def key_rows(screen: Screen[Any]) -> list[KeyRow]:
    """Every active binding with a description, grouped by action (keys joined)."""
    by_action: dict[tuple[str, str], KeyRow] = {}
    app = screen.app
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or not binding.id:
            continue
        shown = binding.key_display or app.get_key_display(
            Binding(key, binding.action, binding.description))
        ident = (binding.action, binding.description)
        if ident in by_action:
            old_keys, desc, bid = by_action[ident]
            if shown not in old_keys.split(" / "):
                by_action[ident] = (f"{old_keys} / {shown}", desc, bid)
        else:
            by_action[ident] = (shown, binding.description, binding.id or "")
    rows = list(by_action.values())
    rows.append(("ctrl+p", "Command palette", ""))
    return rows


def legend_text(theme_variables: Mapping[str, str]) -> Text:
    text = Text()
    styles = kind_styles(theme_variables)
    for kind, letter in LETTERS.items():
        text.append(f" {letter} ", style=styles[kind])
        text.append(f"{kind.value.lower()}  ")
    return text


class HelpScreen(ModalScreen[None]):
    """Keys and help for the screen below it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, title: str, pane: str, keys: list[KeyRow]) -> None:
        super().__init__(classes="help")
        self.help_title = title
        self.pane = pane
        self.keys = keys

    @classmethod
    def for_screen(cls, screen: Screen[Any], focused: Widget | None) -> HelpScreen:
        title = getattr(screen, "help_title", None) or type(screen).__name__
        pane = pane_help(screen, focused)
        screen_help = getattr(type(screen), "HELP", None)
        if isinstance(screen_help, str) and screen_help.strip() and screen_help != pane:
            pane = f"{pane}\n\n{screen_help}" if pane else screen_help
        return cls(str(title), pane, key_rows(screen))

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(Text(f"Help · {self.help_title}", style="bold"), id="help-title")
            with Horizontal(id="help-body"):
                with VerticalScroll(id="help-keys"):
                    yield Static(self._key_table(), id="help-key-table")
                with VerticalScroll(id="help-pane"):
                    yield Markdown(self.pane or "No help for this pane.", id="help-markdown")
                    yield Label(Text("Minimap legend", style="bold"))
                    yield Static(legend_text(self.app.theme_variables), id="help-legend")
            yield Label(Text("escape closes · remap keys by id in "
                             "~/.config/l0tui/keymap.toml", style="dim"), id="help-foot")

    def _key_table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False,
                      expand=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action")
        table.add_column("id", style="dim", no_wrap=True)
        for keys, desc, bid in self.keys:
            table.add_row(keys, desc, bid)
        return table

    def action_close(self) -> None:
        self.dismiss(None)
