"""Every command against every wrong store: one line naming the location, exit 2.

The matrix runs each subcommand, and the TUI's open path, through the real entry
point (``l0tui.cli.main``; a subprocess as another user where file permissions must
bite, since the tests run as root) against stores that are wrong in every way a
user meets: not a database, binary garbage, an empty file, a directory where a
file is expected and the reverse, foreign tables, a role without privileges, a
wrong Redis key type, a store of the other layout, a server that hangs up
mid-read. Each prints exactly one ``l0tui: ...`` line on stderr that names the
location with its password masked, exits 2, and never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from l0tui.cli import main
from tests.faults.cutting_proxy import CuttingProxy
from tests.paths import REPO
from tests.services import (
    delete_redis_prefix,
    drop_postgres_schema,
    postgres_dsn,
    redis_url,
    unique_name,
    with_query,
)

SECRET = "matrix-secret-pw"
COMMANDS: dict[str, Callable[[str, str, str], list[str]]] = {
    "ls": lambda loc, sid, dst: ["ls", loc],
    "ls-json": lambda loc, sid, dst: ["ls", loc, "--json"],
    "show": lambda loc, sid, dst: ["show", loc, sid],
    "events": lambda loc, sid, dst: ["events", loc, sid],
    "replay": lambda loc, sid, dst: ["replay", loc, sid, "--speed", "0"],
    "diff": lambda loc, sid, dst: ["diff", loc, sid, sid, "--plain"],
    "copy": lambda loc, sid, dst: ["copy", loc, dst],
    "copy-into": lambda loc, sid, dst: ["copy", str(REPO / "demo_streams"), loc, "--stream",
                                        "01-clean-completion"],
    "verify": lambda loc, sid, dst: ["verify", loc],
    "export": lambda loc, sid, dst: ["export", loc, sid],
    "tui": lambda loc, sid, dst: [loc],
    "tui-stream": lambda loc, sid, dst: [loc, "--stream", sid],
}
READS = [c for c in COMMANDS if c != "copy-into"]
NO_TUI = tuple(c for c in READS if not c.startswith("tui"))
"""A server that hangs up mid-read lets the TUI open (the failure shows inside it)."""
READS_EVENTS = tuple(c for c in NO_TUI if not c.startswith("ls"))
"""What reads a long stream's events: ``ls`` reads the catalog's summaries only, a few
hundred bytes per stream, so a server that hangs up after 24 kB never bites it."""


@dataclass(frozen=True)
class Case:
    location: str
    names: str
    """What the line must contain to name the location."""
    stream: str = "a"
    commands: tuple[str, ...] = tuple(COMMANDS)


def invoke(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as done:
        main(argv)
    code = done.value.code
    return (code if isinstance(code, int) else 1), out.getvalue(), err.getvalue()


def check_line(status: int, err: str, case: Case, argv: list[str]) -> str:
    assert status == 2, (argv, status, err)
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("l0tui: "), (argv, err)
    assert case.names in lines[0], (argv, lines[0])
    assert SECRET not in lines[0]
    return lines[0]


# ── the stores ──


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    root = tmp_path_factory.mktemp("wrong")
    (root / "notdb.db").write_text("this is a text file, not an SQLite database\n" * 20)
    (root / "garbage.db").write_bytes(bytes((i * 7919 + 13) % 256 for i in range(8192)))
    (root / "empty.db").write_bytes(b"")
    (root / "dir.db").mkdir()
    (root / "plain.txt").write_text("not a directory\n")
    bad = root / "garbage-streams"
    bad.mkdir()
    (bad / "a.jsonl").write_bytes(bytes((i * 31 + 7) % 256 for i in range(4096)))
    reads = tuple(c for c in READS if c not in ("ls", "ls-json", "verify", "tui"))
    return {
        "not-a-database (sqlite URL)": Case(f"sqlite:///{root / 'notdb.db'}", "notdb.db"),
        "not-a-database (path)": Case(str(root / "notdb.db"), "notdb.db"),
        "binary garbage (sqlite)": Case(str(root / "garbage.db"), "garbage.db"),
        "binary garbage (stream file)": Case(str(bad), "a.jsonl", commands=reads),
        # Writing into an empty file is fine (it becomes a database): reads only.
        "empty file": Case(f"sqlite:///{root / 'empty.db'}", "empty.db", commands=tuple(READS)),
        "directory where a file is expected": Case(f"sqlite:///{root / 'dir.db'}", "dir.db"),
        "file where a directory is expected": Case(str(root / "plain.txt"), "plain.txt"),
        "file URL of a file": Case(f"file://{root / 'plain.txt'}", "plain.txt"),
        "sqlite:///not-a-db": Case("sqlite:///not-a-db", "not-a-db", commands=tuple(READS)),
    }


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict[str, Case]]:
    import psycopg

    from l0core import create_event_store
    from tests.spec_layouts import create_spec_tables, demo_events

    dsn = postgres_dsn()
    foreign, ours, long, spec = (unique_name(k) for k in ("wf", "wo", "wl", "ws"))
    role = "l0_matrix_reader"
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
            conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f'CREATE SCHEMA "{foreign}"')
        conn.execute(f'CREATE TABLE "{foreign}".l0_events (id serial, payload text)')
        create_spec_tables(conn, spec, "l0")

    async def fill() -> None:
        for schema, count in ((ours, 3), (long, 3000)):
            store = await create_event_store(with_query(dsn, schema=schema))
            try:
                events = demo_events("01-clean-completion")
                tokens = [{"type": "TOKEN", "ts": 1 + i, "value": f"token {i} " * 4, "index": i}
                          for i in range(count)]
                await store.append_many("a", [events[0], *tokens])
            finally:
                await store.close()

    import asyncio

    asyncio.run(fill())
    parts = dsn.split("@", 1)[1].split("/", 1)[0]
    host, _, port = parts.partition(":")
    proxy = CuttingProxy(host, int(port or 5432), limit=24_000)
    with proxy:
        cut = f"postgresql://postgres:{SECRET}@127.0.0.1:{proxy.port}/postgres?schema={long}"
        denied = f"postgresql://{role}:{SECRET}@{parts}/postgres?schema={ours}"
        yield {
            "foreign tables (PostgreSQL)": Case(with_query(dsn, schema=foreign), foreign),
            "permission denied (database role)": Case(denied, f"{role}:***@"),
            "other layout (PostgreSQL, layout=spec on ours)": Case(
                with_query(dsn, schema=ours, layout="spec"), ours),
            "other layout (PostgreSQL, layout=l0core on the spec's)": Case(
                with_query(dsn, schema=spec, layout="l0core"), spec),
            "closes mid-read (PostgreSQL)": Case(cut, f"postgres:***@127.0.0.1:{proxy.port}",
                                                 commands=READS_EVENTS),
        }
    for schema in (foreign, ours, long, spec):
        drop_postgres_schema(dsn, schema)
    with psycopg.connect(dsn, autocommit=True) as conn, contextlib.suppress(psycopg.Error):
        conn.execute(f"DROP ROLE IF EXISTS {role}")  # owns nothing once the schemas are gone


@pytest.fixture(scope="module")
def redis_stores() -> Iterator[dict[str, Case]]:
    import asyncio

    import redis

    from l0core import create_event_store
    from tests.spec_layouts import SpecRedisWriter, demo_events

    url = redis_url()
    index_str, hash_key, spec, long = (unique_name(k) for k in ("ri", "rh", "rs", "rl"))
    client = redis.Redis.from_url(url)
    client.set(f"{index_str}:streams", "not an index")
    client.hset(f"{hash_key}:stream:a", "field", "value")
    writer = SpecRedisWriter(client, spec)
    for event in demo_events("01-clean-completion"):
        writer.append("a", event)

    async def fill() -> None:
        store = await create_event_store(with_query(url, prefix=long))
        try:
            tokens = [{"type": "TOKEN", "ts": 1 + i, "value": f"token {i} " * 4, "index": i}
                      for i in range(3000)]
            await store.append_many("a", tokens)
        finally:
            await store.close()

    asyncio.run(fill())
    rest = url.split("://", 1)[1]
    hostport, _, db = rest.partition("/")
    host, _, port = hostport.partition(":")
    proxy = CuttingProxy(host, int(port or 6379), limit=24_000)
    with proxy:
        cut = f"redis://:{SECRET}@127.0.0.1:{proxy.port}/{db or '0'}?prefix={long}"
        yield {
            "wrong key type (Redis index)": Case(with_query(url, prefix=index_str), index_str),
            "wrong key type (Redis stream key)": Case(with_query(url, prefix=hash_key), hash_key),
            "other layout (Redis, layout=l0core on the spec's)": Case(
                with_query(url, prefix=spec, layout="l0core"), spec),
            "closes mid-read (Redis)": Case(cut, f":***@127.0.0.1:{proxy.port}",
                                            commands=READS_EVENTS),
        }
    client.close()
    for prefix in (index_str, hash_key, spec, long):
        delete_redis_prefix(url, prefix)


# ── the matrix ──

LINES: dict[tuple[str, str], str] = {}


def run_matrix(cases: dict[str, Case], tmp_path: Path) -> None:
    for name, case in cases.items():
        for command in case.commands:
            dst = str(tmp_path / f"dst-{len(LINES)}")
            argv = COMMANDS[command](case.location, case.stream, dst)
            if command == "tui-stream" and "dir" in name:
                continue
            status, _, err = invoke(argv)
            LINES[(name, command)] = check_line(status, err, case, argv)


def test_matrix_files(files: dict[str, Case], tmp_path: Path) -> None:
    run_matrix(files, tmp_path)


@pytest.mark.services
def test_matrix_postgres(postgres: dict[str, Case], tmp_path: Path) -> None:
    run_matrix(postgres, tmp_path)


@pytest.mark.services
def test_matrix_redis(redis_stores: dict[str, Case], tmp_path: Path) -> None:
    run_matrix(redis_stores, tmp_path)


def test_a_file_naming_another_stream_says_so(tmp_path: Path) -> None:
    store = tmp_path / "renamed"
    store.mkdir()
    source = (REPO / "demo_streams" / "01-clean-completion.jsonl").read_bytes()
    (store / "renamed-copy.jsonl").write_bytes(source)
    status, _, err = invoke(["show", str(store), "renamed-copy"])
    line = check_line(status, err, Case(str(store), "renamed-copy.jsonl"), [])
    assert "01-clean-completion" in line


# ── file permissions: without the capabilities that let root read everything ──

DROP_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search"]


@pytest.fixture
def private_stores(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(a directory, an sqlite file and a store directory with every permission bit off)."""
    import asyncio

    from l0core import create_event_store

    root = str(tmp_path)
    db = os.path.join(root, "private.db")
    directory = os.path.join(root, "private-dir")

    async def fill() -> None:
        for location in (f"sqlite:///{db}", directory):
            store = await create_event_store(location)
            try:
                await store.append("a", {"type": "TOKEN", "ts": 1, "value": "x", "index": 0})
            finally:
                await store.close()

    asyncio.run(fill())
    for path in (db, directory):
        os.chmod(path, 0)
    try:
        yield root, db, directory
    finally:
        os.chmod(directory, stat.S_IRWXU)
        os.chmod(db, stat.S_IRUSR | stat.S_IWUSR)


def test_permission_denied_on_files(private_stores: tuple[str, str, str]) -> None:
    root, db, directory = private_stores
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file permissions cannot bite")
        prefix = DROP_DAC
    for location, names in ((db, "private.db"), (directory, "private-dir")):
        for command in ("ls", "show", "events", "verify", "export", "copy", "tui"):
            argv = COMMANDS[command](location, "a", os.path.join(root, "dst"))
            proc = subprocess.run(
                [*prefix, sys.executable, "-c", "from l0tui.cli import main; main()", *argv],
                capture_output=True, text=True, cwd=root, timeout=60)
            line = check_line(proc.returncode, proc.stderr, Case(location, names), argv)
            assert "ermission denied" in line or "not permitted" in line, line
            LINES[(f"permission denied (file: {names})", command)] = line


def test_zz_print_matrix() -> None:
    """Print every line the matrix saw (``pytest -s``), for the record."""
    for (case, command), line in sorted(LINES.items()):
        print(f"{case:55} {command:11} {line}")


def test_ls_lists_what_it_can_read_and_marks_the_rest(tmp_path: Path) -> None:
    import json

    store = tmp_path / "mixed"
    store.mkdir()
    demo = REPO / "demo_streams"
    for name in ("01-clean-completion", "06-error-zero-tokens"):
        (store / f"{name}.jsonl").write_bytes((demo / f"{name}.jsonl").read_bytes())
    (store / "garbage.jsonl").write_bytes(bytes((i * 31 + 7) % 256 for i in range(4096)))
    (store / "renamed.jsonl").write_bytes((demo / "01-clean-completion.jsonl").read_bytes())
    status, out, err = invoke(["ls", str(store), "--plain"])
    assert status == 1 and err == ""
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()[1:]}
    assert rows["01-clean-completion"][9] == "completed"
    assert rows["06-error-zero-tokens"][9] == "error"
    assert rows["garbage"][9] == "unreadable" and "garbage.jsonl" in rows["garbage"][10]
    assert rows["renamed"][9] == "other stream"
    assert rows["renamed"][10] == "its events name stream '01-clean-completion'"
    status, out, _ = invoke(["ls", str(store), "--json"])
    listed = {e["streamId"]: e for e in json.loads(out)}
    assert status == 1 and listed["garbage"]["status"] == "unreadable"
    assert listed["renamed"]["readStatus"] == "other_stream"
    assert listed["01-clean-completion"]["status"] == "completed"
    summary = " | ".join(f"{k}: {v['status']} {v.get('reason', '')}".strip()
                         for k, v in sorted(listed.items()))
    LINES[("ls on a directory with unreadable files", "ls")] = "exit 1; " + summary
