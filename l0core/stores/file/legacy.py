"""The spec's legacy ``<id>.json`` array files: reading them, and migrating one to JSONL.

The TypeScript library and ``ai2070-l0`` write a stream as one JSON array of
envelopes (and a snapshot as ``<id>.snapshot.json``). Such a stream is read as it
is; the first append to it migrates it to ``<id>.jsonl`` (temp file + fsync +
rename, then the array file is removed), so nothing is ever lost or rewritten in
place. Where the legacy snapshot file is read: ``snapshots``.
"""

from __future__ import annotations

import os

import orjson

from l0core.codec import decode_envelope, encode_envelope
from l0core.errors import CorruptionError, EventValidationError, StoreConfigError
from l0core.events import EventEnvelope
from l0core.stores.file.handles import StreamHandle
from l0core.stores.file.layout import (
    events_path,
    fsync_dir,
    legacy_events_path,
    unlink_if_exists,
)


def read_legacy(stream_id: str, path: str) -> list[EventEnvelope]:
    """The envelopes of a legacy array file (none if it is gone), checked seq by seq."""
    try:
        with open(path, "rb") as fh:
            data = orjson.loads(fh.read())
    except FileNotFoundError:
        return []
    except orjson.JSONDecodeError as exc:
        raise CorruptionError(f"legacy stream file is not JSON: {exc}", path=path) from None
    if not isinstance(data, list):
        raise CorruptionError("legacy stream file is not a JSON array", path=path)
    out: list[EventEnvelope] = []
    for i, item in enumerate(data):
        try:
            env = decode_envelope(item, f"[{i}]")
        except EventValidationError as exc:
            raise CorruptionError(f"legacy stream file: {exc}", path=path) from None
        if env.seq != i or env.stream_id != stream_id:
            raise CorruptionError(
                f"legacy stream file: item {i} is {env.stream_id!r} seq {env.seq}, "
                f"expected {stream_id!r} seq {i}", path=path)
        out.append(env)
    return out


def migrate_locked(h: StreamHandle, root: str, stream_id: str) -> None:
    """Rewrite a legacy ``<id>.json`` as JSONL via temp + rename; hold the empty file's lock.

    On any problem the legacy file is left as it was and the append fails.
    """
    legacy = legacy_events_path(root, stream_id)
    envelopes = read_legacy(stream_id, legacy)
    tmp = os.path.join(root, f".{stream_id}.jsonl.migrating-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(b"".join(orjson.dumps(encode_envelope(e)) + b"\n" for e in envelopes))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, events_path(root, stream_id))
        fsync_dir(root)
        os.unlink(legacy)
        fsync_dir(root)
    except OSError as exc:
        unlink_if_exists(tmp)
        raise StoreConfigError(f"cannot migrate legacy stream file {legacy} to JSONL: "
                               f"{exc.strerror}; it is unchanged") from exc
    h.close()  # the empty file we locked is gone; reopen the migrated one
