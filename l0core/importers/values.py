"""Reading provider JSON defensively: a field of the wrong type counts as absent."""

from __future__ import annotations

from typing import Any


def as_dict(value: object) -> dict[str, Any]:
    """``value`` when it is an object, else ``{}``."""
    return value if isinstance(value, dict) else {}


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_number(value: object) -> int | float | None:
    """``value`` when it is a number (booleans are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def as_code(value: object) -> str | int | None:
    """An error code: a string or an integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return value
