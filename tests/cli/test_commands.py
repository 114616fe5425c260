"""Every headless subcommand through the real entry point (``l0tui.cli.run``, in-process)."""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import pytest

from l0core import InMemoryEventStore
from l0core.codec import encode_envelope
from l0tui import commands
from l0tui.commands import replay_cmd, verify_cmd
from l0tui.output import Output
from tests.cli.conftest import Runner
from tests.cli.streams import (
    BAD_FIRST,
    BAD_SECOND,
    GOOD_TOKENS,
    HOSTILE,
    T0,
    bad_run,
    fill,
    good_run,
)


def _one_line_error(result: object) -> None:
    assert result.status == 2  # type: ignore[attr-defined]
    err = result.err  # type: ignore[attr-defined]
    assert err.startswith("l0tui: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


# ───────────────────────────── help and usage ─────────────────────────────


def test_help_for_the_tui_and_every_command_has_an_example(cli: Runner) -> None:
    top = cli("--help")
    assert top.status == 0
    assert "usage: l0tui [STORE] [--stream ID]" in top.out
    for name in commands.NAMES:
        assert f"\n  {name} " in top.out
        result = cli(name, "--help")
        assert result.status == 0, name
        assert f"usage: l0tui {name}" in result.out
        assert "examples:\n  l0tui " + name in result.out, name


def test_usage_errors_are_one_line_with_status_2(cli: Runner, store_dir: str) -> None:
    _one_line_error(cli("ls", store_dir, "--bogus"))
    _one_line_error(cli("show", store_dir))  # missing ID
    _one_line_error(cli("show", store_dir, "good_run", "--seq", "x"))
    _one_line_error(cli("events", store_dir, "good_run", "--kind", "NOPE"))
    _one_line_error(cli("events", store_dir, "good_run", "--from", "5", "--to", "2"))
    _one_line_error(cli("replay", store_dir, "good_run", "--speed", "-1"))
    _one_line_error(cli("export", store_dir, "good_run", "--format", "pdf"))


def test_store_and_stream_errors_are_one_line(cli: Runner, tmp_path: Path, store_dir: str) -> None:
    missing = cli("ls", str(tmp_path / "nowhere"))
    _one_line_error(missing)
    assert "no such file or directory" in missing.err
    unknown = cli("show", store_dir, "no_such_stream")
    _one_line_error(unknown)
    assert "no_such_stream" in unknown.err and "not found" in unknown.err
    _one_line_error(cli("ls", "ftp://example.com/x"))
    _one_line_error(cli("show", store_dir, "../etc/passwd"))
    _one_line_error(cli("ls", "postgresql://user:secret@127.0.0.1:1/none"))
    assert "secret" not in cli("ls", "postgresql://user:secret@127.0.0.1:1/none").err


# ───────────────────────────── ls / show / events ─────────────────────────────


def test_ls_json_and_plain(cli: Runner, store_dir: str) -> None:
    result = cli("ls", store_dir, "--json")
    assert result.status == 0
    rows = {row["streamId"]: row for row in result.json()}
    assert set(rows) == {"good_run", "bad_run", "error_run"}
    assert rows["bad_run"]["retryAttempts"] == 1
    assert rows["bad_run"]["violationCount"] == 1
    assert rows["bad_run"]["eventCount"] == len(bad_run())
    assert rows["error_run"]["status"] == "error"
    assert rows["good_run"]["status"] == "completed"
    assert rows["good_run"]["tokenCount"] == len(GOOD_TOKENS)
    assert rows["good_run"]["model"] == "gpt-test"
    newest_first = sorted(rows, key=lambda sid: (rows[sid]["startTs"], sid), reverse=True)
    plain = cli("ls", store_dir)
    lines = plain.out.splitlines()
    assert lines[0].split("\t")[:2] == ["id", "model"]
    assert [line.split("\t")[0] for line in lines[1:]] == newest_first
    by_id = cli("ls", store_dir, "--sort", "stream_id").out.splitlines()
    assert [line.split("\t")[0] for line in by_id[1:]] == ["bad_run", "error_run", "good_run"]
    assert by_id[1].split("\t")[-1] == "completed"


def test_ls_uses_l0_store_by_default(cli: Runner, store_dir: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("L0_STORE", store_dir)
    assert len(cli("ls", "--json").json()) == 3


def test_show_state_at_a_seq(cli: Runner, store_dir: str) -> None:
    at_retry = cli("show", store_dir, "bad_run", "--seq", "8", "--json").json()
    assert at_retry["seq"] == 8 and at_retry["lastSeq"] == len(bad_run()) - 1
    assert at_retry["event"]["type"] == "RETRY"
    state = at_retry["state"]
    assert state["retryAttempts"] == 1
    assert state["content"] == "".join(BAD_FIRST)
    assert state["violations"][0]["rule"] == "fact-check"
    assert state["completed"] is False
    last = cli("show", store_dir, "bad_run", "--json").json()
    assert last["state"]["content"] == "".join(BAD_SECOND) and last["state"]["completed"]
    assert cli("show", store_dir, "bad_run", "--seq", "-2", "--json").json()["seq"] == 15
    _one_line_error(cli("show", store_dir, "bad_run", "--seq", "99"))
    plain = cli("show", store_dir, "good_run", "--seq", "3")
    assert "token_count: 3\n" in plain.out
    assert "content: The capital of\n" in plain.out


def test_hostile_text_never_reaches_the_terminal(cli: Runner, store_dir: str) -> None:
    for tty in (False, True):
        for argv in (("show", store_dir, "error_run"), ("events", store_dir, "error_run"),
                     ("replay", store_dir, "error_run", "--speed", "0"),
                     ("export", store_dir, "error_run", "--format", "markdown")):
            result = cli(*argv, tty=tty)
            assert result.status == 0, (argv, result.err)
            text = result.out
            assert "\x1b]0;pwned" not in text and "\x1b[31mred" not in text, argv
            assert "\x9b" not in text and "\x07" not in text, argv
            # shown as a visible picture on screens, as a backslash escape in documents
            assert ("\\x1b" if argv[0] == "export" else "\u241b") in text, argv
            if not tty:
                assert "\x1b" not in text, argv
    rich = cli("show", store_dir, "error_run", tty=True).out
    assert "[bold red]boom[/]" in rich  # markup printed literally, not interpreted
    jsonl = cli("events", store_dir, "error_run", "--json")
    assert "\x9b" not in jsonl.out and "\x1b" not in jsonl.out
    assert jsonl.jsonl()[1]["event"]["value"] == HOSTILE


def test_events_range_kind_and_json(cli: Runner, store_dir: str) -> None:
    events = cli("events", store_dir, "bad_run", "--from", "2", "--to", "9", "--json").jsonl()
    assert [e["seq"] for e in events] == list(range(2, 10))
    assert events[0] == {"streamId": "bad_run", "seq": 2,
                         "event": {"type": "TOKEN", "ts": T0 + 60_000 + 405, "value": " capital",
                                   "index": 1}}
    kinds = cli("events", store_dir, "bad_run", "--kind", "retry", "--kind", "GUARDRAIL,complete",
                "--json").jsonl()
    assert [(e["seq"], e["event"]["type"]) for e in kinds] == [
        (7, "GUARDRAIL"), (8, "RETRY"), (16, "COMPLETE")]
    plain = cli("events", store_dir, "bad_run", "--kind", "RETRY").out.splitlines()
    assert plain[0] == "seq\tt_ms\tdelta_ms\tkind\tsummary"
    seq, t_ms, delta, kind, summary = plain[1].split("\t")
    assert (seq, t_ms, delta, kind) == ("8", "690.000", "10.000", "RETRY")
    assert "guardrail: fact-check" in summary
    rich = cli("events", store_dir, "bad_run", "--kind", "RETRY", tty=True).out
    assert "RETRY" in rich and "1 event(s)" in rich


# ───────────────────────────── replay ─────────────────────────────


def test_replay_prints_the_tokens(cli: Runner, store_dir: str) -> None:
    result = cli("replay", store_dir, "good_run", "--speed", "0")
    assert result.status == 0 and result.out == "".join(GOOD_TOKENS) + "\n"
    tokens = cli("replay", store_dir, "bad_run", "--speed", "0", "--json").jsonl()
    assert [t["value"] for t in tokens] == BAD_FIRST + BAD_SECOND
    assert tokens[0]["seq"] == 1
    marked = cli("replay", store_dir, "bad_run", "--speed", "0", tty=True).out
    assert "RETRY" in marked and "GUARDRAIL" in marked


async def test_replay_waits_the_recorded_gaps_divided_by_speed(store_dir: str) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    args = argparse.Namespace(store=store_dir, stream_id="good_run", speed=4.0, max_gap=None,
                              tokens_only=False, json=False, plain=False)
    stdout = io.StringIO()
    status = await replay_cmd.run(args, Output(stdout, io.StringIO(), isatty=False),
                                  sleep=fake_sleep)
    assert status == 0 and stdout.getvalue() == "".join(GOOD_TOKENS) + "\n"
    # START -> first token 120 ms, then 40 ms between tokens, 5 ms to COMPLETE; all / 4
    assert slept == pytest.approx([0.030] + [0.010] * (len(GOOD_TOKENS) - 1) + [0.010, 0.00125])
    slept.clear()
    args.speed, args.max_gap = 1.0, 50.0
    await replay_cmd.run(args, Output(io.StringIO(), io.StringIO(), isatty=False),
                         sleep=fake_sleep)
    assert max(slept) == pytest.approx(0.050)


# ───────────────────────────── export ─────────────────────────────


def test_export_jsonl_slice_is_the_wire_format(cli: Runner, store_dir: str, tmp_path: Path) -> None:
    whole = cli("export", store_dir, "good_run")
    envelopes = whole.jsonl()
    assert [e["seq"] for e in envelopes] == list(range(len(good_run())))
    assert envelopes[0]["event"]["options"]["model"] == "gpt-test"
    assert set(envelopes[0]) == {"streamId", "seq", "event"}
    target = tmp_path / "slice.jsonl"
    result = cli("export", store_dir, "bad_run", "--from", "7", "--to", "8", "-o", str(target))
    assert result.status == 0 and result.out == ""
    assert "wrote 2 event(s)" in result.err
    lines = target.read_text().splitlines()
    assert len(lines) == 2 and '"type":"GUARDRAIL"' in lines[0] and '"RETRY"' in lines[1]


def test_export_markdown_report(cli: Runner, store_dir: str, tmp_path: Path) -> None:
    report = cli("export", store_dir, "bad_run", "--format", "markdown").out
    for heading in ("# Stream bad\\_run", "## Summary", "## Attempts", "## Guardrail violations",
                    "## Errors", "## Final content"):
        assert heading in report
    assert "| retries | 1 (+0 network) |" in report
    assert "| 1 | 0–7 | start | 6 | retried | guardrail: fact-check |" in report
    assert "| 7 | fact-check | error | Lyon is not the capital | yes |" in report
    assert "```text\nThe capital of France is Paris!\n```" in report
    early = cli("export", store_dir, "bad_run", "--format", "markdown", "--to", "3").out
    assert "| events | 4 |" in early
    error = cli("export", store_dir, "error_run", "--format", "markdown").out
    assert "| 2 | TimeoutError |" in error and "timeout" in error
    _one_line_error(cli("export", store_dir, "bad_run", "--format", "markdown", "--from", "2"))


# ───────────────────────────── copy ─────────────────────────────


async def _events(location: str, stream_id: str) -> list[dict[str, object]]:
    from l0core import create_event_store

    store = await create_event_store(location, read_only=True)
    try:
        return [encode_envelope(e) for e in await store.read_events(stream_id)]
    finally:
        await store.close()


def _same_streams(a: str, b: str, names: tuple[str, ...]) -> None:
    import asyncio

    for name in names:
        left, right = asyncio.run(_events(a, name)), asyncio.run(_events(b, name))
        assert left and left == right, name


def test_copy_file_to_sqlite_and_back_keeps_every_event(cli: Runner, store_dir: str,
                                                        tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    result = cli("copy", store_dir, db, "--json")
    assert result.status == 0, result.err
    body = result.json()
    assert body["streams"] == 3
    assert body["events"] == sum(len(f()) for f in (good_run, bad_run)) + 3
    _same_streams(store_dir, db, ("good_run", "bad_run", "error_run"))
    back = str(tmp_path / "back")
    plain = cli("copy", db, back)
    assert plain.status == 0
    assert plain.out.startswith("copied 3 stream(s), 30 event(s) from ")
    _same_streams(db, back, ("good_run", "bad_run", "error_run"))
    # Existing streams are refused, nothing written; --force replaces them.
    again = cli("copy", store_dir, db)
    _one_line_error(again)
    assert "already exist" in again.err and "--force" in again.err
    forced = cli("copy", store_dir, db, "--force", "--stream", "good_run", "--json").json()
    assert forced["replaced"] == ["good_run"] and forced["events"] == len(good_run())
    _same_streams(store_dir, db, ("good_run",))


def test_copy_errors(cli: Runner, store_dir: str, tmp_path: Path) -> None:
    _one_line_error(cli("copy", store_dir, store_dir))
    _one_line_error(cli("copy", store_dir, str(tmp_path / "x"), "--stream", "nope"))
    _one_line_error(cli("copy", str(tmp_path / "missing"), str(tmp_path / "x")))
    tty = cli("copy", store_dir, str(tmp_path / "y"), tty=True)
    assert tty.status == 0 and "copied 3 stream(s)" in tty.out


# ───────────────────────────── verify ─────────────────────────────


def test_verify_reports_and_repairs_a_torn_tail(cli: Runner, store_dir: str) -> None:
    ok = cli("verify", store_dir, "--json")
    assert ok.status == 0 and ok.json()["ok"] is True
    path = os.path.join(store_dir, "bad_run.jsonl")
    intact = Path(path).read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"streamId":"bad_run","seq":17,"event":{"type":"TOK')
    torn = cli("verify", store_dir, "--json")
    assert torn.status == 1
    checks = {c["streamId"]: c for c in torn.json()["streams"]}
    assert checks["bad_run"]["status"] == "torn_tail"
    assert checks["bad_run"]["offset"] == len(intact)
    assert checks["bad_run"]["events"] == len(bad_run())
    assert checks["good_run"]["status"] == "ok"
    plain = cli("verify", store_dir)
    assert plain.status == 1 and "torn_tail" in plain.out and "1 with problems" in plain.out
    repaired = cli("verify", store_dir, "--repair")
    assert repaired.status == 0 and "1 repaired" in repaired.out
    assert Path(path).read_bytes() == intact
    assert cli("verify", store_dir).status == 0


async def test_verify_generic_check_for_stores_without_their_own() -> None:
    store = InMemoryEventStore()
    await fill(store, ("good_run", "bad_run"))
    report = await verify_cmd.generic_verify(store, "memory://")
    assert report.ok
    assert [(c.stream_id, c.status, c.events) for c in report.streams] == [
        ("bad_run", "ok", len(bad_run())), ("good_run", "ok", len(good_run()))]


def test_show_on_a_terminal_cuts_giant_content(cli: Runner, tmp_path: Path) -> None:
    from l0core import StartEvent, TokenEvent
    from tests.cli.conftest import make_store_events

    location = str(tmp_path / "big")
    make_store_events(location, {"big": [StartEvent(ts=1.0),
                                         TokenEvent(ts=2.0, value="x" * 100_000, index=0)]})
    rich = cli("show", location, "big", tty=True)
    assert rich.status == 0 and "80,000 earlier chars" in rich.out and len(rich.out) < 60_000
    plain = cli("show", location, "big")
    assert "x" * 100_000 in plain.out
