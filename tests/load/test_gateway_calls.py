"""The HTTP sender of `smoa load` over real sockets, through the real gateway, in front of a scripted
orchestrator that fails each call with the status its question names: a completion's failure arrives as
an HTTP code, a stream's (after its first token, so after the 200) as an error event, and both must come
back as the same gRPC status name. Also: the bearer token, the request's deadline, and TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
import uvicorn

from smoa.connection import TLS
from smoa.load.gateway_calls import Gateway
from smoa.load.shape import LoadRequest
from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services.config import Settings
from smoa_services.gateway import create_app
from smoa_testing.certificates import Authority
from smoa_testing.stacks.fake_orchestrator import FakeOrchestrator
from smoa_testing.stacks.in_process_gateway import gateway

STATUSES = [
    "INVALID_ARGUMENT",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "CANCELLED",
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
]
# A question answered only after STALL_SECONDS: past the deadline of the test that asks it, and short,
# because the gateway does not cancel a completion whose client left (streams it does) and waits it out.
STALL, STALL_SECONDS = "STALL", 2.0


class Scripted(FakeOrchestrator):
    """Fails with the status named by the question (a stream sends one token first); records metadata."""

    def __init__(self) -> None:
        self.metadata: list[tuple[str, str]] = []

    async def _fail(self, request: orchestrator_pb2.GenerateRequest, context: Any) -> None:
        self.metadata += [(m.key, m.value) for m in context.invocation_metadata()]
        question = request.messages[-1].content
        if question == STALL:
            await asyncio.sleep(STALL_SECONDS)
        await context.abort(grpc.StatusCode[question], f"scripted {question}")

    async def Generate(self, request: orchestrator_pb2.GenerateRequest, context: Any) -> Any:
        await self._fail(request, context)

    async def GenerateStream(self, request: orchestrator_pb2.GenerateRequest, context: Any) -> Any:
        yield orchestrator_pb2.GenerateStreamResponse(token="The")
        await self._fail(request, context)


@asynccontextmanager
async def scripted_orchestrator() -> AsyncIterator[tuple[int, Scripted]]:
    server, servicer = grpc.aio.server(), Scripted()
    orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port, servicer
    finally:
        await server.stop(0)


@asynccontextmanager
async def tls_gateway(orchestrator_port: int, folder: Path) -> AsyncIterator[tuple[str, Path]]:
    """The gateway served over https with a certificate of a test authority: (base URL, the CA's file)."""
    authority = Authority(folder)
    issued = authority.server()
    app = create_app(Settings(orchestrator_target=f"127.0.0.1:{orchestrator_port}"))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ssl_certfile=str(issued.cert_file),
        ssl_keyfile=str(issued.key_file),
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", authority.cert_file
    finally:
        server.should_exit = True
        await serving


@pytest.mark.parametrize("stream", [False, True], ids=["completion", "stream"])
async def test_every_status_comes_back_under_its_grpc_name(stream: bool) -> None:
    found = {}
    async with (
        scripted_orchestrator() as (port, _),
        gateway(port) as url,
        Gateway(url, timeout=10, connections=2) as calls,
    ):
        for status in STATUSES:
            found[status] = await calls.sender(stream)(LoadRequest(status))
    assert {name: o.status for name, o in found.items()} == {name: name for name in STATUSES}
    assert all(o.detail == f"scripted {name}" for name, o in found.items())
    # The stream's token came before its error: timed all the same, as over gRPC.
    assert all((o.first_token is not None) == stream for o in found.values())


async def test_the_token_goes_as_a_bearer_header() -> None:
    async with (
        scripted_orchestrator() as (port, orchestrator),
        gateway(port) as url,
        Gateway(url, timeout=10, token="s3cret", connections=1) as calls,
    ):
        await calls.generate(LoadRequest("UNAUTHENTICATED"))
    assert ("authorization", "Bearer s3cret") in orchestrator.metadata


@pytest.mark.parametrize("stream", [False, True], ids=["completion", "stream"])
async def test_a_request_past_its_deadline_is_deadline_exceeded(stream: bool) -> None:
    async with (
        scripted_orchestrator() as (port, _),
        gateway(port) as url,
        Gateway(url, timeout=0.5, connections=1) as calls,
    ):
        started = asyncio.get_running_loop().time()
        outcome = await calls.sender(stream)(LoadRequest(STALL))
        waited = asyncio.get_running_loop().time() - started
    assert outcome.status == "DEADLINE_EXCEEDED" and "0.5s" in outcome.detail
    assert waited < 3


async def test_https_with_the_ca_file_as_for_grpc(tmp_path: Path) -> None:
    async with scripted_orchestrator() as (port, _), tls_gateway(port, tmp_path) as (url, ca_file):
        async with Gateway(url, timeout=10, tls=TLS(str(ca_file)), connections=1) as trusted:
            answered = await trusted.generate(LoadRequest("PERMISSION_DENIED"))
        async with Gateway(url, timeout=10, connections=1) as untrusted:
            refused = await untrusted.generate(LoadRequest("PERMISSION_DENIED"))
    assert answered.status == "PERMISSION_DENIED"  # the gateway's own answer, so TLS held
    assert refused.status == "UNAVAILABLE" and "CERTIFICATE_VERIFY_FAILED" in refused.detail
