"""``show --attempts`` / ``--timing``, the word comparison of ``diff``, and the lineage in
the Markdown export, on the committed demo streams."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Runner

DEMO = str(Path(__file__).resolve().parents[2] / "demo_streams")


def test_show_attempts_names_the_trigger_backoff_and_carried_text(cli: Runner) -> None:
    rows = [line.split("\t") for line in
            cli("show", DEMO, "04-fallback-after-two-failures", "--attempts").out.splitlines()]
    assert rows[0] == ["#", "seqs", "started by", "backoff", "tokens", "ended", "carried over"]
    assert rows[3][:5] == ["3", "#25–#123", "fallback #1 → llama-3.1-70b-instruct",
                           "782 ms (from #25)", "93 (first #26)"]
    assert rows[3][5] == "completed at #123"
    cont = cli("show", DEMO, "02-network-retry-continuation", "--attempts", "--json").json()
    second = cont["attempts"][1]
    assert second["started_by"] == "retry" and second["counts_toward_limit"] is False
    assert second["continuation_seq"] == 99 and second["carried_from"] == [1]
    assert len(second["carried_over"]) == 349


def test_show_timing_per_attempt(cli: Runner) -> None:
    out = cli("show", DEMO, "02-network-retry-continuation", "--timing").out
    assert "time to first token: 382 ms" in out
    rows = [line.split("\t") for line in out.splitlines() if line.startswith(("1\t", "2\t"))]
    assert rows[0][:4] == ["1", "#0–#97", "93", "382 ms"]
    assert rows[0][9] == "1 (longest 4.55 s)"
    assert "stall: attempt 1, 4.55 s before #98" in out
    doc = cli("show", DEMO, "02-network-retry-continuation", "--timing", "--json").json()
    first = doc["timing"]["attempts"][0]
    assert set(first["gapPercentilesMs"]) == {"p50", "p90", "p95", "p99"}
    assert first["stalls"] == [{"seq": 98, "gapMs": 4554.0}]
    assert first["tokensPerSecond"] > 0


def test_diff_compares_the_final_texts_by_words(cli: Runner) -> None:
    result = cli("diff", DEMO, "07a-compare-good", "07b-compare-bad", "--plain")
    rows = [line.split("\t") for line in result.out.splitlines()]
    first = next(r for r in rows if r[0] == "first-word")
    assert first == ["first-word", "o.created_at", "41", "EXTRACT(YEAR", "41"]
    assert ["words", "differ", "7"] in rows
    assert rows[-1][:2] == ["result", "differ"]
    words = cli("diff", DEMO, "07a-compare-good", "07b-compare-bad", "--json").json()["words"]
    assert words["firstDivergence"]["aSeq"] == 41 and len(words["changes"]) == 7
    same = cli("diff", DEMO, "01-clean-completion", "01-clean-completion", "--plain").out
    assert "words\tidentical\t0" in same


def test_markdown_export_has_the_lineage_and_timing(cli: Runner) -> None:
    report = cli("export", DEMO, "02-network-retry-continuation", "--format", "markdown").out
    assert "### Attempt lineage" in report and "### Timing per attempt" in report
    assert "#99: 349 chars from attempt 1" in report
    assert "| 2 | #98–#321 | 211 | 1.76 s |" in report
