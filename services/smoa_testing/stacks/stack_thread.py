"""The four real services (smoa_testing.stacks.orchestrator_stack) on their own event loop in a thread, so
blocking code (SmoaClient, the command line) can call them from the test's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smoa_testing.stacks.orchestrator_stack import orchestrator_stack


@contextmanager
def stack_in_thread(base_url: str, **settings: Any) -> Iterator[str]:
    """Yields the orchestrator's target ("127.0.0.1:PORT")."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    port: list[int] = []
    failure: list[BaseException] = []
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with orchestrator_stack(base_url, **settings) as stack:
                port.append(stack.port)
                started.set()
                await stop.wait()
        except BaseException as e:
            failure.append(e)
            started.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="smoa-stack", daemon=True)
    thread.start()
    if not started.wait(20) or failure:
        raise RuntimeError("the stack did not start") from (failure[0] if failure else None)
    try:
        yield f"127.0.0.1:{port[0]}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(20)
        loop.close()
