"""Test support that ships with the library, for people who write event stores.

A storage adapter registered through the ``l0core.storage_adapters`` entry-point
group is only as good as its proof that it keeps the store contract, so the suite
our own stores run is public: subclass :class:`StoreConformance` in a pytest test
module and implement ``open_store``::

    from l0core.testing import StoreConformance

    class TestMyStore(StoreConformance):
        async def open_store(self, *, ttl=0, clock=None):
            return MyStore(ttl=ttl, clock=clock)

:mod:`l0core.testing.store_conformance` says what else a subclass can override.
:func:`every_kind`, :func:`tokens` and :class:`FakeClock` are the suite's inputs,
for a store's own extra tests. Importing this package needs neither pytest nor
any other test tool.
"""

from l0core.testing.samples import FakeClock, every_kind, tokens
from l0core.testing.store_conformance import StoreConformance

__all__ = ["FakeClock", "StoreConformance", "every_kind", "tokens"]
