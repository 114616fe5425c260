"""Errors raised by l0core. Every one names the problem in its message.

All derive from :class:`L0Error`, so a command line can catch that one class and
print a single line instead of a traceback.
"""

from __future__ import annotations


class L0Error(Exception):
    """Base class of every error l0core raises on purpose."""


class EventValidationError(L0Error, ValueError):
    """An event, envelope or snapshot does not match the schema.

    ``path`` names the offending field (``event.value``, ``result.violations``).
    """

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InvalidStreamIdError(EventValidationError):
    """A stream id is empty, too long, or has characters outside ``[A-Za-z0-9_-]``."""


class ConcurrencyConflictError(L0Error):
    """``expected_seq`` was stale: another writer appended first."""

    def __init__(self, stream_id: str, expected_seq: int, actual_last_seq: int) -> None:
        self.stream_id = stream_id
        self.expected_seq = expected_seq
        self.actual_last_seq = actual_last_seq
        super().__init__(
            f"stream {stream_id!r}: expected last seq {expected_seq}, "
            f"but the stream's last seq is {actual_last_seq}"
        )


class StreamNotFoundError(L0Error, LookupError):
    """The stream does not exist (or has no events)."""

    def __init__(self, stream_id: str, detail: str = "") -> None:
        self.stream_id = stream_id
        super().__init__(f"stream {stream_id!r} not found" + (f": {detail}" if detail else ""))


class CorruptionError(L0Error):
    """Stored data does not parse. ``path`` and ``offset`` locate the damage."""

    def __init__(self, message: str, *, path: str = "", offset: int | None = None) -> None:
        self.path = path
        self.offset = offset
        where = path + (f" at byte {offset}" if offset is not None else "")
        super().__init__(f"{where}: {message}" if where else message)


class StoreConfigError(L0Error, ValueError):
    """A store URL or configuration is malformed, or names an unknown adapter."""


class StoreConnectionError(L0Error, ConnectionError):
    """A store's server cannot be reached or refused us. The URL is shown masked."""


class StoreClosedError(L0Error):
    """The store was used after ``close()``."""


class CompositeStoreError(L0Error):
    """A write reached some stores of a composite and failed on others."""

    def __init__(
        self,
        message: str,
        *,
        succeeded_indices: list[int],
        failed_indices: list[int],
        errors: list[BaseException],
    ) -> None:
        self.succeeded_indices = succeeded_indices
        self.failed_indices = failed_indices
        self.errors = errors
        details = "; ".join(
            f"store {i}: {type(e).__name__}: {e}"
            for i, e in zip(failed_indices, errors, strict=True)
        )
        super().__init__(f"{message} ({details})")
