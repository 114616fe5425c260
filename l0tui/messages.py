"""What a screen asks of the app: open a stream in the debugger, open a diff.

A screen never calls into the app to change screens: it posts one of these messages,
which bubbles from the screen to :class:`~l0tui.app.L0TuiApp`, and the app's handler
pushes the screen asked for. Screens stay usable in any app (a test host, the
stand-alone diff app) and the app's navigation is in one place.

Each message carries ``control``, the screen that sent it, like the messages of
Textual's own widgets, so a handler can tell senders apart with
``@on(OpenStream, "BrowserScreen")``.
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.message import Message

from l0core.stores.base import BaseEventStore


class OpenStream(Message):
    """Open ``stream_id`` in the debugger, from ``store`` (the app's store when None)."""

    def __init__(self, control: DOMNode, stream_id: str,
                 store: BaseEventStore | None = None) -> None:
        super().__init__()
        self._control = control
        self.stream_id = stream_id
        self.store = store

    @property
    def control(self) -> DOMNode:
        """The screen (or widget) that asked."""
        return self._control


class OpenDiff(Message):
    """Open the diff of ``left_id`` in ``left_store`` against ``right_id`` in ``right_store``."""

    def __init__(self, control: DOMNode, left_store: BaseEventStore, left_id: str,
                 right_store: BaseEventStore, right_id: str) -> None:
        super().__init__()
        self._control = control
        self.left_store = left_store
        self.left_id = left_id
        self.right_store = right_store
        self.right_id = right_id

    @property
    def control(self) -> DOMNode:
        """The screen (or widget) that asked."""
        return self._control
