"""Exceptions <-> ``SerializedError`` (name, message, code, stack, metadata survive)."""

from __future__ import annotations

import traceback
from typing import Any

from l0core.events import JSONDict, SerializedError


class ReplayedError(Exception):
    """An error rebuilt from a recording. ``name`` is the original exception's class name."""

    def __init__(
        self,
        message: str,
        *,
        name: str = "Error",
        code: str | int | None = None,
        stack: str | None = None,
        metadata: JSONDict | None = None,
        extra: JSONDict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.original_type = name
        self.code = code
        self.stack = stack
        self.metadata = metadata
        self.extra = dict(extra or {})

    def __repr__(self) -> str:
        return f"ReplayedError({self.name}: {self.message!r})"


def _json_or_none(value: Any) -> JSONDict | None:
    return value if isinstance(value, dict) else None


def serialize_error(error: BaseException) -> SerializedError:
    """The stored form of ``error``; a :class:`ReplayedError` gives back what it was made of."""
    if isinstance(error, ReplayedError):
        return SerializedError(name=error.name, message=error.message, code=error.code,
                               stack=error.stack, metadata=error.metadata, extra=dict(error.extra))
    code = getattr(error, "code", None)
    if code is not None and not isinstance(code, str | int):
        code = str(code)
    if isinstance(code, bool):
        code = str(code)
    stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return SerializedError(
        name=type(error).__name__,
        message=str(error),
        code=code,
        stack=stack,
        metadata=_json_or_none(getattr(error, "metadata", None)),
    )


def deserialize_error(stored: SerializedError) -> ReplayedError:
    """An exception carrying the stored name, message, code, stack and metadata."""
    return ReplayedError(stored.message, name=stored.name, code=stored.code, stack=stored.stack,
                         metadata=stored.metadata, extra=stored.extra)
