"""Importing a big capture keeps memory flat: the file is never held, events are batched.

Peak memory growth is measured with ``tracemalloc`` (allocations, not time) on a
~20 MB Anthropic SSE capture of one stream: reading its events must not grow with
the file, only with the stream's text (which COMPLETE carries).
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from l0core import CompleteEvent, StartEvent, create_event_store
from l0core.importers import import_into, iter_imported

pytestmark = pytest.mark.slow

SIZE = 20_000_000
WORDS = ["alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta ", "eta ", "theta "]


def big_capture(path: Path, size: int = SIZE) -> tuple[int, int]:
    """One Anthropic stream of about ``size`` bytes of SSE; (text deltas, text length)."""
    start = {"type": "message_start", "message": {
        "id": "msg_big", "type": "message", "role": "assistant", "content": [],
        "model": "claude-sonnet-4-5", "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1}}}
    deltas = text = 0
    with path.open("w", encoding="utf-8") as f:
        f.write(f"event: message_start\ndata: {json.dumps(start)}\n\n")
        f.write('event: content_block_start\ndata: {"type":"content_block_start","index":0,'
                '"content_block":{"type":"text","text":""}}\n\n')
        while f.tell() < size:
            word = WORDS[deltas % len(WORDS)]
            f.write('event: content_block_delta\ndata: {"type":"content_block_delta",'
                    f'"index":0,"delta":{{"type":"text_delta","text":"{word}"}}}}\n\n')
            deltas += 1
            text += len(word)
            if deltas % 5000 == 0:
                f.write('event: ping\ndata: {"type": "ping"}\n\n')
        f.write('event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
                'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
                f'"end_turn","stop_sequence":null}},"usage":{{"output_tokens":{deltas}}}}}\n\n'
                'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    return deltas, text


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    path = tmp_path_factory.mktemp("big") / "big.sse"
    return (path, *big_capture(path))


def test_reading_events_does_not_grow_with_the_file(capture: tuple[Path, int, int]) -> None:
    path, deltas, text = capture
    count = 0
    last = None
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for item in iter_imported(path):
            for event in item.events:
                count += 1
                last = event
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert count == deltas + 2
    assert isinstance(last, CompleteEvent) and len(last.content) == text
    # the text is held twice at the end (its pieces, then COMPLETE's string); the file
    # (20 MB) or its events (over 100 bytes each) never are
    print(f"peak {peak / 1e6:.1f} MB, text {text / 1e6:.1f} MB")
    assert peak < 2 * text + 4_000_000, f"peak {peak / 1e6:.1f} MB for {text / 1e6:.1f} MB text"
    assert peak < SIZE / 4


async def test_import_into_a_file_store_stays_flat(capture: tuple[Path, int, int],
                                                   tmp_path: Path) -> None:
    path, deltas, text = capture
    store = await create_event_store(str(tmp_path / "events"))
    try:
        # what the store itself needs to append this stream's COMPLETE (its content)
        content = "".join(WORDS[n % len(WORDS)] for n in range(deltas))
        await store.append_many("probe", [StartEvent(ts=0)], expected_seq=-1)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        await store.append_many("probe", [CompleteEvent(ts=1, content=content,
                                                         token_count=deltas)], expected_seq=0)
        store_cost = tracemalloc.get_traced_memory()[1] - base
        del content
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        ids = await import_into(store, path)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        assert ids == ["msg_big"]
        assert await store.get_event_count("msg_big") == deltas + 2
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        await store.close()
    print(f"peak {peak / 1e6:.1f} MB, store's own {store_cost / 1e6:.1f} MB")
    budget = store_cost + 2 * text + 8_000_000  # plus batches of 5,000 events in flight
    assert peak < budget, (f"peak {peak / 1e6:.1f} MB, store's own {store_cost / 1e6:.1f} MB, "
                           f"text {text / 1e6:.1f} MB")
    assert peak < SIZE
