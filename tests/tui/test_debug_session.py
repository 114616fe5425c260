"""The debugger's model without Textual: cursor, jumps, search, playback, title, exports.

Plain pytest, no Pilot: :class:`~l0tui.debug_session.DebugSession` is fed envelopes
the way the screen's loading worker feeds it.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from l0core import encode_envelope
from l0core.events import EventEnvelope, RecordedEvent, RecordedEventType
from l0tui.debug_export import EXPORT_CHOICES, write_export
from l0tui.debug_session import DebugSession, Title
from l0tui.playback import Player
from l0tui.search import StreamSearch
from l0tui.widgets.debug_title import render_title
from tests.tui.conftest import FakeClock
from tests.tui.streams import long_events, retry_run, running_run

K = RecordedEventType


def envelopes(stream_id: str, events: list[RecordedEvent]) -> list[EventEnvelope]:
    return [EventEnvelope(stream_id, seq, event) for seq, event in enumerate(events)]


def loaded(events: list[RecordedEvent] | None = None, *, clock: FakeClock | None = None,
           stream_id: str = "retry-run") -> DebugSession:
    session = DebugSession(stream_id, Player(clock or FakeClock()))
    session.add(envelopes(stream_id, events if events is not None else retry_run()))
    session.loaded = True
    return session


def test_goto_clamps_and_tells_each_observer_once_per_move() -> None:
    session = loaded()
    seen: list[int] = []
    session.observe(seen.append)
    session.goto(3)
    session.goto(99)
    session.goto(-5)
    assert seen == [3, 14, 0] and session.cursor == 0


def test_an_empty_session_never_moves() -> None:
    session = DebugSession("nothing")
    seen: list[int] = []
    session.observe(seen.append)
    session.goto(4)
    assert seen == [] and session.cursor == 0 and session.is_empty
    assert session.landmark(1) is None and session.field_change("content", -1) is None
    assert session.envelope is None and session.attempt is None
    assert session.changed == frozenset()
    assert session.status == "empty" and session.title().status == "empty"


def test_what_is_shown_at_the_cursor() -> None:
    session = loaded()
    session.goto(3)
    assert session.changed == {"content", "token_count"}
    envelope = session.envelope
    assert envelope is not None and envelope.seq == 3 and envelope.event.type == "TOKEN"
    attempt = session.attempt
    assert attempt is not None and attempt.number == 1
    session.goto(10)
    attempt = session.attempt
    assert attempt is not None and attempt.number == 2 and attempt.started_by == "retry"
    assert "retry_attempts" not in session.changed
    session.goto(8)
    assert "retry_attempts" in session.changed


def test_add_says_where_the_cursor_goes() -> None:
    events = envelopes("running", long_events(10)[:-1])  # no COMPLETE yet
    session = DebugSession("running", Player(FakeClock()))
    assert session.add(events[:3]) == 0, "the first events: show the first one"
    assert session.model == "m"
    assert session.add(events[3:4]) is None, "not following: the cursor stays"
    session.following = True
    assert session.add(events[4:5]) is None, "following but the cursor is not at the end"
    session.goto(session.timeline.last_seq)
    assert session.add(events[5:6]) == 5, "following at the end: stick to the end"
    session.goto(session.timeline.last_seq)
    session.player.play(session.timeline, 0)
    assert session.add(events[6:7]) is None, "playing: playback owns the cursor"


def test_landmark_kind_and_field_jumps() -> None:
    session = loaded()
    assert session.landmark(1) == 7  # GUARDRAIL
    session.goto(7)
    assert session.landmark(1) == 8  # RETRY
    assert session.landmark(-1) == 0  # START
    assert session.landmark(1, K.COMPLETE) == 14
    assert session.landmark(1, K.ERROR) is None
    assert session.first_of(K.RETRY) == 8 and session.first_of(K.ERROR) is None
    session.goto(12)
    assert session.field_change("retry_attempts", -1) == 8
    assert session.field_change("completed", 1) == 14


def test_seq_from_text() -> None:
    session = loaded()
    assert session.seq_from_text(" 11 ") == 11
    assert session.seq_from_text("#4") == 4
    assert session.seq_from_text("-1") == 14
    with pytest.raises(ValueError):
        session.seq_from_text("x")


def test_search_walks_the_matches_and_wraps_around() -> None:
    session = loaded()
    session.run_search("Bob")
    matches = session.matches
    assert len(matches) >= 2 and matches == sorted(set(matches))
    assert session.match(1, inclusive=True) == matches[0]
    session.goto(matches[0])
    assert session.match(1, inclusive=True) == matches[0], "inclusive: the cursor's own seq"
    assert session.match(1) == matches[1]
    assert session.match(-1) == matches[-1], "wraps around at the start"
    session.goto(matches[-1])
    assert session.match(1) == matches[0], "wraps around at the end"
    title = session.title()
    assert (title.search_text, title.match_position, title.match_count) == (
        "Bob", len(matches), len(matches))


def test_search_regex_errors_and_clearing() -> None:
    timeline = loaded().timeline
    search = StreamSearch()
    search.run(timeline, "re:B.b")
    assert search.matches, "re: prefix: a regular expression"
    with pytest.raises(ValueError):
        search.run(timeline, "re:(")
    assert search.text == "re:(" and search.matches == []
    assert search.target(3, 1) is None
    search.run(timeline, "")
    assert search.text == "" and search.matches == []
    assert search.position(14) == 0


def test_search_position_counts_matches_at_or_before_the_cursor() -> None:
    search = StreamSearch()
    search.matches = [2, 5, 9]
    assert [search.position(c) for c in (0, 2, 4, 5, 9, 20)] == [0, 1, 1, 2, 3, 3]
    assert search.target(5, 1) == 9 and search.target(5, -1) == 2
    assert search.target(5, 1, inclusive=True) == 5


def test_playback_moves_the_cursor_through_the_observers(clock: FakeClock) -> None:
    session = loaded(clock=clock)
    seen: list[int] = []
    session.observe(seen.append)
    session.player.toggle_pacing()  # uniform: 20 events per second at 1x
    session.goto(14)
    session.play_pause()  # at the end: start again from the first event
    assert session.player.playing and session.cursor == 0 and seen[-1] == 0
    clock.advance(0.1)
    assert session.tick() is False and session.cursor == 2
    session.play_pause()
    assert not session.player.playing and session.title().playback == "paused"
    clock.advance(10)
    assert session.tick() is False and session.cursor == 2, "paused: nothing moves"
    session.goto(14)
    session.play_pause()
    session.goto(13)
    clock.advance(10)
    session.tick()
    assert session.cursor == 14 and not session.player.playing
    assert session.title().playback == "end"


def test_tick_reports_a_stop_that_did_not_move_the_cursor(clock: FakeClock) -> None:
    session = loaded(clock=clock)
    session.goto(13)
    session.play_pause()
    clock.advance(10)
    assert session.tick() is False and session.cursor == 14  # moved: observers saw it
    session.goto(13)
    session.play_pause()
    session.goto(14, from_player=True)  # playback already at the end
    clock.advance(10)
    assert session.tick() is True, "stopped without a move: only the title changes"


def test_title_is_plain_data_and_unchanged_by_most_moves() -> None:
    session = DebugSession("retry-run", Player(FakeClock()))
    session.expected_total = 15
    session.add(envelopes("retry-run", retry_run())[:5])
    assert session.title().loading == (5, 15)
    assert session.loading_note == "loading 5/15"
    session.add(envelopes("retry-run", retry_run())[5:])
    session.loaded = True
    assert session.title().loading is None and session.loading_note == ""
    first = session.title()
    assert first == Title(stream_id="retry-run", model="gpt-4o", status="completed",
                          playback="paused", speed=1.0, pacing="recorded", following=False,
                          search_text="", match_position=0, match_count=0, loading=None)
    session.goto(9)
    assert session.title() == first, "a step without a search leaves the title as it was"
    session.following = True
    assert session.title().following


def test_status_and_follow() -> None:
    running = loaded(running_run(), stream_id="running")
    assert running.status == "running" and not running.is_terminated and running.can_follow
    running.follow_finished = True
    assert not running.can_follow
    done = loaded()
    assert done.status == "completed" and done.is_terminated and not done.can_follow


def test_render_title_escapes_and_shows_each_part() -> None:
    title = Title(stream_id="evil\x1b[31m", model="m", status="error", playback="playing",
                  speed=4.0, pacing="uniform", following=True, search_text="Bob",
                  match_position=1, match_count=3, loading=(5, 10))
    text = render_title(title).plain
    assert "\x1b" not in text
    for part in ("m", "error", "▶ playing", "4x uniform", "follow", "/Bob 1/3",
                 "loading 50% (5/10)"):
        assert part in text


def test_exports_write_the_chosen_file(tmp_path: Path) -> None:
    session = loaded()
    session.goto(6)
    shots: list[str] = []

    def screenshot(path: str) -> str:
        shots.append(path)
        return path

    assert [c.kind for c in EXPORT_CHOICES] == ["jsonl-to-cursor", "jsonl", "markdown", "svg"]
    path = write_export(session, "jsonl-to-cursor", source="memory://", screenshot=screenshot,
                        directory=str(tmp_path))
    lines = Path(path).read_text().splitlines()
    expected = [encode_envelope(e) for e in envelopes("retry-run", retry_run())]
    assert Path(path).name == "retry-run-0-6.jsonl"
    assert [orjson.loads(line) for line in lines] == expected[:7]
    path = write_export(session, "markdown", source="memory://", screenshot=screenshot,
                        directory=str(tmp_path))
    assert "memory://" in Path(path).read_text()
    path = write_export(session, "svg", source="", screenshot=screenshot,
                        directory=str(tmp_path))
    assert shots == [str(tmp_path / "retry-run-6.svg")] == [path]
    with pytest.raises(ValueError):
        write_export(session, "pdf", source="", screenshot=screenshot, directory=str(tmp_path))
