"""Waiting for something to become true, for tests: polls a check until it holds or a bound passes, and
fails naming what did not happen. The bound is generous (the machine may be busy); how soon it held is
returned for a test that reports it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(check: Callable[[], bool], within: float, what: str, every: float = 0.02) -> float:
    """Seconds until `check()` held; AssertionError naming `what` if it did not within `within` seconds."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)
    return time.monotonic() - started
