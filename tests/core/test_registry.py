"""create_event_store from configs, dicts and URLs; errors name the problem."""

from __future__ import annotations

import pytest

from l0core import (
    CompositeStoreError,
    InMemoryEventStore,
    StorageAdapterConfig,
    StoreConfigError,
    TokenEvent,
    create_composite_store,
    create_event_store,
    create_in_memory_event_store,
)
from l0core.stores.urls import adapter_for_url, mask_url, path_from_url


@pytest.mark.parametrize(
    ("url", "adapter"),
    [
        ("memory://", "memory"),
        ("./l0-events", "file"),
        ("/tmp/x", "file"),
        ("file:///tmp/x", "file"),
        ("sqlite:///events.db", "sqlite"),
        ("events.sqlite3", "sqlite"),
        ("postgresql://postgres@127.0.0.1/db", "postgres"),
        ("postgres://u:p@h/db", "postgres"),
        ("redis://127.0.0.1:6379/0", "redis"),
        ("rediss://h", "redis"),
    ],
)
def test_adapter_for_url(url: str, adapter: str) -> None:
    assert adapter_for_url(url) == adapter


@pytest.mark.parametrize(("url", "match"), [("", "empty"), ("mongodb://x", "unknown store URL"),
                                            ("postgresql:/x", "malformed")])
def test_bad_urls(url: str, match: str) -> None:
    with pytest.raises(StoreConfigError, match=match):
        adapter_for_url(url)


def test_paths_and_masking() -> None:
    assert path_from_url("sqlite:///events.db", "sqlite") == "events.db"
    assert path_from_url("sqlite:////abs/events.db", "sqlite") == "/abs/events.db"
    assert path_from_url("file:///abs/dir", "file") == "/abs/dir"
    assert path_from_url("plain/dir", "file") == "plain/dir"
    assert mask_url("postgresql://bob:s3cret@db:5432/x") == "postgresql://bob:***@db:5432/x"
    assert mask_url("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert mask_url("redis://h:6379/0") == "redis://h:6379/0"


async def test_config_forms() -> None:
    assert isinstance(await create_event_store("memory://"), InMemoryEventStore)
    store = await create_event_store(StorageAdapterConfig(type="memory", prefix="p1", ttl=5))
    assert (store.prefix, store.ttl) == ("p1", 5)
    ro = await create_event_store({"type": "memory"}, read_only=True)
    with pytest.raises(StoreConfigError, match="read-only"):
        await ro.append("s", TokenEvent(ts=1, value="x", index=0))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"type": "nope"}, "no storage adapter 'nope'"),
        ({"connection": "x"}, "needs a 'type'"),
        ({"type": "memory", "prefix": "bad-prefix; DROP TABLE"}, "must be an identifier"),
        ({"type": "memory", "ttl": -1}, "ttl"),
        ({"type": "memory", "colour": "red"}, "unknown store config keys: colour"),
    ],
)
async def test_bad_configs(config: dict[str, object], match: str) -> None:
    with pytest.raises(StoreConfigError, match=match):
        await create_event_store(config)


async def test_composite_partial_failure_names_the_failed_store() -> None:
    good = create_in_memory_event_store()
    broken = create_in_memory_event_store()
    await broken.close()
    broken.read_only = True
    store = create_composite_store([good, broken])
    with pytest.raises(CompositeStoreError) as err:
        await store.append_many("s", [TokenEvent(ts=1, value="x", index=0)])
    assert err.value.failed_indices == [1] and err.value.succeeded_indices == [0]
    assert "store 1" in str(err.value)
    with pytest.raises(StoreConfigError):
        create_composite_store([])


def test_third_party_adapter_registers_through_entry_point(tmp_path: object) -> None:
    """A package that declares ``l0core.storage_adapters`` is found without any import."""
    import subprocess
    import sys
    from pathlib import Path

    site = Path(str(tmp_path))
    (site / "acme_store.py").write_text(
        "from l0core import InMemoryEventStore\n"
        "class AcmeStore(InMemoryEventStore):\n"
        "    pass\n"
        "def open_store(config):\n"
        "    return AcmeStore(config)\n"
    )
    dist = site / "acme_store-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-store\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[l0core.storage_adapters]\nacme = acme_store:open_store\n"
    )
    code = (
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "from l0core import create_event_store, get_registered_adapters\n"
        "assert 'acme' in get_registered_adapters()\n"
        "store = asyncio.run(create_event_store({'type': 'acme'}))\n"
        "print(type(store).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "AcmeStore"
