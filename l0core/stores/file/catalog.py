"""The file store's catalog: summaries and queries answered from the index file.

One read of the index (``catalog_file``) gives every stream's summary in columns
(``summary_table``); later calls read only the records appended since. What is
trusted and what is checked:

- Records are written under each stream's ``flock`` (``catalog_writes``), so the
  latest record of a stream describes a state its file really had. A live writer
  may be one lease ahead of its record; a dead one may have left appends without
  records: its session file says so, and the reader then *sweeps* (stats every
  stream file, folds those whose inode or size differ). A torn or unreadable record
  line, a base marked dirty or an index shorter than its last writer left it
  causes a sweep too; so do ``refresh_catalog`` and, in a long-lived reader,
  ``wait_catalog_change`` (at once, then once a minute).
- Every summary returned (a query's page, ``get_summary``) is checked against its
  file's inode and size first; one that differs is folded again, and the query runs
  again if that changed the page.
- Streams created without a record (older versions, other programs) are found by
  listing the directory on load and on every sweep.

A writable store records what it repaired (under the stream's ``flock``) and clears
what it swept; a read-only one keeps its repairs in memory and never writes. A
read-only open of a directory without an index keeps no summaries: the base class
scans it. A writable open builds the index on first use (``prepare_catalog`` or
``build_catalog`` with progress). Text search looks in the casefolded final content
kept in the index for streams that ended; the content of a running stream is folded
from its file when a text filter reaches it. The format is in ``docs/format.md``.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from l0core.catalog.query import SummaryFilter, SummaryPage, SummaryQuery
from l0core.catalog.scan import Progress
from l0core.catalog.summary import StreamSummary
from l0core.codec import encode_event
from l0core.errors import L0Error
from l0core.events import validate_stream_id
from l0core.stores.file.catalog_file import (
    QUIET_NS,
    CatalogFormatError,
    Loaded,
    compact,
    create_index,
    dead_sessions,
    index_path,
    load_index,
    read_listed,
    read_mark,
    read_records,
    remove_sessions,
    write_listed,
)
from l0core.stores.file.catalog_records import state_fields
from l0core.stores.file.catalog_state import StreamState, fold_stream, source_stat
from l0core.stores.file.catalog_writes import CatalogWrites
from l0core.stores.file.layout import events_path, legacy_events_path, stream_of
from l0core.stores.file.legacy import read_legacy
from l0core.stores.file.summary_table import OPTIONS_KNOWN
from l0core.stores.jsonl import decode_block

POLL_INTERVAL = 0.1
TIDY_RECORDS = 256 * 1024
"""Bytes of records after the base that a writer closing at rest compacts (a
reader applies about a thousand records in 15 ms)."""
"""Seconds between two looks at the index in ``wait_catalog_change``."""
SWEEP_INTERVAL = 60.0
"""A long-lived reader checks every stream file this often (changes by other programs)."""
MAX_FOLDS = 1024
"""Reader-side fold states kept, so a stream that keeps growing is folded from its end."""


class CatalogView:
    """What one store instance has read of its index."""

    def __init__(self, loaded: Loaded, fd: int) -> None:
        self.loaded = loaded
        self.table = loaded.table
        self.fd = fd
        self.lock = threading.RLock()
        self.generation = 0
        """Bumped by every change not read from the index (repairs, sweeps)."""
        self.folds: dict[str, StreamState] = {}
        self.running: dict[int, tuple[int, int, bytes]] = {}
        """Row -> (ino, size, casefolded content) of streams still running."""
        self.handled_sessions: set[str] = set()
        self.handled_damage = -2
        self.handled_dirty = False
        self.handled_mark: tuple[int, int] | None = None
        self.last_sweep = 0.0
        """Never yet: a long-lived reader sweeps on its first ``wait_catalog_change``."""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def version(self) -> tuple[int, int, int]:
        return self.loaded.ino, self.loaded.consumed, self.generation


class FileCatalog(CatalogWrites):
    """``get_summary``, ``query_summaries`` and the rest, over the index file."""

    keeps_summaries = True
    _cat_view: CatalogView | None
    _cat_view_lock: threading.Lock

    def _init_catalog(self) -> None:
        self._cat_view = None
        self._cat_view_lock = threading.Lock()
        if self.read_only:  # never written here: summaries only if someone indexed
            self.keeps_summaries = os.path.exists(index_path(self.root))

    def _close_catalog(self) -> None:
        with self._cat_view_lock:
            if self._cat_view is not None and not self.read_only:
                self._cat_leave_tidy(self._cat_view)
            if self._cat_view is not None:
                self._cat_view.close()
                self._cat_view = None

    # ── loading and keeping up ──

    def _cat_load(self) -> CatalogView | None:
        """Read the index (None when there is none, or it cannot be read)."""
        try:
            fd = os.open(index_path(self.root), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            loaded = load_index(fd)
        except CatalogFormatError:
            os.close(fd)
            if self.read_only:
                return None
            self._cat_discard_damaged()
            return None
        view = CatalogView(loaded, fd)
        self._cat_reconcile(view, None)
        return view

    def _cat_discard_damaged(self) -> None:
        """An index whose base cannot be read is moved aside and rebuilt."""
        path = index_path(self.root)
        try:
            os.replace(path, path + f".damaged-{os.getpid()}")
        except FileNotFoundError:
            pass

    def _cat_current(self, *, build: bool, progress: Progress | None = None
                     ) -> CatalogView | None:
        """The view, read or built if needed and brought up to date with the index."""
        if not self.read_only:
            self._cat_flush()  # this store's own appends are recorded first
        with self._cat_view_lock:
            view = self._cat_view
            if view is None:
                view = self._cat_load()
                if view is None:
                    if not build or self.read_only:
                        return None
                    self._cat_build(progress)
                    view = self._cat_load()
                    if view is None:
                        return None
                self._cat_view = view
            with view.lock:
                fresh = self._cat_follow(view)
            if fresh is not view:
                view.close()
                self._cat_view = fresh
                if fresh is None:
                    return self._cat_current(build=build, progress=progress)
                view = fresh
        with view.lock:
            self._cat_check_health(view, progress)
        return view

    def _cat_follow(self, view: CatalogView) -> CatalogView | None:
        """Read new records; a new view when the index was replaced (compacted)."""
        try:
            st = os.stat(index_path(self.root))
        except FileNotFoundError:
            return None
        if st.st_ino != view.loaded.ino:
            return self._cat_load()
        if st.st_size != view.loaded.consumed:
            for row in read_records(view.fd, view.loaded):
                view.running.pop(row, None)
        return view

    def _cat_check_health(self, view: CatalogView, progress: Progress | None) -> None:
        """Sweep when a writer died, a record is unreadable or the base is dirty."""
        loaded = view.loaded
        dead = [s for s in dead_sessions(self.root) if s not in view.handled_sessions]
        torn = False
        if loaded.torn_tail and not dead:
            torn = self._cat_torn_for_real(view)
        damaged = loaded.damaged and loaded.last_damage != view.handled_damage
        dirty = loaded.dirty and not view.handled_dirty
        mark = read_mark(self.root)
        if mark is not None and mark[0] == loaded.ino and mark != view.handled_mark:
            view.handled_mark = mark
            if os.fstat(view.fd).st_size < mark[1]:  # records were cut off the end
                dirty = True
        if not (dead or damaged or dirty or torn):
            return
        start = loaded.consumed
        self._cat_sweep(view, progress)
        view.handled_sessions.update(dead)
        view.handled_damage = loaded.last_damage
        view.handled_dirty = True
        if not self.read_only:
            remove_sessions(self.root, dead)
            if damaged or dirty or torn:
                compact(self.root, clean_ino=loaded.ino, clean_before=start,
                        durable=self.durability != "os")

    def _cat_torn_for_real(self, view: CatalogView) -> bool:
        """Is the unterminated end of the index a torn record, not a write in flight?
        Read it again while holding the lock writers share (briefly, exclusively)."""
        fcntl.flock(view.fd, fcntl.LOCK_EX)
        try:
            read_records(view.fd, view.loaded)
            return view.loaded.torn_tail
        finally:
            fcntl.flock(view.fd, fcntl.LOCK_UN)

    # ── checking rows against their files ──

    def _cat_fold(self, view: CatalogView, stream_id: str) -> StreamState | None:
        """The stream's state now, folded from its file; recorded when writable."""
        if not self.read_only:
            state = self._cat_repair(stream_id)
        else:
            state = fold_stream(self.root, stream_id, view.folds.get(stream_id))
        folds = view.folds
        folds.pop(stream_id, None)
        if state is not None:
            folds[stream_id] = state
            if len(folds) > MAX_FOLDS:
                del folds[next(iter(folds))]
        return state

    def _cat_repair(self, stream_id: str) -> StreamState | None:
        """Fold the stream under its locks and append the record (a writable store)."""
        h = self._handles.for_stream(stream_id)
        with h.lock:
            self._cat_dirty.pop(stream_id, None)
            found = source_stat(self.root, stream_id)
            if found is None:
                return None
            if found[0]:  # a legacy array file: nothing appends to it without migrating
                state = fold_stream(self.root, stream_id)
                if state is not None:
                    self._cat_append(stream_id, state, found[1].st_mtime_ns / 1e6)
                return state
            return self._cat_record_locked(h, stream_id, force=True)

    def _cat_apply(self, view: CatalogView, stream_id: str, state: StreamState | None) -> None:
        """Put a folded state into the table (in memory; the record, if any, follows)."""
        table = view.table
        if state is None:
            row = table.row_of.get(stream_id)
            if row is not None:
                table.kill(row)
        else:
            found = source_stat(self.root, stream_id)
            mtime = found[1].st_mtime_ns / 1e6 if found else 0.0
            rec = state_fields(stream_id, state, mtime, options=True)
            row = table.apply(rec)
            if row is not None:
                view.running.pop(row, None)
        view.generation += 1

    def _cat_stale(self, view: CatalogView, rows: list[int]) -> list[str]:
        """Streams of ``rows`` whose file is not the one their row describes."""
        table = view.table
        ino, size, ids = table.ints["ino"], table.ints["size"], table.ids
        stale = []
        for row in rows:
            sid = ids[row]
            found = source_stat(self.root, sid)
            if found is None or found[1].st_ino != ino[row] or found[1].st_size != size[row]:
                stale.append(sid)
        return stale

    def _cat_verify(self, view: CatalogView, rows: list[int]) -> bool:
        """Check ``rows`` against their files, fold the stale ones; True if any changed."""
        stale = self._cat_stale(view, rows)
        for sid in stale:
            self._cat_apply(view, sid, self._cat_fold(view, sid))
        return bool(stale)

    def _cat_reconcile(self, view: CatalogView, progress: Progress | None, *,
                       trust_listed: bool = True) -> None:
        """Index the streams the directory holds but the index lacks.

        Listing a hundred thousand names is most of what opening a big store costs,
        so a writable store that found nothing missing while the directory was quiet
        records the directory's mtime (``listed``): while the mtime is still that, no
        entry was made or removed since, and the listing is skipped."""
        try:
            mtime = os.stat(self.root).st_mtime_ns
        except FileNotFoundError:
            mtime = -1
        if trust_listed and mtime >= 0 and read_listed(self.root) == mtime:
            return
        quiet = mtime >= 0 and time.time_ns() - mtime > QUIET_NS
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            names = []
        # Set arithmetic first (a hundred thousand names): only names the index does
        # not know are checked one by one.
        stems = {n[:-6] for n in names if n.endswith(".jsonl")}
        stems.update(n[:-5] for n in names if n.endswith(".json"))
        table = view.table
        known = table.row_of.keys()
        new = sorted(sid for sid in stems - known
                     if stream_of(sid + ".jsonl") is not None)
        gone = list(known - stems)
        for sid in gone:
            table.kill(table.row_of[sid])
            view.generation += 1
        missing = False
        for done, sid in enumerate(new, 1):
            state = self._cat_fold(view, sid)
            if state is not None:
                self._cat_apply(view, sid, state)
            else:
                missing = True
            if progress is not None:
                progress(done, len(new))
        if quiet and not missing and not self.read_only:
            write_listed(self.root, mtime)

    def _cat_leave_tidy(self, view: CatalogView) -> None:
        """A writer that closes with the directory quiet (no stream made or removed for
        a moment) leaves the store quick to open for the readers that come next: it
        vouches for the listing (:meth:`_cat_reconcile`) and folds the records into the
        base when there are more than a reader should have to apply one by one."""
        try:
            mtime = os.stat(self.root).st_mtime_ns
        except FileNotFoundError:
            return
        if time.time_ns() - mtime <= QUIET_NS:
            return
        with view.lock:
            self._cat_reconcile(view, None)  # returns at once if ``listed`` vouches
            records = os.fstat(view.fd).st_size - view.loaded.records_at
        if records > TIDY_RECORDS:
            compact(self.root, durable=self.durability != "os")

    def _cat_sweep(self, view: CatalogView, progress: Progress | None) -> None:
        """Check every stream against its file and the directory against the index."""
        self._cat_reconcile(view, None, trust_listed=False)
        stale = self._cat_stale(view, view.table.live_rows())
        for done, sid in enumerate(stale, 1):
            self._cat_apply(view, sid, self._cat_fold(view, sid))
            if progress is not None:
                progress(done, len(stale))
        view.last_sweep = time.monotonic()

    # ── building ──

    def _cat_build(self, progress: Progress | None) -> int:
        """Record every stream of the directory (folded from its file), then compact."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            names = []
        ids = sorted({sid for name in names if (sid := stream_of(name)) is not None})
        count = 0
        for done, sid in enumerate(ids, 1):
            if self._cat_repair(sid) is not None:
                count += 1
            if progress is not None:
                progress(done, len(ids))
        create_index(self.root)
        try:
            st = os.stat(index_path(self.root))
        except FileNotFoundError:
            return count
        compact(self.root, clean_ino=st.st_ino, clean_before=st.st_size,
                durable=self.durability != "os")
        remove_sessions(self.root, dead_sessions(self.root))
        return count

    async def build_catalog(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Fold every stream from its events and rewrite the index (``l0tui index``);
        returns how many streams it indexed."""
        self._check_writable()
        await asyncio.sleep(0)

        def run() -> int:
            with self._cat_view_lock:
                count = self._cat_build(progress)
                if self._cat_view is not None:
                    self._cat_view.close()
                self._cat_view = self._cat_load()
            return count

        return await asyncio.to_thread(run)

    # ── the store's catalog API ──

    def _cat_off(self) -> bool:
        return not self.keeps_summaries

    def _visible(self, view: CatalogView) -> list[int]:
        rows = view.table.live_rows()
        if self.ttl > 0:
            mtime = view.table.mtime
            rows = [r for r in rows if not self.is_expired(mtime[r])]
        return rows

    def _running_content(self, view: CatalogView) -> Callable[[int], bytes | None]:
        table = view.table

        def content(row: int) -> bytes | None:
            key = (table.ints["ino"][row], table.ints["size"][row])
            cached = view.running.get(row)
            if cached is not None and cached[:2] == key:
                return cached[2]
            sid = table.ids[row]
            state = fold_stream(self.root, sid, view.folds.get(sid))
            if state is not None and state.content is None:  # a writer's state: no text
                state = fold_stream(self.root, sid)
            if state is None or state.bad is not None or state.content is None:
                return b""
            text = state.content.value().casefold().encode("utf-8", "surrogatepass")
            view.running[row] = (key[0], key[1], text)
            return text

        return content

    def _options_from_file(self, stream_id: str) -> dict[str, Any]:
        """The first event's START options, read from the file (the index lacks them)."""
        found = source_stat(self.root, stream_id)
        if found is None:
            return {}
        try:
            if found[0]:
                envs = read_legacy(stream_id, legacy_events_path(self.root, stream_id))[:1]
            else:
                with open(events_path(self.root, stream_id), "rb") as fh:
                    line = fh.readline()
                if not line.endswith(b"\n"):
                    return {}
                envs, _ = decode_block([line[:-1]], stream_id=stream_id, first_seq=0,
                                       base_offset=0, path="", final_at_eof=True)
        except (OSError, L0Error, ValueError):
            return {}
        if not envs:
            return {}
        wire = encode_event(envs[0].event)
        opts = wire.get("options") if wire["type"] == "START" else None
        return dict(opts) if isinstance(opts, dict) else {}

    def _cat_summary(self, view: CatalogView, row: int) -> StreamSummary:
        return self._cat_summaries(view, [row])[0]

    def _cat_summaries(self, view: CatalogView, rows: list[int]) -> list[StreamSummary]:
        table = view.table
        if len(rows) > 64:  # one read of each side blob beats a read per row
            table.options.load()
            table.error_head.load()
        options: list[dict[str, Any]] = []
        for row, opts in zip(rows, table.options_of_rows(rows), strict=True):
            if opts is None:
                opts = self._options_from_file(table.ids[row])
                table.options.over[row] = opts
                table.flags[row] |= OPTIONS_KNOWN
            options.append(opts)
        return table.summaries(rows, options)

    def _cat_query_sync(self, query: SummaryQuery) -> SummaryPage | None:
        view = self._cat_current(build=True)
        if view is None:
            return None
        with view.lock:
            content = self._running_content(view)
            for _ in range(4):
                table = view.table
                if self.ttl > 0:
                    page, after = table.page(
                        table.select(query.filter, self._visible(view), content), query)
                else:
                    page, after = table.page_of_ordered(
                        table.ordered(query.filter, query.order, content), query)
                if not self._cat_verify(view, page):
                    break
            return SummaryPage(self._cat_summaries(view, page), after)

    def _cat_count_sync(self, flt: SummaryFilter) -> int | None:
        view = self._cat_current(build=True)
        if view is None:
            return None
        with view.lock:
            content = self._running_content(view)
            if self.ttl > 0:
                return len(view.table.select(flt, self._visible(view), content))
            return len(view.table.matching(flt, content))

    def _cat_get_sync(self, stream_id: str) -> StreamSummary | bool | None:
        """The summary; False when the index cannot answer (use the scan)."""
        view = self._cat_current(build=False)
        if view is None:
            if self.read_only:
                return False
            state = fold_stream(self.root, stream_id)  # not indexed yet: fold, write nothing
            return None if state is None else _state_summary(stream_id, state)
        with view.lock:
            row = view.table.row_of.get(stream_id)
            if row is None or self._cat_verify(view, [row]):
                if row is None:
                    state = self._cat_fold(view, stream_id)
                    if state is None:
                        return None
                    self._cat_apply(view, stream_id, state)
                row = view.table.row_of.get(stream_id)
                if row is None:
                    return None
            if self.ttl > 0 and self.is_expired(view.table.mtime[row]):
                return None
            return self._cat_summary(view, row)

    async def _cat_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        await asyncio.sleep(0)  # this task's own leases end first: their records land
        return await asyncio.to_thread(fn, *args)

    async def prepare_catalog(self, progress: Progress | None = None) -> None:
        if self._cat_off():
            await self._scan_catalog().build(progress)
            return
        view = await self._cat_call(lambda: self._cat_current(build=True, progress=progress))
        if view is None:
            await self._scan_catalog().build(progress)

    async def refresh_catalog(self, progress: Progress | None = None) -> None:
        if self._cat_off():
            await self._scan_catalog().refresh(progress)
            return

        def run() -> None:
            view = self._cat_current(build=True, progress=progress)
            if view is not None:
                with view.lock:
                    self._cat_sweep(view, progress)

        await self._cat_call(run)

    async def get_summary(self, stream_id: str) -> StreamSummary | None:
        validate_stream_id(stream_id)
        if not self._cat_off():
            got = await self._cat_call(self._cat_get_sync, stream_id)
            if got is not False:
                return got  # type: ignore[no-any-return]
        return await self._scan_catalog().get(stream_id)

    async def query_summaries(self, query: SummaryQuery) -> SummaryPage:
        if not self._cat_off():
            page = await self._cat_call(self._cat_query_sync, query)
            if page is not None:
                return page  # type: ignore[no-any-return]
        return await self._scan_catalog().query(query)

    async def count_summaries(self, flt: SummaryFilter | None = None) -> int:
        flt = flt or SummaryFilter()
        if not self._cat_off():
            n = await self._cat_call(self._cat_count_sync, flt)
            if n is not None:
                return n  # type: ignore[no-any-return]
        return await self._scan_catalog().count(flt)

    async def catalog_version(self) -> object:
        if self._cat_off():
            return None

        def run() -> object:
            view = self._cat_current(build=False)
            return None if view is None else view.version()

        return await self._cat_call(run)

    async def wait_catalog_change(self, timeout: float) -> None:
        """Poll the index (a ``stat``, then the new records) every 0.1 s; sweep once a
        minute for changes made without records. The stdlib has no inotify."""
        if self._cat_off():
            await asyncio.sleep(timeout)
            return
        start = await self.catalog_version()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(POLL_INTERVAL, left))
            if await self.catalog_version() != start:
                return
            view = self._cat_view
            if view is not None and time.monotonic() - view.last_sweep > SWEEP_INTERVAL:
                def sweep(v: CatalogView = view) -> None:
                    with v.lock:
                        self._cat_sweep(v, None)
                await asyncio.to_thread(sweep)
                if await self.catalog_version() != start:
                    return


def _state_summary(stream_id: str, state: StreamState) -> StreamSummary:
    if state.bad is not None:
        return StreamSummary(stream_id=stream_id, read_status=state.bad[0],
                             read_note=state.bad[1])
    return state.summary.copy()

