"""The filter language of the browser's filter box and ``l0tui ls --where``.

``status:error model:gpt-4o since:2h retries>0 "refund"`` is a :class:`SummaryFilter`.
One grammar for both surfaces, so a filter typed in the TUI can be pasted into a
shell. :data:`FILTER_HELP` is the text both show.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, get_args

from l0core.catalog.query import Comparison, SummaryFilter
from l0core.catalog.summary import SummaryStatus
from l0core.events import now_ms

FILTER_HELP = """\
Filter syntax (terms combine with AND):
  word                 stream id contains word
  "some words"         the final content contains all the words (any case)
  status:error         running, completed or error (comma for several: status:error,running)
  model:gpt-4o         exact model name
  since:2h  until:1d   started within / before: s m h d w ago, or a date 2026-03-02[T09:30]
  failure:network      the error's failure type
  id:run-              stream id starts with
  has:retries          also has:violations, has:fallback, has:drift, has:error
  no:retries           the opposite of has:
  retries>0            compare a count: retries, tokens, events, violations, fallback,
                       duration (ms); operators < <= = >= > !=
"""

_STATUSES: tuple[str, ...] = get_args(SummaryStatus)
_HAS = {"retries": "has_retries", "violations": "has_violations", "fallback": "has_fallback",
        "drift": "has_drift", "error": "has_error"}
_COUNT_ALIASES: dict[str, str] = {
    "retries": "retries", "tokens": "token_count", "events": "event_count",
    "violations": "violation_count", "fallback": "fallback_index", "duration": "duration_ms",
    "retry_attempts": "retry_attempts", "network_retries": "network_retry_count",
}
_COMPARE_RE = re.compile(r"^([a-z_]+)(<=|>=|!=|<|>|=)(-?[0-9]+(?:\.[0-9]+)?)$")
_AGO_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([smhdw])$")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class FilterSyntaxError(ValueError):
    """A filter that does not parse; the message names the term and says what fits."""


def parse_time(text: str, now: float) -> float:
    """``2h`` (ago), ``30d``, ``2026-03-02`` or ``2026-03-02T09:30`` (UTC) in Unix ms."""
    if m := _AGO_RE.match(text):
        return now - float(m.group(1)) * _UNIT_MS[m.group(2)]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise FilterSyntaxError(
            f"{text!r} is not a time: use 30m, 2h, 7d, 2w (ago) or a date like 2026-03-02"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp() * 1000.0


def parse_age(text: str) -> float:
    """``30d`` as milliseconds (for ``prune --older-than``)."""
    if m := _AGO_RE.match(text):
        return float(m.group(1)) * _UNIT_MS[m.group(2)]
    raise FilterSyntaxError(f"{text!r} is not an age: use 30m, 12h, 30d or 2w")


def parse_filter(text: str, *, now: Callable[[], float] = now_ms,
                 base: SummaryFilter | None = None) -> SummaryFilter:
    """``text`` in the filter language, combined with ``base`` (its terms win)."""
    try:
        terms = shlex.split(text, posix=True)
    except ValueError as exc:
        raise FilterSyntaxError(f"filter {text!r}: {exc}") from None
    quoted = _quoted_spans(text)
    values: dict[str, Any] = {}
    comparisons: list[Comparison] = list(base.comparisons if base else ())
    words: list[str] = []
    id_parts: list[str] = []
    for term in terms:
        if term in quoted:
            words.append(term)
            continue
        if m := _COMPARE_RE.match(term):
            name, op, number = m.groups()
            field = _COUNT_ALIASES.get(name)
            if field is None:
                raise FilterSyntaxError(
                    f"cannot compare {name!r}: use one of {', '.join(_COUNT_ALIASES)}")
            comparisons.append(Comparison(field, op, float(number)))  # type: ignore[arg-type]
            continue
        key, sep, value = term.partition(":")
        if not sep and any(ch in term for ch in "<>=!"):
            raise FilterSyntaxError(f"{term!r} is not a comparison: write it like retries>0 "
                                    "or tokens>=100")
        if not sep:
            id_parts.append(term)
            continue
        key = key.lower()
        if not value:
            raise FilterSyntaxError(f"{term!r} needs a value after ':'")
        if key == "status":
            wanted = frozenset(v.strip().lower() for v in value.split(",") if v.strip())
            bad = sorted(wanted - set(_STATUSES))
            if bad:
                raise FilterSyntaxError(
                    f"status {bad[0]!r} is not one of {', '.join(_STATUSES)}")
            values["status"] = wanted
        elif key == "model":
            values["model"] = value
        elif key in ("since", "until"):
            values[key] = parse_time(value, now())
        elif key in ("failure", "failure_type"):
            values["failure_type"] = value
        elif key == "id":
            values["id_prefix"] = value
        elif key in ("has", "no"):
            attr = _HAS.get(value.lower())
            if attr is None:
                raise FilterSyntaxError(f"{key}:{value} is not known: use "
                                        f"{', '.join(f'{key}:{h}' for h in _HAS)}")
            values[attr] = key == "has"
        else:
            raise FilterSyntaxError(
                f"unknown filter {key!r}: use status, model, since, until, failure, id, has, "
                "no, a comparison such as retries>0, or a word")
    if id_parts:
        values["id_contains"] = " ".join(id_parts)
    if words:
        values["text"] = " ".join(words)
    values["comparisons"] = tuple(comparisons)
    return replace(base or SummaryFilter(), **values)


def _quoted_spans(text: str) -> set[str]:
    """The terms that were written inside quotes (content search, not id words)."""
    return {m.group(2) for m in re.finditer(r"(['\"])(.*?)\1", text) if m.group(2)}

