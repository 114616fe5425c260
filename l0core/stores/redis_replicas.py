"""How many replicas an append waits for before it is acknowledged (``WAIT``).

Redis replicates asynchronously: a master that dies right after acknowledging an
append can lose it when its replica takes over. With ``wait_replicas=N`` (the
default on a cluster: 1) the append script is followed by ``WAIT N timeout`` on the
same connection, and the append is acknowledged only when the replicas confirmed
it. A master with fewer replicas connected than asked (after a failover, until
the old master comes back as a replica) cannot satisfy that; it is then waited for
by as many as it has, read with ``ROLE`` and remembered for a moment so that every
append does not pay the timeout. Zero connected replicas means no wait: such an
append is as durable as that master alone (docs/format.md, "Redis Cluster").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

RECHECK_SECONDS = 2.0
"""How long a master's replica count read by ROLE is trusted."""


class ReplicaWait:
    """The ``WAIT`` target per master, lowered while a master has fewer replicas."""

    def __init__(self, replicas: int, timeout_ms: int) -> None:
        self.replicas = replicas
        self.timeout_ms = timeout_ms
        self._known: dict[str, tuple[int, float]] = {}

    def target(self, master: str) -> int:
        """How many replicas to WAIT for on ``master`` (0: do not WAIT)."""
        known = self._known.get(master)
        if known is None:
            return self.replicas
        count, seen = known
        if time.monotonic() - seen > RECHECK_SECONDS:
            return self.replicas  # look again: a replica may be back
        return min(self.replicas, count)

    async def confirmed(self, master: str, acked: int,
                        connected: Callable[[], Awaitable[int]]) -> bool:
        """True when ``acked`` replicas are enough for ``master``; reads its replica
        count (``connected``) when they are not."""
        if acked >= self.target(master):
            if acked >= self.replicas:
                self._known.pop(master, None)
            return True
        count = await connected()
        self._known[master] = (count, time.monotonic())
        return acked >= min(self.replicas, count)
