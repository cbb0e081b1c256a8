"""Every gRPC status the orchestrator can answer, through the gateway, as the HTTP code and OpenAI error an
OpenAI client expects, read by the official SDK's own exceptions. The orchestrator here is a scripted gRPC
servicer on 127.0.0.1 that fails each call with the status the test names, rich details included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import openai
import pytest

from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services.rpc.failure import Failure, InvalidArgument, Violation
from smoa_testing.stacks.fake_orchestrator import FakeOrchestrator
from smoa_testing.stacks.in_process_gateway import gateway, openai_client

FAILURES: dict[str, Failure] = {
    "INVALID_ARGUMENT": InvalidArgument([Violation("k", "must be in [1, n=3], got 9")]),
    "UNAUTHENTICATED": Failure(
        "the bearer token is not one this service accepts", grpc.StatusCode.UNAUTHENTICATED
    ),
    "PERMISSION_DENIED": Failure("alice may not call this", grpc.StatusCode.PERMISSION_DENIED),
    "RESOURCE_EXHAUSTED": Failure("full", grpc.StatusCode.RESOURCE_EXHAUSTED, "OVERLOADED", retry_after=7.2),
    "UNAVAILABLE": Failure("quorum not met", grpc.StatusCode.UNAVAILABLE, "QUORUM_NOT_MET", retry_after=1),
    "DEADLINE_EXCEEDED": Failure("deadline", grpc.StatusCode.DEADLINE_EXCEEDED),
    "INTERNAL": Failure("misconfigured", grpc.StatusCode.INTERNAL, "PEER_CREDENTIALS_REFUSED"),
    "MESSAGE_TOO_LARGE": Failure("Received message larger than max", grpc.StatusCode.RESOURCE_EXHAUSTED),
}


class Failing(FakeOrchestrator):
    """Fails every call with the status named by the last message's content."""

    async def Generate(self, request: orchestrator_pb2.GenerateRequest, context: Any) -> Any:
        await context.abort_with_status(FAILURES[request.messages[-1].content].status())

    async def GenerateStream(self, request: orchestrator_pb2.GenerateRequest, context: Any) -> Any:
        await context.abort_with_status(FAILURES[request.messages[-1].content].status())
        yield orchestrator_pb2.GenerateStreamResponse()


@asynccontextmanager
async def failing_orchestrator() -> AsyncIterator[int]:
    server = grpc.aio.server()
    orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(Failing(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(0)


@pytest.mark.parametrize("stream", [False, True], ids=["completion", "stream"])
@pytest.mark.parametrize(
    ("status", "http", "exception", "param"),
    [
        ("INVALID_ARGUMENT", 400, openai.BadRequestError, "k"),
        ("UNAUTHENTICATED", 401, openai.AuthenticationError, None),
        ("PERMISSION_DENIED", 403, openai.PermissionDeniedError, None),
        ("RESOURCE_EXHAUSTED", 429, openai.RateLimitError, None),
        ("UNAVAILABLE", 503, openai.InternalServerError, None),
        ("DEADLINE_EXCEEDED", 504, openai.InternalServerError, None),
        ("INTERNAL", 500, openai.InternalServerError, None),
        ("MESSAGE_TOO_LARGE", 413, openai.APIStatusError, None),
    ],
)
async def test_every_status_maps_to_its_http_code_and_openai_error(
    status: str, http: int, exception: type[openai.APIStatusError], param: str | None, stream: bool
) -> None:
    async with failing_orchestrator() as port, gateway(port) as url:
        client = openai_client(url)
        with pytest.raises(exception) as failed:
            await client.chat.completions.create(
                model="smoa", messages=[{"role": "user", "content": status}], stream=stream
            )
    assert failed.value.status_code == http
    body = failed.value.body
    assert isinstance(body, dict) and body.get("param") == param and body.get("message")
    if http == 429:
        assert failed.value.response.headers["retry-after"] == "8"
    if http == 413:
        assert body.get("code") == "request_too_large" and "retry-after" not in failed.value.response.headers
