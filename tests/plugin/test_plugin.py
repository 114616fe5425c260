"""The pytest plugin, run by ``pytester`` on throwaway projects that call the real SDKs.

Recording goes to :class:`~l0core.testing.fake_provider.FakeProvider`, a local
server speaking each API's SSE; replay runs with every socket blocked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from l0core.testing.fake_provider import FakeProvider, Reply
from tests.plugin.project import (
    UNUSED,
    block_network,
    lines_in_order,
    make_ini,
    no_credentials,
    plugin_args,
    printed_command,
    recorded,
    run,
    run_subprocess,
    tokens,
    use_fake,
)

pytest_plugins = ["pytester"]

ASK = '''
def ask(client, question):
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}], stream=True)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
'''

CAPITAL_TEST = ASK + '''

from l0core.pytest_plugin import assert_content


def test_capital(l0_openai):
    assert_content(ask(l0_openai("capital"), "Capital of France?"), "Paris is the capital.")
'''

PARIS = Reply(texts=["Paris", " is", " the", " capital."])


@pytest.fixture(autouse=True)
def _project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    no_credentials(monkeypatch)
    make_ini(pytester)


def test_record_creates_the_file_and_replay_passes_offline(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_capital=CAPITAL_TEST)
    with FakeProvider(default=PARIS) as fake:
        use_fake(monkeypatch, fake)
        result = run(pytester, "--l0-record=once")
        result.assert_outcomes(passed=1)
        assert len(fake.requests) == 1
    path = pytester.path / "recordings" / "capital.jsonl"
    events = recorded(path)
    assert events[0]["event"]["type"] == "START"
    assert events[0]["event"]["options"]["prompt"] == "Capital of France?"
    assert tokens(path) == ["Paris", " is", " the", " capital."]
    assert events[-1]["event"] == {**events[-1]["event"], "type": "COMPLETE",
                                   "content": "Paris is the capital."}

    no_credentials(monkeypatch)
    block_network(pytester)
    offline = run(pytester)
    offline.assert_outcomes(passed=3)  # the replay, and the two proofs the guard bites
    before = path.read_bytes()
    again = run(pytester, "--l0-record=once")  # once: an existing recording is only read
    again.assert_outcomes(passed=3)
    assert path.read_bytes() == before


def test_missing_recording_says_how_to_record_and_that_command_records(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_capital=CAPITAL_TEST)
    result = run_subprocess(pytester)
    result.assert_outcomes(failed=1)
    plugin = " ".join(plugin_args())
    plugin = plugin + " " if plugin else ""
    result.stdout.fnmatch_lines([
        "no recording 'capital' (looked for recordings/capital.jsonl, record mode none); "
        f"record it with: pytest {plugin}test_capital.py::test_capital --l0-record=once"])
    command = printed_command(result.stdout.str())
    with FakeProvider(default=PARIS) as fake:
        use_fake(monkeypatch, fake)
        recording = pytester.runpytest_subprocess(*UNUSED, *command)
        recording.assert_outcomes(passed=1)
    assert (pytester.path / "recordings" / "capital.jsonl").exists()


def test_ci_always_replays(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_capital=CAPITAL_TEST)
    make_ini(pytester, "l0_record_mode = once")
    with FakeProvider(default=PARIS) as fake:
        use_fake(monkeypatch, fake)
        monkeypatch.setenv("CI", "true")
        ci = run(pytester)
        ci.assert_outcomes(failed=1)
        ci.stdout.fnmatch_lines(["*record mode none*"])
        assert fake.requests == []
        monkeypatch.delenv("CI")
        local = run(pytester)  # the ini's mode outside CI
        local.assert_outcomes(passed=1)
        assert len(fake.requests) == 1


def test_changed_model_output_fails_with_the_word_diff(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_capital=CAPITAL_TEST)
    with FakeProvider(default=PARIS) as fake:
        use_fake(monkeypatch, fake)
        run(pytester, "--l0-record=once").assert_outcomes(passed=1)
    changed = Reply(texts=["Lyon", " is", " the", " capital."])
    with FakeProvider(default=changed) as fake:
        use_fake(monkeypatch, fake)
        rerecorded = run(pytester, "--l0-record=all")
    rerecorded.assert_outcomes(failed=1)
    lines_in_order(rerecorded, [
        "content differs from the expected:",
        "words that differ ([-expected-] {+actual+}), 1 change(s):",
        "  [-Paris-]{+Lyon+} is the capital.",
        "- l0 recordings -",
        f"recorded: {pytester.path}/recordings/capital.jsonl",
        f"open it: l0tui {pytester.path}/recordings --stream capital",
    ])
    no_credentials(monkeypatch)
    block_network(pytester)
    replayed = run(pytester)
    replayed.assert_outcomes(failed=1, passed=2)
    lines_in_order(replayed, ["[-Paris-]{+Lyon+} is the capital.",
                              f"replayed: {pytester.path}/recordings/capital.jsonl"])


PACED = '''
import pytest

def test_gaps(l0_openai, l0_clock):
    client = l0_openai("paced", speed=2.0, clock=l0_clock)
    arrivals = []
    for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(l0_clock.now)
    # tokens were recorded 120, 370, 1370 and 1400 ms after START; at speed 2, half that
    assert arrivals == pytest.approx([0.060, 0.185, 0.685, 0.700], abs=0.001)
    assert l0_clock.now == pytest.approx(0.725, abs=0.001)  # COMPLETE at 1450 ms

async def test_gaps_async(l0_openai, l0_clock):
    client = l0_openai("paced", speed=0.5, clock=l0_clock, asynchronous=True)
    arrivals = []
    async for chunk in await client.chat.completions.create(model="m", messages=[], stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(l0_clock.now)
    assert arrivals == pytest.approx([0.24, 0.74, 2.74, 2.80], abs=0.001)

def test_gaps_anthropic(l0_anthropic, l0_clock):
    client = l0_anthropic("paced", speed=1.0, clock=l0_clock)
    arrivals = []
    with client.messages.stream(model="c", max_tokens=9, messages=[]) as stream:
        for text in stream.text_stream:
            arrivals.append(l0_clock.now)
    assert arrivals == pytest.approx([0.12, 0.37, 1.37, 1.40], abs=0.001)

def test_instant_by_default(l0_openai, l0_clock):
    client = l0_openai("paced", clock=l0_clock)
    text = "".join(c.choices[0].delta.content or ""
                   for c in client.chat.completions.create(model="m", messages=[], stream=True)
                   if c.choices)
    assert text == "Slow and steady!" and l0_clock.sleeps == []
'''


def _paced_recording(directory: Path, last: str = "!") -> None:
    start = 1_700_000_000_000
    events = [{"type": "START", "ts": start, "options": {"model": "gpt-4o-mini"}}]
    for i, (at, value) in enumerate([(120, "Slow"), (370, " and"), (1370, " steady"),
                                     (1400, last)]):
        events.append({"type": "TOKEN", "ts": start + at, "value": value, "index": i})
    events.append({"type": "COMPLETE", "ts": start + 1450, "content": "Slow and steady" + last,
                   "tokenCount": 4})
    directory.mkdir(exist_ok=True)
    (directory / "paced.jsonl").write_text("".join(
        json.dumps({"streamId": "paced", "seq": seq, "event": e}) + "\n"
        for seq, e in enumerate(events)))


def test_speed_replays_the_recorded_gaps_on_an_injected_clock(
        pytester: pytest.Pytester) -> None:
    _paced_recording(pytester.path / "recordings")
    pytester.makepyfile(test_paced=PACED)
    block_network(pytester)
    run(pytester).assert_outcomes(passed=6)


CALLS = ASK + '''

def test_three_calls(l0_openai):
    client = l0_openai("chat")
    answers = [ask(client, q) for q in ("one?", "two?", "three?")[:CALLS]]
    assert answers == [ANSWER] * CALLS
'''


def test_modes_none_once_new_all_for_several_calls(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = pytester.path / "recordings"

    def project(calls: int, answer: str) -> None:
        pytester.makepyfile(test_chat=f"CALLS = {calls}\nANSWER = {answer!r}\n" + CALLS)

    with FakeProvider(default=Reply(texts=["first"])) as fake:
        use_fake(monkeypatch, fake)
        project(2, "first")
        run(pytester, "--l0-record=once").assert_outcomes(passed=1)
        assert sorted(p.name for p in directory.glob("*.jsonl")) == ["chat-2.jsonl", "chat.jsonl"]
        assert len(fake.requests) == 2
        assert [r.body["messages"][0]["content"] for r in fake.requests] == ["one?", "two?"]
        kept = {p.name: p.read_bytes() for p in directory.glob("*.jsonl")}

        project(3, "first")  # the code now makes a third call
        for mode in ("none", "once"):
            more = run(pytester, f"--l0-record={mode}")
            more.assert_outcomes(failed=1)
            more.stdout.fnmatch_lines([
                f"recording 'chat' holds 2 call(s) and the code under test made call 3 "
                f"(record mode {mode}); record the new call(s) with: pytest *"
                "test_chat.py::test_three_calls --l0-record=new (or --l0-record=all to "
                "record every call again)"])
        assert len(fake.requests) == 2

        run(pytester, "--l0-record=new").assert_outcomes(passed=1)
        assert len(fake.requests) == 3
        assert {p.name: p.read_bytes() for p in directory.glob("*.jsonl") if p.name in kept} == kept
        assert tokens(directory / "chat-3.jsonl") == ["first"]

    with FakeProvider(default=Reply(texts=["second"])) as fake:
        use_fake(monkeypatch, fake)
        project(2, "second")
        run(pytester, "--l0-record=all").assert_outcomes(passed=1)
        assert sorted(p.name for p in directory.glob("*.jsonl")) == ["chat-2.jsonl", "chat.jsonl"]
        assert tokens(directory / "chat.jsonl") == tokens(directory / "chat-2.jsonl") == [
            "second"]
    no_credentials(monkeypatch)
    block_network(pytester)
    run(pytester).assert_outcomes(passed=3)


EVERY_API = '''
import anthropic
import openai
import pytest

QUESTION = [{"role": "user", "content": "Hi?"}]

def test_openai_stream_helper(l0_openai):
    with l0_openai("helper").chat.completions.stream(model="gpt-4o", messages=QUESTION) as s:
        assert s.get_final_completion().choices[0].message.content == "Hello there"

def test_openai_not_streamed(l0_openai):
    answer = l0_openai("whole").chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert answer.choices[0].message.content == "Hello there"

async def test_openai_async(l0_openai):
    client = l0_openai("async", asynchronous=True)
    stream = await client.chat.completions.create(model="gpt-4o", messages=QUESTION,
                                                  stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream
                    if c.choices]) == "Hello there"

def test_openai_responses(l0_openai):
    stream = l0_openai("responses").responses.create(model="gpt-4o", input="Hi?", stream=True)
    assert "".join(e.delta for e in stream
                   if e.type == "response.output_text.delta") == "Hello there"

def test_anthropic_stream_helper(l0_anthropic):
    client = l0_anthropic("claude")
    with client.messages.stream(model="claude-x", max_tokens=9, messages=QUESTION) as s:
        assert s.get_final_text() == "Hello there"

async def test_anthropic_async_create(l0_anthropic):
    client = l0_anthropic("claude-async", asynchronous=True)
    stream = await client.messages.create(model="claude-x", max_tokens=9, messages=QUESTION,
                                          stream=True)
    texts = [e.delta.text async for e in stream if e.type == "content_block_delta"]
    assert "".join(texts) == "Hello there"

def test_anthropic_not_streamed(l0_anthropic):
    message = l0_anthropic("claude-whole").messages.create(model="claude-x", max_tokens=9,
                                                           messages=QUESTION)
    assert message.content[0].text == "Hello there"
'''


def test_every_sdk_entry_point_records_then_replays_offline(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_apis=EVERY_API)
    with FakeProvider(default=Reply(texts=["Hello", " there"])) as fake:
        use_fake(monkeypatch, fake)
        # the fake only streams, so the two stream=False calls are recorded elsewhere
        result = run(pytester, "--l0-record=once", "-k", "not not_streamed")
        result.assert_outcomes(passed=5, deselected=2)
    directory = pytester.path / "recordings"
    for name in ("helper", "async", "responses", "claude", "claude-async"):
        assert "".join(tokens(directory / f"{name}.jsonl")) == "Hello there", name
    for whole in ("whole", "claude-whole"):  # a stream=False call replays a streamed recording
        (directory / f"{whole}.jsonl").write_text(
            (directory / "helper.jsonl").read_text().replace('"helper"', f'"{whole}"'))
    no_credentials(monkeypatch)
    block_network(pytester)
    run(pytester).assert_outcomes(passed=9)


L0_RUN = '''
import httpx2
import openai
import pytest

from l0core.pytest_plugin import assert_retries_at_most

def test_each_attempt_is_one_call(l0_openai, l0_recording):
    client = l0_openai("02-network-retry-continuation")
    with pytest.raises((openai.APIConnectionError, httpx2.RemoteProtocolError)):
        for _ in client.chat.completions.create(model="m", messages=[], stream=True):
            pass
    resumed = client.chat.completions.create(model="m", messages=[], stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in resumed if c.choices)
    run = l0_recording("02-network-retry-continuation")
    assert text.startswith(", PostgreSQL reads the whole orders table")
    assert_retries_at_most(run, 1)
    assert_retries_at_most(run, 0)
'''


def test_an_l0_run_replays_attempt_by_attempt(pytester: pytest.Pytester) -> None:
    directory = pytester.path / "recordings"
    directory.mkdir()
    source = Path(__file__).resolve().parents[2] / "demo_streams"
    name = "02-network-retry-continuation.jsonl"
    (directory / name).write_bytes((source / name).read_bytes())
    pytester.makepyfile(test_run=L0_RUN)
    block_network(pytester)
    result = run(pytester)
    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines([
        "*1 retry, expected at most 0 (0 model, 1 network):",
        "*#* retry 1: network_error: Connection reset by peer*(network)",
        "*- l0 recordings -*",
        f"replayed: {directory}/{name}",
        f"read: {directory}/{name}",
        f"open it: l0tui {directory} --stream 02-network-retry-continuation",
    ])


def test_l0_recording_loads_by_name_and_fails_with_the_export_hint(
        pytester: pytest.Pytester) -> None:
    directory = pytester.path / "fixtures"
    directory.mkdir()
    demo = Path(__file__).resolve().parents[2] / "demo_streams" / "03-guardrail-retry.jsonl"
    (directory / "03-guardrail-retry.jsonl").write_bytes(demo.read_bytes())
    make_ini(pytester, "l0_recordings_dir = fixtures")
    pytester.makepyfile(test_load='''
from l0core.pytest_plugin import assert_no_violations

def test_violations(l0_recording):
    assert_no_violations(l0_recording("03-guardrail-retry"))

def test_missing(l0_recording):
    l0_recording("nope")
''')
    result = run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*1 guardrail violation(s):",
        "*no-medical-claims (error): 'clinically proven' is a medical claim*",
        f"read: {directory}/03-guardrail-retry.jsonl",
    ])
    result.stdout.fnmatch_lines([
        "no recording 'nope' (looked for fixtures/nope.jsonl, record mode none); put one "
        "there: l0tui export STORE STREAM_ID -o fixtures/nope.jsonl, or record it through "
        "the l0_openai or l0_anthropic fixture with: pytest *test_load.py::test_missing "
        "--l0-record=once"])


def test_the_plugin_is_inert_and_light_without_its_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    run_subprocess(pytester).assert_outcomes(passed=1)
    helped = run_subprocess(pytester, "--help")
    helped.stdout.fnmatch_lines(["*--l0-record=*", "*l0_recordings_dir*"])
    bad = run_subprocess(pytester, "--l0-record=sometimes")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, l0core.pytest_plugin; print(sorted(m for m in "
         "('openai', 'anthropic', 'httpx2', 'l0core.pytest_plugin.sdk_clients') "
         "if m in sys.modules))"], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "[]"
