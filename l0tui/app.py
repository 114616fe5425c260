"""The Textual application and its factory, shared by the command line and the tests.

``run_tui`` opens the store(s) read-only, checks what the user asked for (a stream id
that exists, a reachable server), then runs :class:`L0TuiApp`. Anything wrong before
the UI starts is one line on stderr and exit status 2, never a traceback. The app
never writes to the store it inspects.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.widget import Widget

from l0core.errors import StreamNotFoundError
from l0core.stores.base import BaseEventStore
from l0core.stores.registry import create_event_store
from l0tui.keymap import load_keymap
from l0tui.loading import error_text, stream_exists
from l0tui.messages import OpenDiff, OpenStream
from l0tui.palette import L0Commands
from l0tui.screens.browser import BrowserScreen
from l0tui.screens.debugger import DebuggerScreen
from l0tui.screens.diff import DiffScreen
from l0tui.screens.help import HelpScreen

CompareSpec = tuple[tuple[BaseEventStore, str], tuple[BaseEventStore, str]]


async def open_store_readonly(location: str) -> BaseEventStore:
    """Open ``location`` (a directory, ``file://``, ``sqlite:///``, ``postgresql://``,
    ``redis://``, ``memory://``) read-only, and check that it answers.

    The check is a read the browser makes anyway: the catalog's total where the store
    keeps summaries (one row, however many streams), else the stream list the scan
    starts from."""
    store = await create_event_store(location, read_only=True)
    try:
        if store.keeps_summaries:
            await store.count_summaries()
        else:
            await store.list_streams()
    except BaseException:
        await store.close()
        raise
    return store


class L0TuiApp(App[int]):
    """The stream browser and time-travel debugger.

    Open with a ``store`` (already opened, read-only); ``stream_id`` goes straight to
    the debugger (the browser stays below it: ``q`` goes back); ``compare`` opens the
    diff of two streams. ``clock`` (seconds, monotonic) drives playback and can be
    injected by tests. ``keymap_path`` overrides where the user keymap is read from
    (default ``$L0TUI_KEYMAP`` or ``$XDG_CONFIG_HOME/l0tui/keymap.toml``).
    """

    TITLE = "l0tui"
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {L0Commands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit"),
    ]

    def __init__(
        self,
        store: BaseEventStore,
        *,
        location: str = "",
        stream_id: str | None = None,
        compare: CompareSpec | None = None,
        clock: Callable[[], float] | None = None,
        keymap_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.location = location or store.describe()
        self.initial_stream_id = stream_id
        self.compare = compare
        self.clock = clock
        self._keymap_path = keymap_path
        self.sub_title = self.location

    def on_mount(self) -> None:
        keymap, problem = load_keymap(self._keymap_path)
        if keymap:
            self.set_keymap(keymap)
        if problem:
            self.notify(problem, title="keymap", severity="warning")
        self.push_screen(BrowserScreen(self.store, self.location))
        if self.initial_stream_id is not None:
            self.open_stream(self.initial_stream_id)
        if self.compare is not None:
            (left_store, left_id), (right_store, right_id) = self.compare
            self.open_diff(left_store, left_id, right_store, right_id)

    # ── navigation between screens: screens post messages, these handle them ──

    def on_open_stream(self, message: OpenStream) -> None:
        self.open_stream(message.stream_id, message.store)

    def on_open_diff(self, message: OpenDiff) -> None:
        self.open_diff(message.left_store, message.left_id, message.right_store,
                       message.right_id)

    def open_stream(self, stream_id: str, store: BaseEventStore | None = None) -> None:
        """Push the debugger for ``stream_id``."""
        self.push_screen(DebuggerScreen(store or self.store, stream_id, clock=self.clock))

    def open_diff(self, left_store: BaseEventStore, left_id: str,
                  right_store: BaseEventStore, right_id: str) -> None:
        """Push the diff screen of the two streams."""
        self.push_screen(DiffScreen(left_store, left_id, right_store, right_id))

    # ── help ──

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        focused: Widget | None = self.focused
        self.push_screen(HelpScreen.for_screen(self.screen, focused))


def run_tui(
    location: str,
    stream_id: str | None = None,
    compare: tuple[str, str, str, str] | None = None,
) -> int:
    """Open the store(s) read-only and run the TUI; return the exit status.

    ``compare`` is ``(left_location, left_id, right_location, right_id)``. Problems
    found before the UI starts (bad URL, unreachable server, missing stream, corrupt
    store) print ``l0tui: <message>`` on stderr and return 2.
    """
    try:
        return asyncio.run(_run(location, stream_id, compare))
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> int:
    print(f"l0tui: {message}", file=sys.stderr)
    return 2


async def _run(location: str, stream_id: str | None,
               compare: tuple[str, str, str, str] | None) -> int:
    stores: list[BaseEventStore] = []
    try:
        try:
            store = await open_store_readonly(location)
            stores.append(store)
            if stream_id is not None and not await stream_exists(store, stream_id):
                raise StreamNotFoundError(stream_id, f"no such stream in {store.describe()}")
            spec: CompareSpec | None = None
            if compare is not None:
                left_loc, left_id, right_loc, right_id = compare
                left = store if left_loc == location else await open_store_readonly(left_loc)
                if left is not store:
                    stores.append(left)
                right = (left if right_loc == left_loc else store if right_loc == location
                         else await open_store_readonly(right_loc))
                if right not in stores:
                    stores.append(right)
                for st, sid in ((left, left_id), (right, right_id)):
                    if not await stream_exists(st, sid):
                        raise StreamNotFoundError(sid, f"no such stream in {st.describe()}")
                spec = ((left, left_id), (right, right_id))
        except Exception as exc:  # one line, never a traceback
            return _fail(error_text(exc))
        app = L0TuiApp(store, location=location, stream_id=stream_id, compare=spec)
        await app.run_async()
        return app.return_code or 0
    finally:
        for st in stores:
            try:
                await st.close()
            except Exception:
                pass


__all__ = ["L0TuiApp", "open_store_readonly", "run_tui"]
