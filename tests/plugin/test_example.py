"""``examples/openai_summary``: it passes offline as shipped, records again, and replays.

The example is copied into a throwaway directory and run as a user would: its
tests with every socket blocked, then ``python record.py`` (the local fake
server, no API key), then its tests offline again.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.paths import REPO
from tests.plugin.project import (
    block_network,
    no_credentials,
    run_subprocess,
    tokens,
    unblock_network,
)

pytest_plugins = ["pytester"]

EXAMPLE = REPO / "examples" / "openai_summary"


def test_the_example_records_once_and_then_passes_offline(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    no_credentials(monkeypatch)
    target = pytester.path / "openai_summary"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(target)  # the example is its own project (its pytest.ini)
    block_network(pytester, target)
    shipped = target / "recordings" / "ssd-article.jsonl"
    answer = "".join(tokens(shipped))

    run_subprocess(pytester).assert_outcomes(passed=4)  # as shipped, offline

    shutil.rmtree(target / "recordings")
    unblock_network(target)  # recording talks to the fake server
    recorded = subprocess.run([sys.executable, "record.py"], cwd=target, capture_output=True,
                              text=True, check=False)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "the fake server answered 2 request(s)" in recorded.stdout
    assert sorted(p.name for p in (target / "recordings").iterdir()) == ["ssd-article.jsonl"]
    assert "".join(tokens(target / "recordings" / "ssd-article.jsonl")) == answer

    block_network(pytester, target)
    run_subprocess(pytester).assert_outcomes(passed=4)  # offline again
