"""``ls`` filters and order, ``prune`` and ``index``, against the catalog's reference semantics.

Each case runs the real command line on a file store and an SQLite store holding the
catalog suite's forty streams, and compares with filtering the full ``--json``
listing in Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from l0core.catalog.syntax import FilterSyntaxError, parse_filter
from tests.catalog_suite import catalog_streams
from tests.cli.conftest import Result, Runner, make_store_events

HOUR = 3_600_000


@pytest.fixture(params=["file", "sqlite"])
def catalog_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    location = (str(tmp_path / "runs") if request.param == "file"
                else f"sqlite:///{tmp_path / 'runs.db'}")
    make_store_events(location, catalog_streams())
    return location


def ids(result: Result) -> list[str]:
    assert result.status == 0, result.err
    return [row["streamId"] for row in result.jsonl()]


def everything(cli: Runner, location: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = cli("ls", location, "--json").json()
    assert len(rows) == 40
    return rows


def newest_first(rows: list[dict[str, Any]]) -> list[str]:
    return [r["streamId"] for r in sorted(rows, key=lambda r: (r["startTs"], r["streamId"]),
                                          reverse=True)]


def test_each_option_selects_what_the_summaries_say(cli: Runner, catalog_store: str) -> None:
    rows = everything(cli, catalog_store)
    base = min(r["startTs"] for r in rows)

    def select(pred: Any) -> list[str]:
        return newest_first([r for r in rows if pred(r)])

    loc = catalog_store
    assert ids(cli("ls", loc, "--jsonl", "--status", "error")) == select(
        lambda r: r["status"] == "error")
    assert ids(cli("ls", loc, "--jsonl", "--status", "error", "--status", "running")) == select(
        lambda r: r["status"] in ("error", "running"))
    assert ids(cli("ls", loc, "--jsonl", "--model", "gpt-4o")) == select(
        lambda r: r.get("model") == "gpt-4o")
    since = "2023-11-15T00:00"
    since_ms = 1_700_006_400_000.0
    assert ids(cli("ls", loc, "--jsonl", "--since", since)) == select(
        lambda r: r["startTs"] >= since_ms)
    assert ids(cli("ls", loc, "--jsonl", "--until", since)) == select(
        lambda r: r["startTs"] < since_ms)
    assert ids(cli("ls", loc, "--jsonl", "--where", "retries>0 status:completed")) == select(
        lambda r: r["retryAttempts"] + r["networkRetryCount"] > 0
        and r["status"] == "completed")
    assert ids(cli("ls", loc, "--jsonl", "--where", "has:violations")) == select(
        lambda r: r["violationCount"] > 0)
    assert ids(cli("ls", loc, "--jsonl", "--where", "failure:network")) == select(
        lambda r: r.get("failureType") == "network")
    assert ids(cli("ls", loc, "--jsonl", "--where=-b")) == select(
        lambda r: "-b" in r["streamId"])
    assert ids(cli("ls", loc, "--jsonl", "--where", "id:cat-1")) == select(
        lambda r: r["streamId"].startswith("cat-1"))
    assert len(ids(cli("ls", loc, "--jsonl", "--limit", "5"))) == 5
    assert ids(cli("ls", loc, "--jsonl", "--limit", "5")) == newest_first(rows)[:5]
    by_tokens = ids(cli("ls", loc, "--jsonl", "--sort", "token_count:asc"))
    assert by_tokens == [r["streamId"] for r in sorted(
        rows, key=lambda r: (r["tokenCount"], r["streamId"]))]
    assert base > 0


def test_grep_looks_in_the_final_content(cli: Runner, catalog_store: str) -> None:
    streams = catalog_streams()
    hits = set(ids(cli("ls", catalog_store, "--jsonl", "--grep", "Refund POLICY")))
    assert hits
    for stream_id in hits:
        text = "".join(getattr(e, "value", "") for e in streams[stream_id]).casefold()
        assert "refund" in text and "policy" in text
    assert ids(cli("ls", catalog_store, "--jsonl", "--grep", "zebra-never")) == []


def test_table_title_counts_matches_and_says_when_limited(cli: Runner,
                                                          catalog_store: str) -> None:
    result = cli("ls", catalog_store, "--status", "error", "--limit", "3")
    assert result.status == 0
    assert result.out.count("\n") == 4  # header + 3 rows (plain output off a terminal)
    total = len(ids(cli("ls", catalog_store, "--jsonl", "--status", "error")))
    assert total == 10


def test_bad_filters_are_one_line_errors(cli: Runner, catalog_store: str) -> None:
    for argv in (["--where", "colour:red"], ["--where", "retries>>1"], ["--since", "yesterday"],
                 ["--sort", "size"], ["--sort", "start_ts:up"], ["--limit", "-1"],
                 ["--where", 'status:"unfinished']):
        result = cli("ls", catalog_store, *argv)
        assert result.status == 2, argv
        assert len(result.err.strip().splitlines()) == 1, (argv, result.err)
        assert "Traceback" not in result.err


def test_filter_syntax_terms() -> None:
    now = 1_800_000_000_000.0
    flt = parse_filter('status:error,running model:gpt-4o since:2h no:drift tokens>=3 "a b" x',
                       now=lambda: now)
    assert flt.status == frozenset({"error", "running"})
    assert flt.model == "gpt-4o" and flt.since == now - 2 * HOUR
    assert flt.has_drift is False and flt.text == "a b" and flt.id_contains == "x"
    assert [(c.field, c.op, c.value) for c in flt.comparisons] == [("token_count", ">=", 3.0)]
    with pytest.raises(FilterSyntaxError, match="not one of"):
        parse_filter("status:done")


def test_prune_deletes_exactly_what_the_dry_run_listed(cli: Runner, catalog_store: str) -> None:
    before = {r["streamId"]: r for r in everything(cli, catalog_store)}
    dry = cli("prune", catalog_store, "--older-than", "30d", "--status", "completed",
              "--dry-run")
    assert dry.status == 0, dry.err
    listed = dry.out.split()
    assert listed and all(before[s]["status"] == "completed" for s in listed)
    assert sorted(listed) == sorted(s for s, r in before.items() if r["status"] == "completed")
    assert len(everything(cli, catalog_store)) == 40  # the dry run deleted nothing
    refused = cli("prune", catalog_store, "--older-than", "30d", "--status", "completed")
    assert refused.status == 2 and "--yes" in refused.err
    done = cli("prune", catalog_store, "--older-than", "30d", "--status", "completed", "--yes",
               "--json")
    assert done.status == 0, done.err
    assert sorted(done.json()["deleted"]) == sorted(listed)
    after = cli("ls", catalog_store, "--json").json()
    assert sorted(r["streamId"] for r in after) == sorted(set(before) - set(listed))


def test_prune_keeps_streams_younger_than_the_age(cli: Runner, catalog_store: str) -> None:
    # the recordings are from 2023: an age of 100 years keeps every one
    dry = cli("prune", catalog_store, "--older-than", "5200w", "--dry-run")
    assert dry.status == 0 and dry.out.split() == []
    bad = cli("prune", catalog_store, "--older-than", "soon")
    assert bad.status == 2 and "not an age" in bad.err
