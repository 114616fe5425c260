"""Fixtures for the command-line tests: a file store with fixed recordings, an in-process runner."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from l0core import RecordedEvent, create_event_store
from l0tui.cli import run
from tests.cli.streams import fill


@dataclass
class Result:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def jsonl(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


Runner = Callable[..., Result]


def make_store(location: str, names: tuple[str, ...] | None = None) -> None:
    async def build() -> None:
        store = await create_event_store(location)
        try:
            await fill(store) if names is None else await fill(store, names)
        finally:
            await store.close()

    asyncio.run(build())


def make_store_events(location: str, streams: dict[str, list[RecordedEvent]]) -> None:
    """Write ``streams`` (id -> events) into a new store at ``location``."""

    async def build() -> None:
        store = await create_event_store(location)
        try:
            for stream_id, events in streams.items():
                await store.append_many(stream_id, events, expected_seq=-1)
        finally:
            await store.close()

    asyncio.run(build())


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    """A file store directory holding good_run, bad_run and error_run."""
    location = str(tmp_path / "events")
    make_store(location)
    return location


@pytest.fixture
def cli() -> Runner:
    """Run ``l0tui ARGS`` in-process (stdout not a terminal unless ``tty=True``)."""

    def invoke(*argv: str, tty: bool = False) -> Result:
        out, err = io.StringIO(), io.StringIO()
        status = run(list(argv), stdout=out, stderr=err, isatty=tty)
        return Result(status, out.getvalue(), err.getvalue())

    return invoke
