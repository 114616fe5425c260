"""Option values every store reads from its URL query or ``config.options``.

Each store names its own options, but the ways to read one (a durability level,
an integer with a floor, a positive number) are the same for all of them, and so
are the messages a bad value gets: one place keeps them identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast
from urllib.parse import parse_qs

from l0core.errors import StoreConfigError

Durability = Literal["os", "group", "fsync"]
"""What an acknowledged append survives: the process dying, a bounded power cut, anything."""
DURABILITY_LEVELS: tuple[Durability, ...] = ("os", "group", "fsync")
DEFAULT_DURABILITY: Durability = "group"


def choose_durability(
    explicit: str | None, url_query: str, options: Mapping[str, Any]
) -> Durability:
    """The durability asked for: the argument, else the URL's ``?durability=``, else the
    ``durability`` option, else the default; anything else is a config error."""
    from_url = parse_qs(url_query).get("durability", [])
    chosen = (explicit or (from_url[0] if from_url else None)
              or options.get("durability") or DEFAULT_DURABILITY)
    if chosen not in DURABILITY_LEVELS:
        raise StoreConfigError(f"durability must be one of {', '.join(DURABILITY_LEVELS)}, "
                               f"got {chosen!r}")
    return cast(Durability, chosen)


def int_option(options: Mapping[str, Any], key: str, default: int, minimum: int) -> int:
    """``options[key]`` as an integer of at least ``minimum`` (URL values arrive as text)."""
    raw = options.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise StoreConfigError(f"option {key}={raw!r} must be an integer") from None
    if value < minimum:
        raise StoreConfigError(f"option {key}={value} must be >= {minimum}")
    return value


def float_option(options: Mapping[str, Any], key: str, default: float) -> float:
    """``options[key]`` as a number greater than zero (seconds, mostly)."""
    raw = options.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise StoreConfigError(f"option {key}={raw!r} must be a number") from None
    if not value > 0:
        raise StoreConfigError(f"option {key}={value} must be > 0")
    return value
