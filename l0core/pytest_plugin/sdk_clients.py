"""An SDK client for a test: it replays a recording, or records the real call, by mode.

``l0_openai("name")`` returns an ``openai`` client (``l0_anthropic`` an
``anthropic`` one) whose ``create``/``stream`` methods decide, call by call,
what the call does:

- replay call *k* of the recording: the request carries the call number to the
  :class:`~l0core.pytest_plugin.transport.ReplayTransport`, which answers with the
  recorded stream; no socket is opened;
- record it (``--l0-record`` once/new/all, see :mod:`.modes`): the request goes to
  the real API (``base_url`` and key as the SDK finds them, e.g.
  ``OPENAI_BASE_URL``), and what it returns is wrapped by ``record_openai`` /
  ``record_anthropic`` into ``<recordings>/<name>[-k].jsonl``;
- neither: the test fails, saying which command records the call.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, NoReturn

import httpx2
import pytest

from l0core.events import EventEnvelope
from l0core.pytest_plugin.calls import RecordedCall, recorded_calls
from l0core.pytest_plugin.clock import Pacer
from l0core.pytest_plugin.providers import Provider, answer_text
from l0core.pytest_plugin.recordings import Recordings, call_id
from l0core.pytest_plugin.transport import CALL_HEADER, ReplayBody, ReplayTransport
from l0core.recorded.sync import run_sync
from l0core.stores.base import BaseEventStore
from l0core.stores.memory import InMemoryEventStore


class SDKReplay:
    """The calls of one client made by a fixture: what is recorded, what comes next."""

    def __init__(self, recordings: Recordings, name: str, provider: Provider, *,
                 speed: float, pacer: Pacer | None) -> None:
        self.recordings = recordings
        self.name = recordings.check_name(name)
        self.provider = provider
        self.mode = recordings.mode
        self.streams = 0 if self.mode == "all" else recordings.recorded_calls(name)
        self.calls: list[RecordedCall] = []
        if self.streams:
            store = recordings.load(name, "replayed")
            ids = [call_id(name, k) for k in range(1, self.streams + 1)]
            self.calls = run_sync(lambda: recorded_calls(store, ids))
        elif self.mode == "none":
            recordings.fail_missing(name)
        self.made = 0
        self.recorded_now = 0
        self._store: InMemoryEventStore | None = None
        recordings.before_load.append(self.publish)
        live = self.mode != "none"
        self.transport = ReplayTransport(self._plan, self._refuse, speed=speed, pacer=pacer,
                                         live=live)

    # ── deciding each call ──

    def may_record(self) -> bool:
        return self.mode in ("all", "new") or (self.mode == "once" and self.streams == 0)

    def next_call(self) -> int | str:
        """The recorded call (from 1) to replay, or the stream id to record into."""
        self.made += 1
        k = self.made
        if k <= len(self.calls):
            return k
        if not self.may_record():
            self._fail_exhausted(k)
        self.recorded_now += 1
        return call_id(self.name, self.streams + self.recorded_now)

    def _fail_exhausted(self, k: int) -> NoReturn:
        n = len(self.calls)
        pytest.fail(f"recording {self.name!r} holds {n} call(s) and the code under test made "
                    f"call {k} (record mode {self.mode}); record the new call(s) with: "
                    f"{self.recordings.command('new')} (or --l0-record=all to record every "
                    "call again)", pytrace=False)

    # ── the transport's side ──

    def _plan(self, request: httpx2.Request, k: int) -> ReplayBody:
        path = request.url.path
        route = self.provider.route(path)
        if route is None:
            pytest.fail(f"l0 replay: {request.method} {path} is not a {self.provider.name} "
                        f"call a recording answers ({', '.join(self.provider.routes)})",
                        pytrace=False)
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            body = {}
        call = self.calls[k - 1]
        try:
            return self.provider.body(call, route, body if isinstance(body, Mapping) else {})
        except ValueError as exc:
            pytest.fail(f"l0 replay: {exc}", pytrace=False)

    def _refuse(self, request: httpx2.Request, message: str) -> httpx2.Response:
        pytest.fail(f"{message}: {request.method} {request.url}", pytrace=False)

    # ── recording ──

    def store(self) -> BaseEventStore:
        """Where the recorders write: memory, published as files by :meth:`publish`."""
        if self._store is None:
            self._store = InMemoryEventStore()
        return self._store

    def noted(self, stream_id: str) -> None:
        self.recordings.note(self.recordings.path_of(stream_id), stream_id, "recorded")

    def publish(self) -> None:
        """Write what was recorded so far as ``<recordings>/<stream>.jsonl`` (each file
        replaced whole); with mode ``all``, remove this name's files no call rewrote."""
        store = self._store
        if store is None:
            return

        async def everything() -> dict[str, list[EventEnvelope]]:
            return {sid: await store.get_events(sid) for sid in await store.list_streams()}

        written = {self.recordings.write(sid, events)
                   for sid, events in run_sync(everything).items()}
        if self.mode == "all" and written:
            for path in self.recordings.files_of(self.name):
                if path not in written:
                    path.unlink()

    def close(self) -> None:
        self.publish()


def _with_call(kwargs: dict[str, Any], k: int) -> dict[str, Any]:
    headers = dict(kwargs.get("extra_headers") or {})
    headers[CALL_HEADER] = str(k)
    return {**kwargs, "extra_headers": headers}


def _model_of(result: Any) -> str | None:
    model = getattr(result, "model", None)
    return model if isinstance(model, str) and model else None


def _wrap_sync(replay: SDKReplay, original: Any) -> Any:
    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        decision = replay.next_call()
        if isinstance(decision, int):
            return original(*args, **_with_call(kwargs, decision))
        result = original(*args, **kwargs)
        if original.__name__ == "create" and not kwargs.get("stream"):
            return run_sync(lambda: _record_answer(replay, decision, kwargs, result))
        replay.noted(decision)
        return replay.provider.record(result, replay.store(), decision, kwargs)

    return call


def _wrap_async(replay: SDKReplay, original: Any) -> Any:
    if original.__name__ == "stream":  # returns a manager, not a coroutine
        @functools.wraps(original)
        def manager(*args: Any, **kwargs: Any) -> Any:
            decision = replay.next_call()
            if isinstance(decision, int):
                return original(*args, **_with_call(kwargs, decision))
            replay.noted(decision)
            return replay.provider.record(original(*args, **kwargs), replay.store(), decision,
                                          kwargs)

        return manager

    @functools.wraps(original)
    async def call(*args: Any, **kwargs: Any) -> Any:
        decision = replay.next_call()
        if isinstance(decision, int):
            return await original(*args, **_with_call(kwargs, decision))
        result = await original(*args, **kwargs)
        if not kwargs.get("stream"):
            return await _record_answer(replay, decision, kwargs, result)
        replay.noted(decision)
        return replay.provider.record(result, replay.store(), decision, kwargs)

    return call


async def _record_answer(replay: SDKReplay, stream_id: str, request: Mapping[str, Any],
                         result: Any) -> Any:
    """Record a ``stream=False`` answer: START, its text as one TOKEN, COMPLETE."""
    from l0core.record.sdk_request import request_options
    from l0core.record.session import record_stream

    provider = replay.provider
    options = request_options(request, prompt_of=provider.prompt_of, model=_model_of(result))
    async with record_stream(replay.store(), stream_id, options=options, strict=True) as rec:
        text = answer_text(provider.name, result)
        if text:
            rec.token(text)
    replay.noted(stream_id)
    return result


def make_client(replay: SDKReplay, *, asynchronous: bool, kwargs: dict[str, Any]) -> Any:
    """The SDK client of ``replay``, its call methods wrapped."""
    client = replay.provider.make_client(replay.transport, asynchronous=asynchronous,
                                         replay_only=replay.mode == "none" or
                                         (bool(replay.calls) and not replay.may_record()),
                                         kwargs=kwargs)
    for resource_path, method in replay.provider.methods:
        resource = client
        for part in resource_path.split("."):
            resource = getattr(resource, part)
        original = getattr(resource, method)
        setattr(resource, method,
                _wrap_async(replay, original) if asynchronous else _wrap_sync(replay, original))
    return client
