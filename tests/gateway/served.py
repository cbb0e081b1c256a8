"""The gateway served by uvicorn on 127.0.0.1:0 in the test's event loop, in front of an orchestrator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from smoa_services.config import Settings
from smoa_services.gateway import create_app


@asynccontextmanager
async def gateway(orchestrator_port: int, **settings: Any) -> AsyncIterator[str]:
    """The gateway's base URL (`http://127.0.0.1:PORT`)."""
    app = create_app(Settings(orchestrator_target=f"127.0.0.1:{orchestrator_port}", **settings))
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
