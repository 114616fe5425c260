"""The storage adapter registry and ``create_event_store`` (config, dict or URL).

Built-in adapters are imported lazily, so ``memory://`` never pulls in psycopg or
redis-py. Third parties register with :func:`register_storage_adapter` or through
the ``l0core.storage_adapters`` entry-point group (name -> factory).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from l0core.errors import StoreConfigError
from l0core.stores.base import BaseEventStore, StorageAdapterConfig, validate_prefix
from l0core.stores.urls import adapter_for_url, mask_url

AdapterFactory = Callable[[StorageAdapterConfig], BaseEventStore | Awaitable[BaseEventStore]]

ENTRY_POINT_GROUP = "l0core.storage_adapters"

# type -> "module:function"; each function takes a StorageAdapterConfig.
_BUILTIN: dict[str, str] = {
    "memory": "l0core.stores.memory:open_store",
    "file": "l0core.stores.file:open_store",
    "sqlite": "l0core.stores.sqlite:open_store",
    "postgres": "l0core.stores.postgres:open_store",
    "redis": "l0core.stores.redis:open_store",
    "nats": "l0core.stores.nats:open_store",
}
_ALIASES = {"postgresql": "postgres", "in-memory": "memory"}

_registry: dict[str, AdapterFactory | str] = dict(_BUILTIN)
_entry_points_loaded = False


def register_storage_adapter(adapter_type: str, factory: AdapterFactory) -> None:
    """Make ``create_event_store({"type": adapter_type, ...})`` call ``factory``."""
    if not isinstance(adapter_type, str) or not adapter_type:
        raise StoreConfigError("adapter type must be a non-empty string")
    if not callable(factory):
        raise StoreConfigError(f"factory for {adapter_type!r} is not callable")
    _registry[adapter_type] = factory


def unregister_storage_adapter(adapter_type: str) -> bool:
    """Remove an adapter; True if it was registered."""
    return _registry.pop(adapter_type, None) is not None


def get_registered_adapters() -> list[str]:
    _load_entry_points()
    return list(_registry)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points  # scanning installed packages is slow

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        _registry.setdefault(ep.name, ep.value)


def _resolve(adapter_type: str) -> AdapterFactory:
    name = _ALIASES.get(adapter_type, adapter_type)
    target = _registry.get(name)
    if target is None:  # built-in adapters win anyway (setdefault): look further only now
        _load_entry_points()
        target = _registry.get(name)
    if target is None:
        known = ", ".join(sorted(_registry))
        raise StoreConfigError(f"no storage adapter {adapter_type!r} is registered "
                               f"(registered: {known})")
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            extra = {"postgres": "postgres", "redis": "redis", "nats": "nats"}.get(name)
            hint = f" (install the extra: pip install 'l0tui[{extra}]')" if extra else ""
            raise StoreConfigError(f"the {name!r} store is not available: {exc}{hint}") from exc
        return cast(AdapterFactory, getattr(module, attr))
    return target


def config_from(
    config: StorageAdapterConfig | Mapping[str, Any] | str, *, read_only: bool | None = None
) -> StorageAdapterConfig:
    """Normalise a config object, a dict with the spec's keys, or a URL/path."""
    if isinstance(config, StorageAdapterConfig):
        cfg = StorageAdapterConfig(type=config.type, connection=config.connection,
                                   prefix=validate_prefix(config.prefix), ttl=config.ttl,
                                   options=dict(config.options), read_only=config.read_only)
    elif isinstance(config, str):
        cfg = StorageAdapterConfig(type=adapter_for_url(config), connection=config)
    elif isinstance(config, Mapping):
        cfg = StorageAdapterConfig.from_mapping(config)
    else:
        raise StoreConfigError(f"cannot make a store from {type(config).__name__}")
    if read_only is not None:
        cfg.read_only = read_only
    return cfg


async def create_event_store(
    config: StorageAdapterConfig | Mapping[str, Any] | str, *, read_only: bool | None = None
) -> BaseEventStore:
    """Open the store ``config`` names: ``create_event_store("sqlite:///events.db")``."""
    cfg = config_from(config, read_only=read_only)
    factory = _resolve(cfg.type)
    store = factory(cfg)
    if inspect.isawaitable(store):
        store = await store
    if not isinstance(store, BaseEventStore):
        where = mask_url(cfg.connection) if cfg.connection else cfg.type
        raise StoreConfigError(f"adapter {cfg.type!r} returned {type(store).__name__} for {where}")
    return store
