"""Waiting for something to become true, for tests: polls a check until it holds or a bound passes, and
fails naming what did not happen. The bound is generous (the machine may be busy); how soon it held is
returned for a test that reports it."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], within: float, what: str, every: float = 0.02
) -> float:
    """Seconds until `check()` held (awaited when it is a coroutine: a check that asks a service);
    AssertionError naming `what` if it did not within `within` seconds."""
    started = time.monotonic()

    async def holds() -> bool:
        result = check()
        return await result if inspect.isawaitable(result) else result

    while not await holds():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)
    return time.monotonic() - started


def wait_for(
    check: Callable[[], bool], within: float, every: float = 0.02, unless: Callable[[], bool] = lambda: False
) -> bool:
    """Blocking: True once `check()` holds; False if `within` seconds pass first, or `unless()` holds first
    (the process being waited on has exited), so the caller raises with what it knows (its log)."""
    deadline = time.monotonic() + within
    while not check():
        if unless() or time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
