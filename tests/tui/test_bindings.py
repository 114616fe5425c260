"""Every binding of the TUI has an id (so users can remap it), and ids are unique."""

from __future__ import annotations

from textual.binding import Binding

from l0tui.app import L0TuiApp
from l0tui.screens.browser import BrowserScreen
from l0tui.screens.debugger import DebuggerScreen
from l0tui.screens.event_detail import EventDetailScreen
from l0tui.screens.help import HelpScreen
from l0tui.screens.kind_picker import KindPickerScreen
from l0tui.screens.prompt import PromptScreen
from l0tui.widgets.event_list import EventList
from l0tui.widgets.state_panel import StatePanel

OWNERS = [L0TuiApp, BrowserScreen, DebuggerScreen, EventDetailScreen, HelpScreen,
          KindPickerScreen, PromptScreen, EventList, StatePanel]


def test_every_binding_has_a_unique_id() -> None:
    seen: dict[str, str] = {}
    for owner in OWNERS:
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding), f"{owner.__name__}: {binding!r} is a tuple"
            assert binding.id, f"{owner.__name__}: {binding.key} -> {binding.action} has no id"
            assert binding.id not in seen, f"{binding.id} used by {seen.get(binding.id)}"
            seen[binding.id] = owner.__name__
