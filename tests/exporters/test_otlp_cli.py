"""``l0tui export STORE ID --format otlp`` through the real entry point."""

from __future__ import annotations

from pathlib import Path

from l0core.exporters.otlp import trace_id
from tests.cli.conftest import Runner
from tests.cli.streams import bad_run, good_run
from tests.exporters.otlp_read import attrs, parse_line, spans


def test_export_otlp_to_stdout_is_one_trace(cli: Runner, store_dir: str) -> None:
    result = cli("export", store_dir, "bad_run", "--format", "otlp")
    assert result.status == 0 and result.err == ""
    (line,) = result.out.splitlines()
    out = spans(parse_line(line))
    assert [s.name for s in out] == ["chat gpt-test", "attempt 1", "attempt 2"]
    assert out[0].trace_id == bytes.fromhex(trace_id("bad_run"))
    assert sum(len(s.events) for s in out) == len(bad_run())
    assert attrs(out[1].attributes) == {"error.type": "guardrail: fact-check"}
    assert attrs(out[0].attributes)["gen_ai.response.finish_reasons"] == ["stop"]


def test_export_otlp_to_a_file_and_up_to_a_seq(cli: Runner, store_dir: str,
                                               tmp_path: Path) -> None:
    target = tmp_path / "run.otlp.jsonl"
    result = cli("export", store_dir, "good_run", "--format", "otlp", "-o", str(target))
    assert result.status == 0 and result.out == ""
    assert f"wrote a trace of {len(good_run())} event(s) to {target}" in result.err
    (line,) = target.read_text().splitlines()
    assert sum(len(s.events) for s in spans(parse_line(line))) == len(good_run())
    early = cli("export", store_dir, "good_run", "--format", "otlp", "--to", "3")
    inference, attempt = spans(parse_line(early.out))
    assert len(attempt.events) == 4
    assert "gen_ai.response.finish_reasons" not in attrs(inference.attributes)


def test_export_otlp_refuses_from_and_missing_streams(cli: Runner, store_dir: str) -> None:
    for argv in (("good_run", "--format", "otlp", "--from", "2"), ("nope", "--format", "otlp")):
        result = cli("export", store_dir, *argv)
        assert result.status == 2 and result.out == ""
        assert result.err.startswith("l0tui: ") and result.err.count("\n") == 1, result.err
    assert "an OTLP export starts at seq 0" in cli(
        "export", store_dir, "good_run", "--format", "otlp", "--from", "2").err
