"""The requester's in-flight slots, handed out with a priority lane.

A sync keeps a bounded number of requests on the wire. Most of them may wait their turn in any
order, but the requests of a partner-wide budget that a large estate spends in full (Graph's
multi-tenant limit, which every GDAP listing counts against) set the sync's floor: each of its
windows must be used the moment it opens, or the whole sync waits for the next one. Those
requests take the next free slot before any other waiter (:class:`connectors.ratelimit.Rate`'s
``paces``). Single event loop; FIFO within each lane.
"""

from __future__ import annotations

import asyncio
from collections import deque


class PrioritySlots:
    """At most ``size`` holders at once; a waiter of the priority lane is served first."""

    __slots__ = ("_free", "_urgent", "_waiting")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._free = size
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def free(self) -> int:
        return self._free

    async def acquire(self, urgent: bool = False) -> None:
        if self._free > 0 and not self._urgent and (urgent or not self._waiting):
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane = self._urgent if urgent else self._waiting
        lane.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over as we were cancelled: pass it on
            elif waiter in lane:
                lane.remove(waiter)
            raise

    def release(self) -> None:
        for lane in (self._urgent, self._waiting):
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot passes straight to this waiter
                    return
        self._free += 1
