"""Tests of ``summarize`` that call the OpenAI SDK for real, against a recording.

``l0_openai("ssd-article")`` is an ``openai.OpenAI`` client that replays
``recordings/ssd-article.jsonl`` chunk by chunk, with no network. Record it again
with ``python record.py`` (a local fake server) or ``--l0-record=all`` (the real API).
"""

from __future__ import annotations

from collections.abc import Callable

from openai import OpenAI
from summary import summarize

from l0core.pytest_plugin import assert_content, assert_final_state, assert_no_violations
from l0core.recorded import RecordedEventStore

ARTICLE = (
    "Solid-state drives store data in flash cells that wear out after a limited number of "
    "program/erase cycles. Controllers spread writes across cells (wear levelling), keep "
    "spare blocks for the ones that fail, and report the remaining endurance through SMART, "
    "so a drive in a desktop usually outlives the machine it is in."
)
EXPECTED = ("SSD flash cells wear out with writes, but wear levelling and spare blocks make "
            "most drives outlast their computers.")


def test_summary_is_one_short_sentence(l0_openai: Callable[[str], OpenAI]) -> None:
    summary = summarize(l0_openai("ssd-article"), ARTICLE)
    assert_content(summary, EXPECTED)
    assert summary.endswith(".") and summary.count(".") == 1
    assert len(summary.split()) <= 25


def test_the_recording_is_a_clean_run(
    l0_openai: Callable[[str], OpenAI], l0_recording: Callable[[str], RecordedEventStore]
) -> None:
    summarize(l0_openai("ssd-article"), ARTICLE)
    run = l0_recording("ssd-article")
    assert_final_state(run, {"completed": True, "retry_attempts": 0, "content": EXPECTED})
    assert_no_violations(run)
