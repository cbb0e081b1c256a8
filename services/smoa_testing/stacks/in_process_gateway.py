"""The gateway served by uvicorn on 127.0.0.1:0 in the test's event loop, in front of an orchestrator."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import openai
import uvicorn

from smoa_services.config import Settings
from smoa_services.gateway import create_app
from smoa_services.telemetry import Telemetry


def openai_client(url: str, api_key: str = "unused", **options: Any) -> openai.AsyncOpenAI:
    """The official SDK pointed at a gateway's base URL, with no retries of its own (tests count calls)."""
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=api_key, max_retries=0, **options)


@asynccontextmanager
async def gateway(
    orchestrator_port: int, telemetry: Telemetry | None = None, **settings: Any
) -> AsyncIterator[str]:
    """The gateway's base URL (`http://127.0.0.1:PORT`)."""
    app = create_app(Settings(orchestrator_target=f"127.0.0.1:{orchestrator_port}", **settings), telemetry)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@contextmanager
def gateway_in_thread(orchestrator_port: int) -> Iterator[str]:
    """The gateway on its own event loop in a thread, for blocking clients; yields its base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    url: list[str] = []
    stop = asyncio.Event()

    async def serve() -> None:
        async with gateway(orchestrator_port) as served:
            url.append(served)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="gateway", daemon=True)
    thread.start()
    if not started.wait(20):
        raise RuntimeError("the gateway did not start")
    try:
        yield url[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(20)
        loop.close()
