"""Assertions on recorded runs whose failure messages say what differs, word by word.

A plain ``assert state.content == expected`` prints two long strings; these print
the fields that differ (:func:`l0core.compare.compare_replays`), the first word
that differs and each changed run of words in context (:mod:`l0core.diff`), and
the file a recording came from, so ``l0tui`` can open it. They work on a
:class:`~l0core.fold.ReplayedState`, a :class:`~l0core.timeline.Timeline`, a
store holding one stream (what the ``l0_recording`` fixture returns), a
``(store, stream_id)`` pair, or anything with a ``.state`` (a replay, a
:class:`~l0core.recorded.CachedResult`); they need no pytest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from l0core.compare import compare_replays
from l0core.diff import WordChange, diff_words, word_changes
from l0core.events import RetryEvent
from l0core.fold import ReplayedState
from l0core.recorded.load import RecordedEventStore
from l0core.recorded.sync import run_sync
from l0core.stores.base import BaseEventStore
from l0core.timeline import Timeline

__all__ = ["assert_content", "assert_final_state", "assert_no_violations",
           "assert_retries_at_most", "describe_word_diff"]

STATE_FIELDS = ("content", "token_count", "checkpoint", "violations", "drift_detected",
                "retry_attempts", "network_retry_count", "fallback_index", "completed",
                "error", "start_ts", "end_ts")
MAX_CHANGES = 5
CONTEXT = 40
MAX_RUN = 160


@dataclass(slots=True)
class _Observed:
    state: ReplayedState
    timeline: Timeline | None
    where: str | None  # the recording file, for the message


def _visible(text: str) -> str:
    """``text`` with control and format characters (bidi overrides, ESC) escaped, so a
    failure message cannot rewrite the terminal it is printed on."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _from_store(store: BaseEventStore, stream_id: str | None) -> _Observed:
    if stream_id is None:
        ids = run_sync(store.list_streams)
        if len(ids) != 1:
            raise TypeError(f"the store holds {len(ids)} streams ({', '.join(ids[:5])}): "
                            "pass (store, stream_id)")
        stream_id = ids[0]
    sid = stream_id
    timeline = Timeline(sid, run_sync(lambda: store.get_events(sid)))
    where = None
    if isinstance(store, RecordedEventStore) and sid in store.sources:
        where = str(store.path_of(sid))
    return _Observed(timeline.final_state(), timeline, where)


def _observe(value: Any) -> _Observed:
    if isinstance(value, _Observed):
        return value
    if isinstance(value, ReplayedState):
        return _Observed(value, None, None)
    if isinstance(value, Timeline):
        return _Observed(value.final_state(), value, None)
    if isinstance(value, BaseEventStore):
        return _from_store(value, None)
    if (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], BaseEventStore)
            and isinstance(value[1], str)):
        return _from_store(value[0], value[1])
    if isinstance(value, str):
        return _Observed(ReplayedState(content=value), None, None)
    state = getattr(value, "state", None)
    if isinstance(state, ReplayedState):
        return _Observed(state, None, None)
    raise TypeError(f"cannot read a replayed state from {type(value).__name__}")


def _with_fields(base: ReplayedState, fields: Mapping[str, Any]) -> ReplayedState:
    unknown = sorted(set(fields) - set(STATE_FIELDS))
    if unknown:
        raise TypeError(f"unknown state field(s) {', '.join(unknown)}; "
                        f"expected some of {', '.join(STATE_FIELDS)}")
    values = {name: getattr(base, name) for name in STATE_FIELDS}
    values.update(fields)
    return ReplayedState(**values)


def _context(text: str, lo: int, hi: int) -> tuple[str, str]:
    before = text[max(0, lo - CONTEXT):lo]
    after = text[hi:hi + CONTEXT]
    if lo - CONTEXT > 0 and " " in before:
        before = "…" + before[before.index(" "):]
    if hi + CONTEXT < len(text) and " " in after:
        after = after[:after.rindex(" ")] + "…"
    return before, after


def _clip(text: str) -> str:
    if len(text) <= MAX_RUN:
        return _visible(text)
    return f"{_visible(text[:MAX_RUN])}… ({len(text) - MAX_RUN} more characters)"


def _hunk(c: WordChange, actual: str) -> str:
    before, after = _context(actual, c.b_lo, c.b_hi)
    removed = f"[-{_clip(c.a_text)}-]" if c.a_text else ""
    added = f"{{+{_clip(c.b_text)}+}}" if c.b_text else ""
    return f"  {_visible(before)}{removed}{added}{_visible(after)}"


def describe_word_diff(expected: Any, actual: Any) -> list[str]:
    """Lines describing how ``actual``'s text differs from ``expected``'s, word by word
    (empty when they have the same words). ``[-...-]`` is expected, ``{+...+}`` actual."""
    e, a = _observe(expected), _observe(actual)
    if e.timeline is not None and a.timeline is not None:
        diff = diff_words(e.timeline, a.timeline)
        changes, first = diff.changes, diff.first
    else:
        changes, first = word_changes(e.state.content, a.state.content), None
    if not changes:
        return []
    lines = []
    if first is not None:
        def side(word: str, seq: int | None) -> str:
            at = f" (written at #{seq})" if seq is not None else ""
            return (repr(_visible(word)) if word else "(nothing)") + at

        lines.append(f"first different word: expected {side(first.a_word, first.a_seq)}, "
                     f"actual {side(first.b_word, first.b_seq)}")
    lines.append(f"words that differ ([-expected-] {{+actual+}}), {len(changes)} change(s):")
    lines += [_hunk(c, a.state.content) for c in changes[:MAX_CHANGES]]
    if len(changes) > MAX_CHANGES:
        lines.append(f"  … {len(changes) - MAX_CHANGES} more change(s)")
    return lines


def _where(*observed: _Observed) -> list[str]:
    names = ("expected", "actual") if len(observed) == 2 else ("recording",)
    return [f"{name}: {o.where}" for name, o in zip(names, observed, strict=True) if o.where]


def assert_final_state(actual: Any, expected: Any, *, include_timestamps: bool = False) -> None:
    """The final state of ``actual`` equals ``expected``'s (a state, a recording, ...), or
    the fields ``expected`` names when it is a mapping (``{"content": ..., "completed":
    True}``). Timestamps count only with ``include_timestamps``."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    a = _observe(actual)
    if isinstance(expected, Mapping):
        e = _Observed(_with_fields(a.state, expected), None, None)
        include_timestamps = include_timestamps or bool(
            {"start_ts", "end_ts"} & set(expected))
    else:
        e = _observe(expected)
    result = compare_replays(e.state, a.state, include_timestamps=include_timestamps)
    if result.identical:
        return
    lines = [f"final state differs from the expected ({len(result.differences)} field(s), "
             "expected vs actual):"]
    lines += [f"  {_visible(d)}" for d in result.differences]
    lines += describe_word_diff(e, a)
    lines += _where(e, a)
    raise AssertionError("\n".join(lines))


def assert_content(actual: Any, expected: str) -> None:
    """The final content of ``actual`` is ``expected``; the message shows the words that
    differ."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    a = _observe(actual)
    if a.state.content == expected:
        return
    lines = ["content differs from the expected:"]
    lines += describe_word_diff(expected, a) or [
        f"  the same words, different spacing: expected {_visible(expected)!r}, "
        f"actual {_visible(a.state.content)!r}"]
    lines += _where(a)
    raise AssertionError("\n".join(lines))


def assert_no_violations(actual: Any) -> None:
    """No guardrail reported a violation; the message lists each one."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    a = _observe(actual)
    if not a.state.violations:
        return
    lines = [f"{len(a.state.violations)} guardrail violation(s):"]
    for v in a.state.violations:
        rule = v.get("rule", "?")
        severity = v.get("severity", "")
        message = v.get("message", "")
        lines.append(f"  {_visible(str(rule))} ({_visible(str(severity))}): "
                     f"{_visible(str(message))}")
    lines += _where(a)
    raise AssertionError("\n".join(lines))


def assert_retries_at_most(actual: Any, n: int, *, kind: str = "all") -> None:
    """At most ``n`` retries: ``kind`` "model" counts those that use the retry budget,
    "network" the network retries, "all" both. The message lists each RETRY."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    if kind not in ("all", "model", "network"):
        raise ValueError(f"kind must be 'all', 'model' or 'network', got {kind!r}")
    a = _observe(actual)
    counts = {"model": a.state.retry_attempts, "network": a.state.network_retry_count}
    count = counts["model"] + counts["network"] if kind == "all" else counts[kind]
    if count <= n:
        return
    what = ("retry" if count == 1 else "retries") if kind == "all" else (
        f"{kind} retr{'y' if count == 1 else 'ies'}")
    lines = [f"{count} {what}, expected at most {n} ({counts['model']} model, "
             f"{counts['network']} network):"]
    if a.timeline is not None:
        for seq in a.timeline.landmarks("RETRY"):
            ev = a.timeline.envelope(seq).event
            if isinstance(ev, RetryEvent):
                budget = "counts toward the limit" if ev.counts_toward_limit else "network"
                lines.append(f"  #{seq} retry {ev.attempt}: {_visible(ev.reason)} ({budget})")
    lines += _where(a)
    raise AssertionError("\n".join(lines))
