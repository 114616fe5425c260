"""``load_recorded_events``: recordings on disk -> an in-memory store a test can replay.

The spec's ``loadRecordedEvents("fixtures/stream-123.json")``: a test replays a
recording with no store to set up. Any number of files or directories load into
one :class:`RecordedEventStore`, which remembers the file each stream came from
so a failing test can name it. Files are read by :mod:`l0core.recorded.files`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from l0core.events import Snapshot
from l0core.recorded.files import RecordingFile, RecordingFormatError, read_recording_file
from l0core.recorded.sync import run_sync
from l0core.stores.memory import InMemoryEventStore

__all__ = ["RecordedEventStore", "RecordingSource", "load_recorded_events",
           "load_recorded_events_sync", "read_recordings"]

PathLike = str | os.PathLike[str]

_SUFFIXES = (".jsonl", ".json")


@dataclass(frozen=True, slots=True)
class RecordingSource:
    """Where a loaded stream came from. ``first_seq`` is the seq its file started at (an
    exported ``--from 10`` slice says 10; in the store its events are numbered from 0)."""

    path: Path
    first_seq: int
    event_count: int


class RecordedEventStore(InMemoryEventStore):
    """An in-memory store filled from recording files; ``sources`` maps stream -> file."""

    def __init__(self, loaded_from: Iterable[Path] = ()) -> None:
        super().__init__()
        self.loaded_from = list(loaded_from)
        """The paths given to :func:`load_recorded_events`."""
        self.sources: dict[str, RecordingSource] = {}

    def describe(self) -> str:
        return "recordings in " + ", ".join(str(p) for p in self.loaded_from)

    def path_of(self, stream_id: str) -> Path:
        """The file ``stream_id`` was loaded from (KeyError when it was not loaded)."""
        return self.sources[stream_id].path


def _files_in(directory: Path) -> list[Path]:
    found = sorted(p for p in directory.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.name.endswith(_SUFFIXES))
    if not found:
        raise RecordingFormatError(directory, None,
                                   "no recordings here (files ending .jsonl or .json)")
    return found


def read_recordings(paths: Iterable[PathLike]) -> list[RecordingFile]:
    """Read every file named, and the ``.jsonl``/``.json`` files of every directory named
    (not its subdirectories), checking that no stream is in two files."""
    files: list[RecordingFile] = []
    owner: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"no such recording: {path}")
        for file_path in _files_in(path) if path.is_dir() else [path]:
            rec = read_recording_file(file_path)
            sid = rec.stream_id
            if sid is not None:
                if sid in owner and owner[sid] != file_path:
                    raise RecordingFormatError(
                        file_path, None, f"stream {sid!r} is also in {owner[sid]}; load one")
                owner[sid] = file_path
            files.append(rec)
    if not files:
        raise ValueError("load_recorded_events needs at least one path")
    return files


def _check_snapshots(files: list[RecordingFile]) -> None:
    """A snapshot must describe a loaded stream of ours, at a seq that stream has."""
    streams = {f.stream_id: f for f in files if f.stream_id is not None}
    for f in files:
        for snap in f.snapshots:
            events = streams.get(snap.stream_id)
            if events is None:
                continue  # a snapshot file loaded on its own
            if events.first_seq != 0:
                raise RecordingFormatError(
                    f.path, None, f"snapshot of {snap.stream_id!r} at seq {snap.seq}, but "
                    f"{events.path} is a slice from seq {events.first_seq}")
            if snap.seq >= len(events.envelopes):
                raise RecordingFormatError(
                    f.path, None, f"snapshot of {snap.stream_id!r} at seq {snap.seq}, but "
                    f"{events.path} ends at seq {len(events.envelopes) - 1}")


async def _fill(paths: Iterable[PathLike], files: list[RecordingFile]) -> RecordedEventStore:
    store = RecordedEventStore(Path(p) for p in paths)
    snapshots: list[Snapshot] = []
    for f in files:
        if f.stream_id is not None:
            await store.append_many(f.stream_id, [e.event for e in f.envelopes],
                                    expected_seq=-1)
            store.sources[f.stream_id] = RecordingSource(f.path, f.first_seq,
                                                         len(f.envelopes))
        snapshots.extend(f.snapshots)
    for snap in snapshots:
        await store.save_snapshot(snap)
    return store


async def load_recorded_events(path: PathLike, *more: PathLike) -> RecordedEventStore:
    """Load recordings into a fresh in-memory store (the spec's ``loadRecordedEvents``).

    Each path is a file (our JSONL, an exported slice, a JSON array in either
    spelling, a snapshot file) or a directory of them. A file holds one stream;
    its stream id is the one its envelopes name. Anything that does not load
    raises :class:`~l0core.recorded.files.RecordingFormatError` naming the file
    and line; a missing path raises ``FileNotFoundError``.
    """
    paths = (path, *more)
    files = await asyncio.to_thread(read_recordings, paths)
    _check_snapshots(files)
    return await _fill(paths, files)


def load_recorded_events_sync(path: PathLike, *more: PathLike) -> RecordedEventStore:
    """:func:`load_recorded_events` for synchronous code (also callable under a running
    loop: the store is filled on a worker thread's loop, and is safe to use on any)."""
    paths = (path, *more)
    files = read_recordings(paths)
    _check_snapshots(files)
    return run_sync(lambda: _fill(paths, files))
