"""``l0tui copy`` from legacy JSON-array directories into SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from l0core import create_event_store
from l0core.codec import encode_envelope
from tests.cli.conftest import Runner
from tests.paths import INTEROP
from tests.services import drop_postgres_schema, postgres_dsn, unique_name, with_query


async def _dump(location: str) -> dict[str, list[dict[str, object]]]:
    store = await create_event_store(location, read_only=True)
    try:
        return {sid: [encode_envelope(e) for e in await store.read_events(sid)]
                for sid in sorted(await store.list_streams())}
    finally:
        await store.close()


@pytest.fixture
def legacy_dir(tmp_path: Path) -> str:
    """The TypeScript library's array files (``<id>.json``), copied: the fixture stays as is."""
    target = tmp_path / "legacy"
    shutil.copytree(INTEROP / "ts-file-store", target)
    return str(target)


def test_legacy_json_arrays_into_sqlite(cli: Runner, legacy_dir: str, tmp_path: Path) -> None:
    before = asyncio.run(_dump(legacy_dir))
    assert before and all(before.values())
    db = f"sqlite:///{tmp_path / 'legacy.db'}"
    result = cli("copy", legacy_dir, db, "--json")
    assert result.status == 0, result.err
    assert result.json()["events"] == sum(len(v) for v in before.values())
    assert asyncio.run(_dump(db)) == before
    assert asyncio.run(_dump(legacy_dir)) == before  # the source was only read


def test_legacy_json_arrays_into_postgres(cli: Runner, legacy_dir: str) -> None:
    dsn = postgres_dsn()
    schema = unique_name("cp")
    url = with_query(dsn, schema=schema)
    try:
        result = cli("copy", legacy_dir, url)
        assert result.status == 0, result.err
        assert asyncio.run(_dump(url)) == asyncio.run(_dump(legacy_dir))
        again = cli("copy", legacy_dir, url)
        assert again.status == 2 and "already exist" in again.err
    finally:
        drop_postgres_schema(dsn, schema)
