"""What each file in a file store's directory holds, and the two directory calls every part makes.

- ``<id>.jsonl``: the stream, one wire envelope per line (the spec's camelCase).
- ``<id>.snapshots.jsonl``: every snapshot saved for the stream, one per line.
- ``<id>.json`` / ``<id>.snapshot.json``: the spec's legacy array files (see ``legacy``).
- ``.<id>.jsonl.migrating-<pid>``: a migration's temp file, renamed over ``<id>.jsonl``.

The format of each file is described in ``docs/format.md``.
"""

from __future__ import annotations

import os
import re

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,200}")


def _inside(root: str, name: str) -> str:
    """``os.path.join(root, name)`` for a plain file name, at a third of the cost: a
    query checks the file of every row it returns."""
    if not root or root.endswith(os.sep):
        return root + name
    return root + os.sep + name


def events_path(root: str, stream_id: str) -> str:
    return _inside(root, stream_id + ".jsonl")


def legacy_events_path(root: str, stream_id: str) -> str:
    return _inside(root, stream_id + ".json")


def snapshots_path(root: str, stream_id: str) -> str:
    return _inside(root, stream_id + ".snapshots.jsonl")


def legacy_snapshot_path(root: str, stream_id: str) -> str:
    return _inside(root, stream_id + ".snapshot.json")


def stream_of(name: str) -> str | None:
    """The stream id a directory entry holds events for, or None (snapshots, temp files)."""
    if name.endswith(".jsonl"):
        stem = name[:-6]
    elif name.endswith(".json") and not name.endswith(".snapshot.json"):
        stem = name[:-5]
    else:
        return None
    if stem.endswith(".snapshots"):
        return None
    return stem if ID_RE.fullmatch(stem) else None


def unlink_if_exists(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def fsync_dir(path: str) -> None:
    """Make a create, rename or unlink in ``path`` durable (the entry, not the file)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
