"""Store URLs: which adapter a string names, how to show it without its secrets, and
how to take a store's own options out of its query before the driver sees it."""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from l0core.errors import StoreConfigError

_SCHEMES = {
    "memory": "memory",
    "file": "file",
    "sqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "redis": "redis",
    "rediss": "redis",
    "redis+cluster": "redis",
    "rediss+cluster": "redis",
    "nats": "nats",
}
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PASSWORD_PARAM = re.compile(r"(?i)\b(password\s*=\s*)[^&\s]*")


def adapter_for_url(url: str) -> str:
    """The adapter type a URL or path names (``memory``, ``file``, ``sqlite``, ...)."""
    if not isinstance(url, str) or not url.strip():
        raise StoreConfigError("store location is empty: give a directory or a URL")
    m = _SCHEME_RE.match(url)
    if m is None:
        if "://" in url or url.startswith(("postgresql:", "redis:", "sqlite:")):
            raise StoreConfigError(f"malformed store URL {mask_url(url)!r}")
        lowered = url.lower()
        if lowered.endswith((".db", ".sqlite", ".sqlite3")):
            return "sqlite"
        return "file"
    scheme = m.group(1).lower()
    if scheme not in _SCHEMES:
        known = ", ".join(sorted({f"{s}://" for s in _SCHEMES}))
        raise StoreConfigError(f"unknown store URL scheme {scheme!r} in {mask_url(url)!r} "
                               f"(known: {known}, or a directory path)")
    return _SCHEMES[scheme]


def path_from_url(url: str, scheme: str) -> str:
    """The filesystem path of ``file://DIR`` / ``sqlite:///path.db`` (or a bare path)."""
    if not _SCHEME_RE.match(url):
        return url
    rest = url.split("://", 1)[1]
    if scheme == "sqlite" and rest.startswith("/"):
        # sqlite:///relative.db -> relative.db ; sqlite:////abs.db -> /abs.db
        rest = rest[1:]
    if not rest:
        raise StoreConfigError(f"{url!r} names no path")
    return rest


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"://([^:/@]*):[^@/]*@", r"://\1:***@", url)
    if parts.password is None:
        return url
    user = parts.username or ""
    hosts = parts.netloc.rpartition("@")[2]  # as written: several for a cluster's seeds
    return urlunsplit((parts.scheme, f"{user}:***@{hosts}", parts.path, parts.query,
                       parts.fragment))


def mask_secrets(location: str) -> str:
    """``location`` without secrets: a URL's password, and ``password=`` parameters.

    Server stores show this in every message, since a libpq key/value string or a
    query can carry a password that :func:`mask_url` does not see.
    """
    return _PASSWORD_PARAM.sub(r"\1***", mask_url(location))


def split_url_options(
    url: str, option_keys: Collection[str], label: str
) -> tuple[str, dict[str, str]]:
    """Separate a store's own options from a URL's query.

    Returns the URL the driver should see (every other query parameter, unchanged)
    and the options that were in it. ``label`` names the URL kind in the error
    (``"PostgreSQL"``, ``"Redis"``).
    """
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError as exc:
        raise StoreConfigError(f"malformed {label} URL {mask_secrets(url)!r}: {exc}") from None
    ours = {k: v for k, v in query if k in option_keys}
    rest = [(k, v) for k, v in query if k not in option_keys]
    return urlunsplit(parts._replace(query=urlencode(rest, quote_via=quote))), ours


def with_option(url: str, key: str, value: str | None) -> str:
    """``url`` with the query parameter ``key`` set to ``value`` (None: removed)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key]
    if value is not None:
        query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="/")))
