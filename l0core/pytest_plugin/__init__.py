"""The l0 pytest plugin: record an LLM call once, replay it in every later run, offline.

Fixtures (each a factory taking the recording's name):

- ``l0_recording("name")``: the recording ``<test dir>/recordings/name.jsonl``
  loaded into a :class:`~l0core.recorded.RecordedEventStore`;
- ``l0_openai("name")`` / ``l0_anthropic("name")``: an ``openai`` / ``anthropic``
  client for the code under test. It replays the recording through the SDK,
  chunk by chunk, with no network; with ``--l0-record`` it calls the real API and
  records the call (:mod:`.sdk_clients`). ``speed=`` replays the recorded gaps
  (``clock=`` an ``l0_clock`` to wait on a fake clock); ``asynchronous=True`` gives
  the async client; other keywords go to the client;
- ``l0_clock``: a :class:`~l0core.pytest_plugin.clock.ReplayClock`;
- ``l0_recordings``: the test's :class:`~l0core.pytest_plugin.recordings.Recordings`.

Record modes, ``--l0-record=none|once|new|all`` (:mod:`.modes`). Assertions with
readable diffs: :mod:`l0core.recorded.assertions`, re-exported here. A failing
test that used a recording gets an "l0 recordings" section naming the files and
the ``l0tui`` command that opens them.

Importing this module imports no SDK and no HTTP client: a run that uses none of
the fixtures pays only for the hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

from l0core.pytest_plugin.clock import ReplayClock
from l0core.pytest_plugin.modes import DEFAULT_DIR, INI_DIR, INI_MODE, MODES, OPTION
from l0core.pytest_plugin.recordings import USED, Recordings

if TYPE_CHECKING:
    from l0core.pytest_plugin.sdk_clients import SDKReplay
    from l0core.recorded.load import RecordedEventStore

__all__ = ["ReplayClock", "assert_content", "assert_final_state", "assert_no_violations",
           "assert_retries_at_most"]

_ASSERTIONS = frozenset(__all__) - {"ReplayClock"}


def __getattr__(name: str) -> Any:
    """The assertions of :mod:`l0core.recorded.assertions`, imported when first asked for."""
    if name in _ASSERTIONS:
        from l0core.recorded import assertions

        return getattr(assertions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("l0", "l0core recordings")
    group.addoption(
        OPTION, dest="l0_record", choices=MODES, default=None,
        help="record LLM calls for l0_openai/l0_anthropic: none (replay only, the default; "
             "always in CI), once (record what is missing), new (also record calls a "
             "recording lacks), all (record every call again)")
    parser.addini(INI_MODE, "record mode when --l0-record is not given (none in CI)",
                  default="none")
    parser.addini(INI_DIR, "directory of the recordings, relative to each test file",
                  default=DEFAULT_DIR)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    used = item.stash.get(USED, None)
    if report.failed and used:
        lines = [f"{entry.how}: {entry.path}" for entry in used]
        first = used[0]
        lines.append(f"open it: l0tui {first.path.parent} --stream {first.stream_id}")
        report.sections.append(("l0 recordings", "\n".join(lines)))
    return report


@pytest.fixture
def l0_recordings(request: pytest.FixtureRequest) -> Recordings:
    """Where this test's recordings are, and the run's record mode."""
    return Recordings(request)


@pytest.fixture
def l0_recording(l0_recordings: Recordings) -> Callable[[str], RecordedEventStore]:
    """``l0_recording("name")``: the recording loaded in memory (all of its calls)."""
    return l0_recordings.load


@pytest.fixture
def l0_clock() -> ReplayClock:
    """A clock that moves only when a paced replay (or the test) sleeps on it."""
    return ReplayClock()


def _sdk_factory(recordings: Recordings, provider_name: str,
                 made: list[SDKReplay]) -> Callable[..., Any]:
    def factory(name: str, *, speed: float = 0.0, clock: Any = None,
                asynchronous: bool = False, **client_options: Any) -> Any:
        from l0core.pytest_plugin.providers import ANTHROPIC, OPENAI
        from l0core.pytest_plugin.sdk_clients import SDKReplay, make_client

        provider = OPENAI if provider_name == "openai" else ANTHROPIC
        replay = SDKReplay(recordings, name, provider, speed=speed, pacer=clock)
        made.append(replay)
        return make_client(replay, asynchronous=asynchronous, kwargs=client_options)

    return factory


@pytest.fixture
def l0_openai(l0_recordings: Recordings) -> Generator[Callable[..., Any], None, None]:
    """``l0_openai("name")``: an ``openai.OpenAI`` client that replays (or records) the
    recording ``name``; ``asynchronous=True`` for ``AsyncOpenAI``."""
    made: list[SDKReplay] = []
    yield _sdk_factory(l0_recordings, "openai", made)
    for replay in made:
        replay.close()


@pytest.fixture
def l0_anthropic(l0_recordings: Recordings) -> Generator[Callable[..., Any], None, None]:
    """``l0_anthropic("name")``: an ``anthropic.Anthropic`` client that replays (or records)
    the recording ``name``; ``asynchronous=True`` for ``AsyncAnthropic``."""
    made: list[SDKReplay] = []
    yield _sdk_factory(l0_recordings, "anthropic", made)
    for replay in made:
        replay.close()
