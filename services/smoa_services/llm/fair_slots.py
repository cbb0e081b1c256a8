"""A backend's concurrency slots, shared fairly by the callers whose work waits for them.

A plain semaphore serves in arrival order, so a caller with many slow requests queued ahead fills every
slot and everyone else waits for its calls. Here a freed slot goes to the waiting caller holding the
fewest (first come first served among equals), and one known caller holds at most `share` slots while
any are taken, so another caller finds slots free at once instead of behind a slow call. Slots are not
taken back from a call that holds one: a call is never cut for fairness.

Work for no known caller ("": authentication is off) is one caller without a share: an address is no
identity (admission.py says why)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FairSlots:
    def __init__(self, capacity: int, share: int):
        self.capacity = capacity
        self.share = share
        self.held: Counter[str] = Counter()
        self.in_use = 0
        # Per caller, its waiters in arrival order, each with a ticket that orders equals across callers.
        self._waiting: dict[str, deque[tuple[int, asyncio.Future[None]]]] = {}
        self._tickets = itertools.count()

    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @asynccontextmanager
    async def slot(self, caller: str) -> AsyncIterator[None]:
        await self._acquire(caller)
        try:
            yield
        finally:
            self._release(caller)

    def _may_take(self, caller: str) -> bool:
        return self.in_use < self.capacity and (not caller or self.held[caller] < self.share)

    def _take(self, caller: str) -> None:
        self.in_use += 1
        self.held[caller] += 1

    async def _acquire(self, caller: str) -> None:
        if caller not in self._waiting and self._may_take(caller):
            self._take(caller)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(caller, deque()).append((next(self._tickets), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release(caller)  # granted just as it was cancelled: pass the slot on
            else:
                self._forget(caller, granted)
            raise

    def _forget(self, caller: str, granted: asyncio.Future[None]) -> None:
        queue = self._waiting.get(caller)
        if queue is None:
            return
        for entry in queue:
            if entry[1] is granted:
                queue.remove(entry)
                break
        if not queue:
            del self._waiting[caller]

    def _release(self, caller: str) -> None:
        self.in_use -= 1
        self.held[caller] -= 1
        if not self.held[caller]:
            del self.held[caller]
        self._grant()

    def _grant(self) -> None:
        while self.in_use < self.capacity:
            eligible = [c for c in self._waiting if self._may_take(c)]
            if not eligible:
                return
            caller = min(eligible, key=lambda c: (self.held[c], self._waiting[c][0][0]))
            queue = self._waiting[caller]
            _, granted = queue.popleft()
            if not queue:
                del self._waiting[caller]
            self._take(caller)
            granted.set_result(None)
