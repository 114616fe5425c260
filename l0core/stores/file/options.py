"""The file store's options: where the directory is, durability, the group flush interval.

Given as constructor arguments, in ``config.options``, or (durability only) in a
``file://DIR?durability=...`` URL; an argument wins over the URL, the URL over
the options. The levels themselves are shared with SQLite (``l0core.stores.options``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from l0core.errors import StoreConfigError
from l0core.stores.base import StorageAdapterConfig
from l0core.stores.options import Durability, choose_durability
from l0core.stores.urls import path_from_url

DEFAULT_GROUP_INTERVAL = 0.2
"""Seconds between two ``fdatasync`` rounds with durability ``"group"``."""


@dataclass(slots=True, frozen=True)
class FileStoreOptions:
    """The checked options of one file store."""

    root: str
    """The store's directory, absolute."""
    durability: Durability
    group_interval: float


def parse_file_options(
    config: StorageAdapterConfig, durability: str | None, group_interval: float | None
) -> FileStoreOptions:
    """Read and check the options; raises ``StoreConfigError`` naming a bad one."""
    location = config.connection or "./l0-events"
    qs = ""
    if location.startswith("file://") and "?" in location:
        location, _, qs = location.partition("?")
    root = os.path.abspath(path_from_url(location, "file"))
    options = config.options or {}
    chosen = choose_durability(durability, qs, options)
    interval = group_interval if group_interval is not None else options.get(
        "group_interval", DEFAULT_GROUP_INTERVAL)
    if not isinstance(interval, int | float) or interval <= 0:
        raise StoreConfigError(f"group_interval must be a positive number, got {interval!r}")
    return FileStoreOptions(root, chosen, float(interval))
