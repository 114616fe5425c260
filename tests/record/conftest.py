"""Fixtures of the SDK recording tests: a store of each kind the tests run against."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from l0core.stores.base import BaseEventStore
from l0core.stores.file import FileEventStore
from l0core.stores.memory import InMemoryEventStore


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseEventStore]:
    """A memory store, then a file store in ``tmp_path`` (usable from sync and async tests)."""
    made: BaseEventStore = (InMemoryEventStore() if request.param == "memory"
                            else FileEventStore(str(tmp_path / "streams")))
    yield made
    asyncio.run(made.close())


@pytest.fixture
def memory_store() -> Iterator[BaseEventStore]:
    made = InMemoryEventStore()
    yield made
    asyncio.run(made.close())
