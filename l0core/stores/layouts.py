"""Layouts a server store can find under its prefix, and the one-line refusals they get.

PostgreSQL and Redis are shared: the tables or keys a prefix names may have been
made by this library (``"l0core"``), by the spec's example adapters (``"spec"``,
opened read-only) or by something else (``"foreign"``, never touched). The rules
are in ``docs/format.md``; this module keeps the wording of every refusal in one
place so the command line and the TUI say the same thing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, Protocol

from l0core.errors import StoreConfigError
from l0core.stores.urls import mask_secrets, with_option

if TYPE_CHECKING:
    from l0core.stores.base import BaseEventStore

Layout = Literal["l0core", "spec", "empty", "foreign"]
"""What a prefix holds: our layout, the spec example's, nothing yet, or something else."""

LAYOUT_CHOICES = ("auto", "l0core", "spec")
"""Values of the ``layout`` option: detect (default), or insist on one."""

COPY_SUFFIX = "_copy"
"""Added to the prefix in the ``l0tui copy`` command a refusal suggests."""


class ForeignLayoutError(StoreConfigError):
    """The prefix holds tables or keys this library did not create; ``layout`` says whose."""

    def __init__(self, message: str, layout: Layout) -> None:
        self.layout = layout
        super().__init__(message)


def choose_layout(raw: object) -> str:
    """The ``layout`` option, checked."""
    value = str(raw or "auto").lower()
    if value not in LAYOUT_CHOICES:
        raise StoreConfigError(f"option layout={raw!r} must be one of {', '.join(LAYOUT_CHOICES)}")
    return value


def copy_command(location: str, prefix: str) -> str:
    """The ``l0tui copy`` line that migrates a spec-layout store into our layout beside it."""
    source = with_option(mask_secrets(location), "layout", None)
    target = with_option(source, "prefix", prefix + COPY_SUFFIX)
    return f"l0tui copy '{source}' '{target}'"


def spec_refusal(location: str, prefix: str, what: str) -> ForeignLayoutError:
    """A writable open of a store in the spec example layout: name it, say how to migrate."""
    return ForeignLayoutError(
        f"{mask_secrets(location)} holds the spec example layout ({what}), which l0core only "
        f"reads; to write, migrate it first: {copy_command(location, prefix)}",
        "spec",
    )


def foreign_refusal(location: str, prefix: str, what: str) -> ForeignLayoutError:
    """Tables or keys of our names that are neither ours nor the spec example's."""
    return ForeignLayoutError(
        f"{mask_secrets(location)}: {what} exist(s) under prefix {prefix!r} but were not created "
        "by l0core; nothing was changed (choose another prefix with ?prefix=NAME)",
        "foreign",
    )


class _OwnLayoutStore(Protocol):
    """What :func:`open_own_or_spec` needs of a server store of our own layout."""

    layout_option: str
    read_only: bool

    async def open(self) -> BaseEventStore: ...

    async def close(self) -> None: ...


async def open_own_or_spec(
    store: _OwnLayoutStore, open_spec: Callable[[], Awaitable[BaseEventStore]]
) -> BaseEventStore:
    """``store`` opened, or the spec example's read-only store when that is what it finds.

    The example layout is read only on a read-only open that did not ask for our own
    layout (``?layout=l0core``); ``?layout=spec`` goes straight to it.
    """
    if store.layout_option != "spec":
        try:
            return await store.open()
        except ForeignLayoutError as exc:
            await store.close()
            if exc.layout != "spec" or not store.read_only or store.layout_option == "l0core":
                raise
    return await open_spec()
