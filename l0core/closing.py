"""``async with`` for everything in l0core that must be closed: stores and recordings.

A store, a recording session, a recorded iterator and a recorded ``l0.run`` all
end the same way: ``async with`` hands the object itself to the block and awaits
its ``close()`` on the way out, whether the block returned or raised. They share
that here instead of each spelling out the pair.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class AsyncCloseable(ABC):
    """``async with obj:`` yields ``obj`` and awaits ``obj.close()`` on exit.

    ``aclose()`` is the same call under the name ``contextlib.aclosing`` and
    async-iterator code look for.
    """

    __slots__ = ()

    @abstractmethod
    async def close(self) -> None:
        """Finish and release what the object holds."""

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
