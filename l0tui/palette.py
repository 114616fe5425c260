"""Command palette (ctrl+p) providers: open a stream, go to seq, jump to first error,
compare with..., and the debugger's other actions by name.

The commands depend on the screen the palette was opened from: the browser offers
"open stream <id>" for every stream it lists; the debugger adds navigation,
playback and comparison. (Named ``palette`` because ``l0tui.commands`` holds the
command-line subcommands.)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from l0core.events import RecordedEventType
from l0tui.display.escape import clean
from l0tui.messages import OpenStream

Command = tuple[str, Callable[[], Any], str]


def _open_stream(screen: Screen[Any], stream_id: str) -> None:
    """Ask the app (from ``screen``) to open ``stream_id`` in the debugger."""
    screen.post_message(OpenStream(screen, stream_id))


class L0Commands(Provider):
    """Commands for the current l0tui screen."""

    def _commands(self) -> list[Command]:
        from l0tui.screens.browser import BrowserScreen
        from l0tui.screens.debugger import DebuggerScreen

        screen = self.screen
        out: list[Command] = []
        if isinstance(screen, DebuggerScreen):
            dbg = screen
            out += [
                ("go to seq", dbg.action_goto_prompt, "move the cursor to a seq you type"),
                ("jump to first error", partial(dbg.jump_first, RecordedEventType.ERROR),
                 "the first ERROR event of the stream"),
                ("jump to first retry", partial(dbg.jump_first, RecordedEventType.RETRY),
                 "the first RETRY event"),
                ("jump to first guardrail violation",
                 partial(dbg.jump_first, RecordedEventType.GUARDRAIL),
                 "the first GUARDRAIL event"),
                ("jump to first fallback", partial(dbg.jump_first, RecordedEventType.FALLBACK),
                 "the first FALLBACK event"),
                ("compare with...", dbg.action_compare,
                 "choose another stream and open the diff"),
                ("search", dbg.action_search_prompt, "search tokens, content and payloads"),
                ("play / pause", dbg.action_play, "playback at the chosen speed"),
                ("toggle pacing (recorded / uniform)", dbg.action_pacing,
                 "recorded timing or a steady rate"),
                ("toggle follow", dbg.action_follow, "follow a stream still being written"),
                ("show event", dbg.action_show_event, "the whole event at the cursor"),
                ("export...", dbg.action_export,
                 "JSONL slice, Markdown report or SVG screenshot"),
                ("back to the stream list", dbg.action_back, "close this stream"),
            ]
        stream_ids: list[str] = []
        for candidate in reversed(self.app.screen_stack):
            if isinstance(candidate, BrowserScreen):
                stream_ids = candidate.shown_ids  # the rows on hand (a window)
                break
        for stream_id in stream_ids:
            out.append((f"open stream {clean(stream_id, limit=80)}",
                        partial(_open_stream, screen, stream_id),
                        "open it in the debugger"))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands()[:40]:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
