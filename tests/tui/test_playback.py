"""Playback: the Player's arithmetic on a fake clock, and the keys that drive it."""

from __future__ import annotations

from l0core.stores.memory import InMemoryEventStore
from l0core.timeline import Timeline
from l0tui.app import L0TuiApp
from l0tui.playback import SPEEDS, UNIFORM_EVENTS_PER_SECOND, Player
from l0tui.screens.debugger import DebuggerScreen
from tests.tui.conftest import FakeClock, settle
from tests.tui.streams import long_events


def timeline(n: int = 101, step: float = 10.0) -> Timeline:
    from l0core.events import EventEnvelope

    events = long_events(n, step=step)
    return Timeline("t", [EventEnvelope("t", i, e) for i, e in enumerate(events)])


def test_recorded_pacing_follows_timestamps(clock: FakeClock) -> None:
    tl = timeline(step=10.0)  # one event every 10 ms
    player = Player(clock)
    player.play(tl, 0)
    clock.advance(0.095)
    assert player.tick() == 9
    player.faster()  # 2x from here
    clock.advance(0.1)
    assert player.tick() == 29
    clock.advance(10)
    assert player.tick() == 100
    assert not player.playing and player.at_end


def test_uniform_pacing_and_pause(clock: FakeClock) -> None:
    tl = timeline(step=1000.0)
    player = Player(clock, pacing="uniform")
    player.play(tl, 10)
    clock.advance(1.0)
    assert player.tick() == 10 + int(UNIFORM_EVENTS_PER_SECOND)
    player.pause()
    clock.advance(5)
    assert player.tick() is None


def test_speed_steps_double_and_clamp(clock: FakeClock) -> None:
    player = Player(clock)
    seen = [player.speed]
    for _ in range(12):
        seen.append(player.faster())
    assert seen[-1] == 64.0 and sorted(set(seen)) == [s for s in SPEEDS if s >= 1.0]
    for _ in range(12):
        player.slower()
    assert player.speed == 0.25


def test_seek_while_playing_reanchors(clock: FakeClock) -> None:
    tl = timeline(step=10.0)
    player = Player(clock)
    player.play(tl, 0)
    clock.advance(0.05)
    player.seek(60)
    clock.advance(0.05)
    assert player.tick() == 65


def test_play_at_end_restarts_from_zero(clock: FakeClock) -> None:
    tl = timeline()
    player = Player(clock)
    player.play(tl, tl.last_seq)
    clock.advance(0.0)
    assert player.tick() == 0


async def test_keys_play_pause_speed_and_pacing(store: InMemoryEventStore,
                                                clock: FakeClock) -> None:
    app = L0TuiApp(store, stream_id="retry-run", clock=clock)  # 50 ms between events
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dbg = app.screen
        assert isinstance(dbg, DebuggerScreen)
        await pilot.press("space")
        assert dbg.player.playing and "playing" in dbg.title_text
        clock.advance(0.12)
        dbg.tick()
        assert dbg.cursor == 2
        await pilot.press("plus", "plus")  # 4x
        assert dbg.player.speed == 4.0 and "4x" in dbg.title_text
        clock.advance(0.05)  # 200 ms of stream time
        dbg.tick()
        assert dbg.cursor == 6
        await pilot.press("space")
        assert not dbg.player.playing and "paused" in dbg.title_text
        clock.advance(10)
        dbg.tick()
        assert dbg.cursor == 6
        await pilot.press("minus", "minus", "minus", "minus")
        assert dbg.player.speed == 0.25 and "0.25x" in dbg.title_text
        await pilot.press("p")
        assert dbg.player.pacing == "uniform" and "uniform" in dbg.title_text
        await pilot.press("space")
        clock.advance(1.0)  # 0.25 x 20 events/s = 5 events
        dbg.tick()
        assert dbg.cursor == 11
        clock.advance(100)
        dbg.tick()
        assert dbg.cursor == 14 and not dbg.player.playing, "stops at the end"
        assert "end" in dbg.title_text
