"""What a valid wire value is: the checks every field of the format goes through.

Each ``need_*`` returns its value when it is acceptable and raises
:class:`~l0core.errors.EventValidationError` naming the field (``path``) otherwise.
The messages are part of the contract (stores and tests match on them), so they
are written here once and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar, cast

from l0core.errors import EventValidationError
from l0core.events import JSONDict, RecoveryPolicy, validate_stream_id

T = TypeVar("T")

MAX_INT = 2**63 - 1
"""Integers beyond a signed 64-bit range are refused: other readers could not hold them."""
MIN_INT = -MAX_INT

MAX_DEPTH = 200
"""Deeper nesting is refused (and is how a cycle shows up)."""


def fail(path: str, message: str) -> EventValidationError:
    return EventValidationError(message, path)


def kind_of(value: object) -> str:
    """How a value is named in messages (``null``, ``a boolean``, ``list``...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__


def is_int(value: object) -> bool:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return MIN_INT <= value <= MAX_INT
    return isinstance(value, float) and math.isfinite(value)


def check_json(value: object, path: str) -> None:
    """Raise unless ``value`` is plain JSON (str keys, finite numbers, no cycles)."""
    stack: list[tuple[object, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise fail(where, "nested too deeply (or contains a cycle)")
        if item is None or isinstance(item, str | bool):
            continue
        if isinstance(item, int | float):
            if not is_number(item):
                raise fail(where, f"{item!r} is not a finite JSON number")
            continue
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise fail(where, f"object key {key!r} is not a string")
                stack.append((sub, f"{where}.{key}", depth + 1))
            continue
        if isinstance(item, list | tuple):
            for i, sub in enumerate(item):
                stack.append((sub, f"{where}[{i}]", depth + 1))
            continue
        raise fail(where, f"{type(item).__name__} is not JSON-serialisable")


def need_str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"expected a string, got {kind_of(value)}")
    return value


def need_int(value: object, path: str) -> int:
    if not is_int(value) or not MIN_INT <= cast(int, value) <= MAX_INT:
        raise fail(path, f"expected an integer, got {kind_of(value)}")
    return cast(int, value)


def need_seq(value: object, path: str) -> int:
    """A position in a stream: an integer, 0 or more."""
    seq = need_int(value, path)
    if seq < 0:
        raise fail(path, f"must be >= 0, got {seq}")
    return seq


def need_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"expected true or false, got {kind_of(value)}")
    return value


def need_number(value: object, path: str) -> float:
    if not is_number(value):
        raise fail(path, f"expected a finite number, got {kind_of(value)}")
    return cast(float, value)


def need_object(value: object, path: str) -> JSONDict:
    """A dict, its contents unchecked (the caller checks its fields)."""
    if not isinstance(value, dict):
        raise fail(path, f"expected an object, got {kind_of(value)}")
    return value


def need_json_object(value: object, path: str) -> JSONDict:
    """A free-form object (``metadata``, ``retry``...): any JSON inside."""
    data = need_object(value, path)
    check_json(data, path)
    return data


def need_violations(value: object, path: str) -> list[JSONDict]:
    """Guardrail violations: a list of free-form objects, kept as written."""
    if not isinstance(value, list):
        raise fail(path, f"expected a list, got {kind_of(value)}")
    for i, item in enumerate(value):
        need_object(item, f"{path}[{i}]")
    check_json(value, path)
    return value


def need_str_list(value: object, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise fail(path, f"expected a list of strings, got {kind_of(value)}")
    return value


def need_policy(value: object, path: str) -> RecoveryPolicy:
    """ERROR's ``policy``: a name, or the TypeScript library's object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        check_json(value, path)
        return value
    raise fail(path, f"expected a string or an object, got {kind_of(value)}")


def need_error_code(value: object, path: str) -> str | int:
    if not isinstance(value, str) and not is_int(value):
        raise fail(path, f"expected a string or integer, got {kind_of(value)}")
    return cast(str | int, value)


def need_stream_id(value: object, path: str) -> str:
    """A stream id safe for every store (see :func:`~l0core.events.validate_stream_id`)."""
    del path  # the id check names the id itself
    return validate_stream_id(value)


def need_name_or_null(value: object, path: str) -> str | None:
    """A name where ``""`` means "not known": written as null."""
    return need_str(value, path) or None


def copy_list(check: Callable[[object, str], list[T]]) -> Callable[[object, str], list[T]]:
    """``check``, returning a fresh list: a decoded object never shares a list with its input."""

    def checked_copy(value: object, path: str) -> list[T]:
        return list(check(value, path))

    return checked_copy
