"""The four real services in this process on 127.0.0.1, every LLM call answered at once by FakeOpenAI
(instant_llm), without span recording: a stack for load tests that measures everything but the model.

    python -m tests.load.local_stack        # prints "orchestrator on 127.0.0.1:PORT", serves until Ctrl-C
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from smoa_services import judge, moderator, orchestrator, proposer
from smoa_services.config import Settings
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI


@asynccontextmanager
async def local_stack(base_url: str, **settings: Any) -> AsyncIterator[int]:
    """Yields the orchestrator's port."""
    common: dict[str, Any] = {"port": 0, "llm_base_url": base_url, "llm_max_retries": 0}
    telemetry = Telemetry.load("load", [], environ={})
    started: list[Server] = []
    try:
        targets: dict[str, Any] = {}
        for name, create in (("proposer", proposer), ("judge", judge), ("moderator", moderator)):
            server = create.create_server(Settings(**common), telemetry, None)
            started.append(server)
            targets[f"{name}_target"] = f"dns:///127.0.0.1:{await server.start()}"
        front = orchestrator.create_server(Settings(**common, **targets, **settings), telemetry, None)
        started.append(front)
        yield await front.start()
    finally:
        for server in reversed(started):
            await server.stop(0)


async def serve() -> None:
    with FakeOpenAI(instant_reply) as fake:
        async with local_stack(fake.base_url) as port:
            print(f"orchestrator on 127.0.0.1:{port}", flush=True)
            await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
