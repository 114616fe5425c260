"""The file store's index file: a compact base of columns, then appended records.

``<dir>/.l0catalog/index`` holds a *base* (every stream's summary as one binary
column per field, written whole by compaction) followed by *records* (one JSON line
per stream update, ``catalog_records``), appended by every writer process. Loading is
one read of the columns plus the records since the last compaction.

Safety across processes and crashes:

- Appending a record takes a shared ``flock`` on the index; compaction takes it
  exclusively for the moment it copies the newest records after the new base and
  renames the result over the index, so no record is lost. A writer that finds its
  descriptor renamed over (no links left) reopens and writes again.
- Each record is written as ``\\n`` + JSON + ``\\n``: a line torn by a crash is always
  a line of its own, seen as damage, never glued to the next record.
- Every writer process holds an exclusive ``flock`` on a session file ``w-<pid>-<n>``
  while it may write; it removes the file when it closes. A session file nobody
  holds belongs to a writer that died, whose last appends may lack their records:
  readers then check every stream against its file (a *sweep*).
- A writer closing cleanly, and compaction, leave the index's inode and size in
  ``closed``; an index of that inode found shorter lost records: a sweep too.

The layout is described in ``docs/format.md`` (section 7, "File").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import sys
import threading
from array import array
from dataclasses import dataclass, field
from typing import Any

import orjson

from l0core.stores.file.layout import fsync_dir, unlink_if_exists
from l0core.stores.file.summary_table import (
    FILE_FIELDS,
    FLOAT_FIELDS,
    HAS_CONTENT,
    INT_FIELDS,
    OPTIONS_KNOWN,
    Side,
    SummaryTable,
)
from l0core.stores.options import Durability

CATALOG_DIR = ".l0catalog"
INDEX_NAME = "index"
MAGIC = b"L0CATALOG 1\n"
SESSION_PREFIX = "w-"
COMPACT_AFTER = 4 * 1024 * 1024
"""Records (bytes) after the base that make a writer compact the index."""
CHECK_EVERY = 256 * 1024
"""A writer looks at the index size after writing this many bytes of records."""


def catalog_dir(root: str) -> str:
    return os.path.join(root, CATALOG_DIR)


def index_path(root: str) -> str:
    return os.path.join(root, CATALOG_DIR, INDEX_NAME)


# ── the base ──

_COLUMNS: tuple[tuple[str, str], ...] = (
    *((k, "q") for k in INT_FIELDS + FILE_FIELDS), *((k, "d") for k in FLOAT_FIELDS),
    ("mtime", "d"), ("status", "b"), ("drift", "b"), ("flags", "b"), ("model", "i"),
    ("failure", "i"))
_SIDES = ("errorHead", "options", "content")


def _column(table: SummaryTable, name: str) -> Any:
    if name in table.ints:
        return table.ints[name]
    if name in table.floats:
        return table.floats[name]
    return getattr(table, name)


def encode_base(table: SummaryTable, *, dirty: bool) -> bytes:
    """The index file's base for the live rows of ``table`` (renumbered), no records."""
    rows = table.live_rows()
    sections: list[tuple[str, bytes]] = []
    for name, code in _COLUMNS:
        col = _column(table, name)
        sections.append((name, array(code, [col[r] for r in rows]).tobytes()))
    sections.append(("ids", "\n".join(table.ids[r] for r in rows).encode()))
    blobs: dict[str, list[bytes]] = {"errorHead": [], "options": [], "content": []}
    flags = table.flags
    for r in rows:
        blobs["errorHead"].append(table.error_head_of(r).encode("utf-8", "surrogatepass"))
        opts = table.options_of(r) if flags[r] & OPTIONS_KNOWN else None
        blobs["options"].append(orjson.dumps(opts) if opts else b"")
        content = table.content_of(r) if flags[r] & HAS_CONTENT else None
        blobs["content"].append(content or b"")
    for name in _SIDES:
        parts = blobs[name]
        offsets = array("q", [0])
        total = 0
        for part in parts:
            total += len(part)
            offsets.append(total)
        sections.append((name + "Offsets", offsets.tobytes()))
        sections.append((name, b"".join(parts)))
    bad = [[i, *table.bad[r]] for i, r in enumerate(rows) if r in table.bad]
    header = {"rows": len(rows), "byteorder": sys.byteorder,
              "sections": [[name, len(data)] for name, data in sections],
              "models": table.models.values, "failures": table.failures.values,
              "bad": bad, "dirty": dirty}
    return b"".join([MAGIC, orjson.dumps(header), b"\n", *(data for _, data in sections)])


@dataclass
class Loaded:
    """An index file read into a table, and where its reading stopped."""

    table: SummaryTable
    ino: int
    records_at: int
    """Offset of the first record (the base's end)."""
    consumed: int
    """Offset after the last complete record applied."""
    dirty: bool
    """The base says records were lost (a sweep is needed)."""
    damaged: bool = False
    """A record line could not be read (torn or overwritten)."""
    torn_tail: bool = False
    """The file ends inside a line: a write in flight, or a torn record."""
    last_damage: int = -1
    """Offset of the last unreadable line (-1: none)."""
    header: dict[str, Any] = field(default_factory=dict)


class CatalogFormatError(ValueError):
    """The index file is not one this version reads (it is then rebuilt or ignored)."""


def _read_header(fd: int) -> tuple[dict[str, Any], int]:
    head = os.pread(fd, 1 << 16, 0)
    if not head.startswith(MAGIC):
        raise CatalogFormatError("not an l0 catalog index")
    end = head.find(b"\n", len(MAGIC))
    while end < 0:
        more = os.pread(fd, len(head) * 4, 0)
        if len(more) == len(head):
            raise CatalogFormatError("index header is cut short")
        head = more
        end = head.find(b"\n", len(MAGIC))
    try:
        header = orjson.loads(head[len(MAGIC):end])
    except orjson.JSONDecodeError as exc:
        raise CatalogFormatError(f"index header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise CatalogFormatError("index header is not an object")
    return header, end + 1


def load_index(fd: int) -> Loaded:
    """Read the base and every complete record of the open index file ``fd``."""
    header, at = _read_header(fd)
    try:
        return _load(fd, header, at)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CatalogFormatError(f"index base is damaged: {exc}") from None


def _load(fd: int, header: dict[str, Any], at: int) -> Loaded:
    table = SummaryTable()
    swap = header["byteorder"] != sys.byteorder
    n = int(header["rows"])
    where: dict[str, tuple[int, int]] = {}
    for name, size in header["sections"]:
        where[name] = (at, int(size))
        at += int(size)
    records_at = at

    def read(name: str) -> bytes:
        offset, size = where[name]
        data = os.pread(fd, size, offset)
        if len(data) != size:
            raise ValueError(f"section {name} is cut short")
        return data

    for name, code in _COLUMNS:
        col: array[Any] = array(code)
        col.frombytes(read(name))
        if swap:
            col.byteswap()
        if len(col) != n:
            raise ValueError(f"column {name} has {len(col)} rows, not {n}")
        if name in table.ints:
            table.ints[name] = col
        elif name in table.floats:
            table.floats[name] = col
        else:
            setattr(table, name, col)
    ids = read("ids").decode().split("\n") if n else []
    if len(ids) != n:
        raise ValueError("ids column has the wrong length")
    table.set_ids(ids)
    table.live = n
    table.models.values = [str(v) for v in header["models"]]
    table.models.code = {v: i for i, v in enumerate(table.models.values)}
    table.failures.values = [str(v) for v in header["failures"]]
    table.failures.code = {v: i for i, v in enumerate(table.failures.values)}
    for row, status, note in header["bad"]:
        table.bad[int(row)] = (status, str(note))
    for name in _SIDES:
        side: Side = {"errorHead": table.error_head, "options": table.options,
                      "content": table.content}[name]
        offsets: array[int] = array("q")
        offsets.frombytes(read(name + "Offsets"))
        if swap:
            offsets.byteswap()
        base, size = where[name]
        if len(offsets) != n + 1 or offsets[-1] != size:
            raise ValueError(f"{name} offsets do not match")
        side.offsets = offsets
        side.read = _reader(fd, base)
    table.error_head.load()
    loaded = Loaded(table, os.fstat(fd).st_ino, records_at, records_at,
                    bool(header.get("dirty")), header=header)
    read_records(fd, loaded)
    return loaded


def _reader(fd: int, base: int) -> Any:
    def read(offset: int, length: int) -> bytes:
        return os.pread(fd, length, base + offset)
    return read


def read_records(fd: int, loaded: Loaded) -> list[int]:
    """Apply the complete records after ``loaded.consumed``; returns the rows touched."""
    size = os.fstat(fd).st_size
    if size <= loaded.consumed:
        loaded.torn_tail = False
        return []
    data = os.pread(fd, size - loaded.consumed, loaded.consumed)
    end = data.rfind(b"\n") + 1
    loaded.torn_tail = end < len(data)
    touched: list[int] = []
    apply = loaded.table.apply
    at = loaded.consumed
    for line in data[:end].split(b"\n"):
        if line:
            try:
                row = apply(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                loaded.damaged = True
                loaded.last_damage = at
            else:
                if row is not None:
                    touched.append(row)
        at += len(line) + 1
    loaded.consumed += end
    return touched


def create_index(root: str) -> None:
    """Create an empty index unless one exists (atomically: temp file, then link)."""
    directory = catalog_dir(root)
    os.makedirs(directory, exist_ok=True)
    path = index_path(root)
    if os.path.exists(path):
        return
    tmp = os.path.join(directory, f".index.new-{os.getpid()}-{secrets.token_hex(4)}")
    with open(tmp, "wb") as fh:
        fh.write(encode_base(SummaryTable(), dirty=False))
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    fsync_dir(directory)


# ── sessions ──

def dead_sessions(root: str) -> list[str]:
    """Session files no live writer holds (their writers died mid-work)."""
    directory = catalog_dir(root)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    dead = []
    for name in names:
        if not name.startswith(SESSION_PREFIX):
            continue
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        finally:
            os.close(fd)
        dead.append(name)
    return dead


def remove_sessions(root: str, names: list[str]) -> None:
    """Forget dead sessions once a sweep has repaired what they left (writable only)."""
    for name in names:
        path = os.path.join(catalog_dir(root), name)
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                unlink_if_exists(path)
            finally:
                os.close(fd)


# ── the high-water mark ──

def read_mark(root: str) -> tuple[int, int] | None:
    """(inode, size) the index had when a writer last closed cleanly or compacted it."""
    try:
        with open(os.path.join(catalog_dir(root), "closed"), "rb") as fh:
            mark = orjson.loads(fh.read())
        return int(mark["ino"]), int(mark["size"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def write_mark(root: str, fd: int) -> None:
    """Remember the index's size: a later, shorter index of the same inode lost records
    (cut by hand or by a failed disk), which no stream file or session would tell."""
    st = os.fstat(fd)
    old = read_mark(root)
    if old is not None and old[0] == st.st_ino and old[1] >= st.st_size:
        return
    directory = catalog_dir(root)
    tmp = os.path.join(directory, f".closed-{os.getpid()}-{secrets.token_hex(4)}")
    with open(tmp, "wb") as fh:
        fh.write(orjson.dumps({"ino": st.st_ino, "size": st.st_size}))
    os.replace(tmp, os.path.join(directory, "closed"))


# ── the directory, as last listed ──

LISTED_NAME = "listed"
QUIET_NS = 100_000_000
"""How long a directory must have gone unchanged before its mtime can vouch for its
entries: mtimes come from a coarse clock (a tick of a few ms), so an entry made in the
same tick as the one before leaves the mtime as it was."""


def read_listed(root: str) -> int | None:
    """The directory mtime (ns) at which a writer found every stream file indexed."""
    try:
        with open(os.path.join(catalog_dir(root), LISTED_NAME), "rb") as fh:
            return int(fh.read().strip() or b"-1")
    except (OSError, ValueError):
        return None


def write_listed(root: str, mtime_ns: int) -> None:
    """Vouch that every stream file the directory held at ``mtime_ns`` is indexed (a
    file made or removed later changes the mtime). Written inside ``.l0catalog``, so
    writing it leaves the directory's own mtime alone."""
    directory = catalog_dir(root)
    tmp = os.path.join(directory, f".listed-{os.getpid()}-{secrets.token_hex(4)}")
    with open(tmp, "wb") as fh:
        fh.write(b"%d\n" % mtime_ns)
    os.replace(tmp, os.path.join(directory, LISTED_NAME))


# ── compaction ──

def compact(root: str, *, clean_ino: int = -1, clean_before: int = 0,
            durable: bool = True) -> bool:
    """Rewrite the index as one base of the latest state, keeping newer records after it.

    Damage (unreadable record lines, or an earlier ``dirty`` base) stays marked
    ``dirty`` in the new base, unless a sweep repaired it: the caller then passes the
    inode and offset its sweep covered. Returns False when another process is
    compacting or the index is missing.
    """
    try:
        lock_fd = os.open(os.path.join(catalog_dir(root), "compact.lock"),
                          os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:
            fd = os.open(index_path(root), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            return _compact_locked(root, fd, clean_ino, clean_before, durable)
        finally:
            os.close(fd)
    finally:
        os.close(lock_fd)


def _compact_locked(root: str, fd: int, clean_ino: int, clean_before: int,
                    durable: bool) -> bool:
    try:
        loaded = load_index(fd)
    except CatalogFormatError:
        return False
    swept = loaded.ino == clean_ino  # a sweep repaired everything before clean_before
    dirty = ((loaded.dirty and not swept)
             or (loaded.damaged and not (swept and loaded.last_damage < clean_before)))
    base = encode_base(loaded.table, dirty=dirty)
    directory = catalog_dir(root)
    tmp = os.path.join(directory, f".index.compact-{os.getpid()}-{secrets.token_hex(4)}")
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # no record is appended until the rename is done
        try:
            if os.fstat(fd).st_nlink == 0:
                return False
            # Records written since the load follow the new base as they are. Bytes
            # after the last newline are a torn record: no write is in flight while
            # we hold the lock exclusively.
            newer = os.pread(fd, os.fstat(fd).st_size - loaded.consumed, loaded.consumed)
            complete = newer[:newer.rfind(b"\n") + 1]
            torn_at = loaded.consumed + len(complete)
            if len(complete) < len(newer) and not dirty and not (swept
                                                                and torn_at < clean_before):
                base = encode_base(loaded.table, dirty=True)
            _write_all(out, base)
            _write_all(out, complete)
            if durable:
                os.fsync(out)
            os.replace(tmp, index_path(root))
            if durable:
                fsync_dir(directory)
            write_mark(root, out)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(out)
        unlink_if_exists(tmp)
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# ── appending records ──

class IndexLog:
    """One store's appends of records to the index (any thread), and its writer session."""

    def __init__(self, root: str, durability: Durability) -> None:
        self.root = root
        self.durability = durability
        self.fd = -1
        self.records_at = 0
        self.session_fd = -1
        self.session_path = ""
        self.lock = threading.Lock()
        self.dirty = False
        self._since_check = 0
        self._compactor: threading.Thread | None = None

    def _open(self) -> None:
        path = index_path(self.root)
        while True:
            create_index(self.root)
            try:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
                break
            except FileNotFoundError:
                continue  # removed between the two calls: create it again
        try:
            header, at = _read_header(fd)
            self.records_at = at + sum(int(size) for _, size in header["sections"])
        except (CatalogFormatError, KeyError, TypeError, ValueError):
            self.records_at = 0
        self.fd = fd
        if self.session_fd < 0:
            self._register()

    def _register(self) -> None:
        """Hold a session file while this store may write (see the module docstring)."""
        directory = catalog_dir(self.root)
        name = f"{SESSION_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        tmp = os.path.join(directory, "." + name)
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        final = os.path.join(directory, name)
        os.replace(tmp, final)
        fsync_dir(directory)
        self.session_fd, self.session_path = fd, final

    def append(self, record: bytes) -> None:
        """Append one record; a failure leaves the session looking dead (readers sweep)."""
        data = b"\n" + record + b"\n"
        with self.lock:
            try:
                self._append_locked(data)
            except OSError:
                self._abandon_session()
                raise
            self.dirty = True
            self._since_check += len(data)
            if self._since_check >= CHECK_EVERY:
                self._since_check = 0
                self._maybe_compact()

    def _append_locked(self, data: bytes) -> None:
        while True:
            if self.fd < 0:
                self._open()
            fd = self.fd
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                if os.fstat(fd).st_nlink == 0:  # compacted (renamed over) or removed
                    os.close(fd)
                    self.fd = -1
                    continue
                _write_all(fd, data)
                return
            finally:
                if self.fd == fd:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def _abandon_session(self) -> None:
        """Let go of the session without removing it: to readers this writer died."""
        if self.session_fd >= 0:
            os.close(self.session_fd)
            self.session_fd = -1

    def _maybe_compact(self) -> None:
        if self.fd < 0 or (self._compactor is not None and self._compactor.is_alive()):
            return
        size = os.fstat(self.fd).st_size
        if size - self.records_at < max(COMPACT_AFTER, self.records_at // 4):
            return
        t = threading.Thread(target=self._compact, name="l0-catalog-compact", daemon=True)
        self._compactor = t
        t.start()

    def _compact(self) -> None:
        with contextlib.suppress(OSError):
            compact(self.root, durable=self.durability != "os")

    def sync(self) -> None:
        """``fdatasync`` the index if records were written since the last call."""
        with self.lock:
            if not self.dirty or self.fd < 0:
                return
            fd = os.dup(self.fd)
            self.dirty = False
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Flush (unless durability ``os``), then end the session: a clean exit."""
        compactor = self._compactor
        if compactor is not None:
            compactor.join()
        with self.lock:
            if self.fd >= 0:
                if self.durability != "os":
                    os.fdatasync(self.fd)
                with contextlib.suppress(OSError):
                    write_mark(self.root, self.fd)
                os.close(self.fd)
                self.fd = -1
            if self.session_fd >= 0:
                unlink_if_exists(self.session_path)
                os.close(self.session_fd)
                self.session_fd = -1
