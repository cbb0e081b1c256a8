"""Concurrency slots of one LLM backend. A call holds its slot while it is working normally, and gives it
up once it is overdue: a hung call keeps waiting for its answer (until its budget ends), but no longer
blocks the calls of other requests to the same backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Slots:
    def __init__(self, size: int):
        self._free = asyncio.Semaphore(size)

    @asynccontextmanager
    async def hold(self, overdue_after: float | None) -> AsyncIterator[None]:
        """Waits for a slot (the caller bounds the wait with its budget) and holds it until the block ends
        or `overdue_after` seconds have passed, whichever is first."""
        await self._free.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self._free.release()

        timer = (
            None if overdue_after is None else asyncio.get_running_loop().call_later(overdue_after, release)
        )
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()
            release()
