"""The catalog at scale: listing, filtering and browsing a million recordings.

    .venv-bench/bin/python benchmarks/bench_catalog.py [--stores sqlite,postgres,file,redis]
        [--big-sqlite 1000000] [--big-postgres 1000000] [--big-file 100000]
        [--big-redis 100000] [--big-nats 100000] [--small 10000] [--runs 7]

For each store two catalogs are written through the public append API (one
``append_many`` per stream of about ten events, many tasks at once): a big one and
a 10,000-stream one. Written stores are kept for the next run (``--data`` for the
embedded ones; PostgreSQL database ``l0bench_catalog``, Redis db 13, NATS stream
``L0BENCHCAT``), each under a name that says its size; ``--refill`` writes them again.

Measured, medians of ``--runs``:

- ``l0tui ls STORE --status error --limit 50`` as a user runs it (a new process),
  on the big catalog and on the 10k one: target <= 300 ms, and big/small <= 3;
- the browser, in process through Pilot at 120x40 on the big catalog: first paint
  (app start to the first rows on screen), a sort or filter change (from the change
  to its rows set, plus the layout and compositor time of the next frame; ten
  filters and five orders, p95), scrolling a page (the page-down action plus the
  frame's layout and compositor time, as ``bench_tui.py`` times a scrub step, p95);
- listing the 10,000 streams with their summaries in process (every page of
  ``query_summaries``) against ``ai2070-l0`` listing the same streams in its file
  store (``list_streams`` + ``get_stream_metadata`` each), both after one warm-up
  run (a cold page cache made the anchor four times slower): target >= 20x;
- the fill itself (streams/s), for the record.

No assertions: the tables report, the reader judges.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RenderTimer, median_of, percentile, table
from l0core import create_event_store
from l0core.catalog import SummaryQuery
from l0core.events import (
    CompleteEvent,
    ErrorEvent,
    GuardrailEvent,
    GuardrailEventResult,
    RecordedEvent,
    RetryEvent,
    SerializedError,
    SerializedOptions,
    StartEvent,
    TokenEvent,
)

try:
    from l0 import eventsourcing as anchor
except ImportError:  # pragma: no cover - the benchmark env has it
    anchor = None

REPO = Path(__file__).resolve().parents[1]
PG_BASE = os.environ.get("L0_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("L0_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_BASE = os.environ.get("L0_TEST_NATS_URL", "nats://127.0.0.1:4222")
T0 = 1_790_000_000_000.0  # 2026-09-21: the 30 days before "now" in the filters below
DAY = 86_400_000.0
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b")
WORDS = ("refund", "invoice", "shipping", "weather", "policy", "order", "account", "delay")


def stream_events(i: int) -> list[RecordedEvent]:
    """Stream ``i`` of a synthetic catalog: about ten events, 5% errors, some retries."""
    rnd = random.Random(i)
    ts = T0 + rnd.random() * 30 * DAY
    model = MODELS[i % len(MODELS)]
    words = [rnd.choice(WORDS) for _ in range(rnd.randint(5, 8))]
    events: list[RecordedEvent] = [StartEvent(ts=ts, options=SerializedOptions(
        model=model, prompt=f"question {i} about {words[0]}"))]
    for k, word in enumerate(words):
        events.append(TokenEvent(ts=ts + 40 * (k + 1), value=f"{word} ", index=k))
    end = ts + 40 * (len(words) + 1) + rnd.random() * 4000
    if i % 7 == 3:
        events.append(RetryEvent(ts=end - 5, reason="rate_limit", attempt=1,
                                 counts_toward_limit=i % 2 == 0))
    if i % 11 == 5:
        events.append(GuardrailEvent(ts=end - 3, at=len(words), result=GuardrailEventResult(
            violations=[{"rule": "pii", "message": "email address", "severity": "error"}])))
    if i % 20 == 7:
        events.append(ErrorEvent(ts=end, error=SerializedError(
            name="NetworkError", message="connection reset by peer"),
            failure_type="network", recovery_strategy="halt", policy="default"))
    else:
        events.append(CompleteEvent(ts=end, content="".join(f"{w} " for w in words),
                                    token_count=len(words)))
    return events


# ───────────────────────────── stores ─────────────────────────────


def location(store: str, n: int, data: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{data / f'catalog-{n}.db'}"
    if store == "file":
        return str(data / f"catalog-{n}")
    if store == "postgres":
        base = PG_BASE.rsplit("/", 1)[0]
        return f"{base}/l0bench_catalog?schema=c{n}"
    if store == "redis":
        return f"{REDIS_BASE.rsplit('/', 1)[0]}/13?prefix=c{n}"
    if store == "nats":
        return f"{NATS_BASE}/?stream=L0BENCHCAT{n}"
    raise ValueError(store)


def _ensure_pg_database() -> None:
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'l0bench_catalog'")
        if found.fetchone() is None:
            conn.execute("CREATE DATABASE l0bench_catalog")


async def fill(url: str, n: int, *, tasks: int = 64,
               progress: Callable[[int], None] | None = None) -> float:
    """Write streams 0..n-1 to ``url``; returns the seconds it took."""
    store = await create_event_store(url)
    started = time.perf_counter()
    next_id = 0
    done = 0

    async def writer() -> None:
        nonlocal next_id, done
        while next_id < n:
            i = next_id
            next_id += 1
            await store.append_many(f"run-{i:07d}", stream_events(i), expected_seq=-1)
            done += 1
            if progress is not None and done % 10_000 == 0:
                progress(done)

    try:
        await asyncio.gather(*(writer() for _ in range(tasks)))
    finally:
        await store.close()
    return time.perf_counter() - started


async def _at_rest(url: str) -> None:
    """What the file store's index looks like once its writers are done: the next
    writer that closes with the directory quiet (an application, ``l0tui index``)
    vouches for the listing and folds the records into the base (docs/format.md)."""
    from l0core.stores.file.catalog_file import QUIET_NS

    await asyncio.sleep(QUIET_NS / 1e9 + 0.05)
    store = await create_event_store(url)
    try:
        await store.count_summaries()
    finally:
        await store.close()


def _remove(target: Path) -> None:
    """An embedded store left by an earlier run, before it is written again."""
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()


async def filled(store: str, n: int, data: Path, refill: bool) -> tuple[str, float | None]:
    """The location of a catalog of ``n`` streams, written unless already there."""
    url = location(store, n, data)
    marker = data / f"filled-{store}-{n}"
    if store == "postgres":
        _ensure_pg_database()
    if marker.exists() and not refill:
        return url, None
    if store in ("sqlite", "file"):
        _remove(Path(url.removeprefix("sqlite:///")))
    else:
        probe = await create_event_store(url)
        try:
            for stream_id in await probe.list_streams():
                await probe.delete(stream_id)
        finally:
            await probe.close()

    def report(done: int) -> None:
        print(f"  {store}: {done:,}/{n:,} streams written", file=sys.stderr, flush=True)

    seconds = await fill(url, n, progress=report)
    if store == "file":
        await _at_rest(url)
    marker.write_text(f"{n} streams in {seconds:.1f} s\n")
    return url, seconds


# ───────────────────────────── measurements ─────────────────────────────


def compile_bytecode() -> None:
    """Write the project's ``.pyc`` files before ``ls`` is timed, as ``pip install``
    does: where ``PYTHONDONTWRITEBYTECODE`` is set (this workplace's shells), every new
    process would otherwise compile l0core and l0tui from source, about 80 ms of a
    300 ms budget that no installed copy pays."""
    for package in ("l0core", "l0tui"):
        compileall.compile_dir(str(REPO / package), quiet=1)


def time_ls(url: str, runs: int) -> tuple[float, int]:
    """Median wall seconds of ``l0tui ls URL --status error --limit 50`` (a new process
    each time, its table piped: a header line and a line per stream), and how many
    streams it listed."""
    argv = [sys.executable, "-m", "l0tui", "ls", url, "--status", "error", "--limit", "50"]
    samples = []
    listed = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
        samples.append(time.perf_counter() - t0)
        if out.returncode != 0:
            raise RuntimeError(f"ls failed: {out.stderr.strip()}")
        listed = len(out.stdout.splitlines()) - 1
    return median_of(samples), listed


async def list_all(url: str) -> tuple[float, int]:
    """Seconds to list every summary of ``url`` in pages, and how many."""
    store = await create_event_store(url, read_only=True)
    try:
        t0 = time.perf_counter()
        count = 0
        after = None
        while True:
            page = await store.query_summaries(SummaryQuery(limit=1000, after=after,
                                                            order="stream_id",
                                                            descending=False))
            count += len(page.items)
            if page.next_after is None:
                break
            after = page.next_after
        return time.perf_counter() - t0, count
    finally:
        await store.close()


async def anchor_dir(n: int, data: Path) -> Path:
    """``ai2070-l0``'s own file store holding the same ``n`` streams (written by it)."""
    assert anchor is not None
    directory = data / f"anchor-{n}"
    marker = data / f"filled-anchor-{n}"
    if marker.exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    store = anchor.FileEventStore(base_path=str(directory))
    for i in range(n):
        ours = stream_events(i)
        for event in ours:
            await store.append(f"run-{i:07d}", _to_anchor(event))
        if i % 1000 == 999:
            print(f"  anchor: {i + 1:,}/{n:,} streams written", file=sys.stderr, flush=True)
    marker.write_text("done\n")
    return directory


def _to_anchor(event: RecordedEvent) -> Any:
    a = anchor
    if isinstance(event, StartEvent):
        return a.StartEvent(ts=event.ts, options=a.SerializedOptions(
            model=event.options.model, prompt=event.options.prompt))
    if isinstance(event, TokenEvent):
        return a.TokenEvent(ts=event.ts, value=event.value, index=event.index)
    if isinstance(event, RetryEvent):
        return a.RetryEvent(ts=event.ts, reason=event.reason, attempt=event.attempt,
                            counts_toward_limit=event.counts_toward_limit)
    if isinstance(event, GuardrailEvent):
        return a.GuardrailEvent(ts=event.ts, at=event.at, result=a.GuardrailEventResult(
            violations=event.result.violations, should_retry=False, should_halt=False))
    if isinstance(event, ErrorEvent):
        return a.ErrorEvent(ts=event.ts, error=a.SerializedError(
            name=event.error.name, message=event.error.message),
            failure_type=event.failure_type, recovery_strategy=event.recovery_strategy,
            policy=event.policy)
    assert isinstance(event, CompleteEvent)
    return a.CompleteEvent(ts=event.ts, content=event.content, token_count=event.token_count)


async def anchor_list(directory: Path) -> tuple[float, int]:
    assert anchor is not None
    store = anchor.FileEventStore(base_path=str(directory))
    t0 = time.perf_counter()
    ids = await store.list_streams()
    metas = [await anchor.get_stream_metadata(store, sid) for sid in ids]
    return time.perf_counter() - t0, sum(1 for m in metas if m is not None)


FILTERS = ("status:error", "model:gpt-4o-mini", "since:10d", "retries>0", "has:violations",
           "failure:network", "id:run-00004", "status:completed model:claude-3-5-sonnet",
           "tokens>=7", '"refund policy"')
SORTS = ("duration_ms", "token_count", "stream_id", "event_count", "start_ts")


async def browse(url: str, pages: int) -> dict[str, Any]:
    """The browser on ``url``: first paint, filter and sort changes, page scrolling."""
    from textual.widgets import Input

    from l0tui.app import L0TuiApp, open_store_readonly
    from l0tui.screens.browser import BrowserScreen

    started = time.perf_counter()
    store = await open_store_readonly(url)
    app = L0TuiApp(store)
    result: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, BrowserScreen) and app.screen.loaded):
            await asyncio.sleep(0.001)
        await pilot.pause()
        result["first_paint"] = time.perf_counter() - started
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        result["rows"] = len(screen.shown_ids)

        render = RenderTimer(screen)

        async def changed(change: Callable[[], None]) -> float:
            """From the change to its rows on screen: the query, then the frame."""
            before = screen.rows_generation
            t0 = time.perf_counter()
            change()
            while screen.rows_generation == before:
                await asyncio.sleep(0.0005)
            waited = time.perf_counter() - t0
            render.spent = 0.0
            await pilot.pause()
            return waited + render.spent

        filter_box = screen.query_one("#filter", Input)
        changes = []
        for _ in range(3):
            for text in (*FILTERS, ""):
                def set_filter(value: str = text) -> None:
                    filter_box.value = value
                changes.append(await changed(set_filter))
            for sort in SORTS:
                def set_sort(field: str = sort) -> None:
                    screen.sort_column = field
                    screen._resort()
                changes.append(await changed(set_sort))
        result["change_p50"] = percentile(changes, 50)
        result["change_p95"] = percentile(changes, 95)
        screen.table.focus()
        await pilot.pause(0.2)
        steps = []
        for _ in range(pages):
            # the key's action, then the layout and compositor work of the frame that
            # shows it (as bench_tui.py times a scrub step); page fetches near the
            # window's edge run in a worker and their repaint lands in some step
            render.spent = 0.0
            t0 = time.perf_counter()
            screen.table.action_page(1)
            acted = time.perf_counter() - t0
            await pilot.pause()
            steps.append(acted + render.spent)
        result["page_p50"] = percentile(steps, 50)
        result["page_p95"] = percentile(steps, 95)
        result["window_rows"] = len(screen.shown_ids)
        result["total"] = screen.total
    await store.close()
    return result


# ───────────────────────────── main ─────────────────────────────


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgres,file,redis")
    parser.add_argument("--big-sqlite", type=int, default=1_000_000)
    parser.add_argument("--big-postgres", type=int, default=1_000_000)
    parser.add_argument("--big-file", type=int, default=100_000)
    parser.add_argument("--big-redis", type=int, default=100_000)
    parser.add_argument("--big-nats", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--data", type=Path, default=REPO / "benchmarks" / ".data")
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--no-tui", action="store_true")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    compile_bytecode()

    fills, ls_rows, tui_rows, list_rows = [], [], [], []
    anchor_seconds = None
    if anchor is not None:
        directory = await anchor_dir(args.small, args.data)
        await anchor_list(directory)  # once to warm the page cache, as for ours below
        anchor_samples = [await anchor_list(directory) for _ in range(3)]
        anchor_seconds = median_of([s for s, _ in anchor_samples])
        anchor_count = anchor_samples[0][1]
        list_rows.append(("ai2070-l0 file store (anchor)", anchor_count, anchor_seconds, 1.0))
    for store in args.stores.split(","):
        big = getattr(args, f"big_{store}")
        big_url, big_fill = await filled(store, big, args.data, args.refill)
        small_url, small_fill = await filled(store, args.small, args.data, args.refill)
        if big_fill is not None:
            fills.append((store, big, big_fill, big / big_fill))
        if small_fill is not None:
            fills.append((store, args.small, small_fill, args.small / small_fill))
        big_ls, listed = time_ls(big_url, args.runs)
        small_ls, _ = time_ls(small_url, args.runs)
        ls_rows.append((store, big, big_ls * 1000, small_ls * 1000, big_ls / small_ls, listed))
        await list_all(small_url)  # warm-up: the fills may have pushed it out of cache
        samples = [await list_all(small_url) for _ in range(3)]
        seconds = median_of([s for s, _ in samples])
        ratio = anchor_seconds / seconds if anchor_seconds else float("nan")
        list_rows.append((f"{store} (summaries)", samples[0][1], seconds, ratio))
        if not args.no_tui:
            shots = [await browse(big_url, args.pages) for _ in range(3)]
            tui_rows.append((store, big, median_of([s["first_paint"] for s in shots]) * 1000,
                             median_of([s["change_p95"] for s in shots]) * 1000,
                             median_of([s["page_p95"] for s in shots]) * 1000,
                             max(s["window_rows"] for s in shots)))
        print(f"  {store} done", file=sys.stderr, flush=True)

    print(f"\nload average after: {os.getloadavg()}")
    if fills:
        print("\nFill through the public append API (one append_many per stream, 64 tasks)")
        print(table(("store", "streams", "seconds", "streams/s"), fills))
    print("\n`l0tui ls STORE --status error --limit 50` (new process, median of "
          f"{args.runs}; target <= 300 ms and big/10k <= 3)")
    print(table(("store", "streams", "big ms", "10k ms", "big/10k", "listed"), ls_rows))
    print(f"\nListing {args.small:,} streams with their summaries (median of 3, after a "
          "warm-up)")
    print(table(("who", "streams", "seconds", "x faster than anchor"), list_rows))
    if tui_rows:
        print("\nBrowser at 120x40 on the big catalog (median of 3 runs; targets: first paint "
              "<= 1000 ms, change p95 <= 100 ms, page p95 <= 16 ms)")
        print(table(("store", "streams", "first paint ms", "sort/filter p95 ms",
                     "page down p95 ms", "rows held"), tui_rows))


def _run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


if __name__ == "__main__":
    _run(main())
