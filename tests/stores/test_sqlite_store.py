"""The SQLite store against the conformance suite, plus its own behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from l0core.stores.base import BaseEventStore, Clock
from l0core.stores.sqlite import SQLiteEventStore
from tests.conformance.store_suite import StoreConformance


class TestSQLiteStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _db(self, tmp_path: Path) -> None:
        self.db = tmp_path / "events.db"

    async def open_store(self, *, ttl: int = 0, clock: Clock | None = None) -> BaseEventStore:
        return SQLiteEventStore(f"sqlite:///{self.db}", ttl=ttl, clock=clock)

    async def open_peer(self, store: BaseEventStore) -> BaseEventStore:
        return SQLiteEventStore(f"sqlite:///{self.db}")
