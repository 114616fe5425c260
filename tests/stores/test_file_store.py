"""The JSONL file store against the conformance suite, plus its own behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from l0core.stores.base import BaseEventStore, Clock
from l0core.stores.file import FileEventStore
from tests.conformance.store_suite import StoreConformance


class TestFileStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "events"

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock)

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        return FileEventStore(str(self.dir))


class TestFileStoreFsync(TestFileStore):
    """The same contract when every append is fsynced (the thread path only)."""

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock, durability="fsync")


class TestFileStoreOs(TestFileStore):
    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return FileEventStore(str(self.dir), ttl=ttl, clock=clock, durability="os")
