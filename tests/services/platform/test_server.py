"""The server every service runs on: health, reflection, limits, and draining in-flight work on stop."""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from smoa_services.config import Settings
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry

SLOW = "/test.Slow/Wait"


async def wait(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    await asyncio.sleep(0.5)
    return b"done"


async def fail(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    raise ValueError(f"could not handle {request.decode()!r}")


def register(server: Server) -> Sequence[str]:
    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        "Wait": grpc.unary_unary_rpc_method_handler(wait),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    }
    server.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Slow", handlers),))
    return ["test.Slow"]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    settings = Settings(port=0, max_message_bytes=1024, grace_seconds=5)
    s = Server("test", settings, Telemetry.load("test", environ={}), register)
    await s.start()
    yield s
    await s.stop(0)


async def test_health_reports_serving_for_server_and_services(server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ["", "test.Slow"]:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services(server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for reply in stub.ServerReflectionInfo(iter([request])):
            names = {s.name for s in reply.list_services_response.service}
            break
    assert {"test.Slow", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def test_oversized_messages_are_refused(server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(SLOW)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call(b"x" * 4096, timeout=5)
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_stop_drains_in_flight_rpcs_and_reports_not_serving(server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        slow: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(SLOW)
        in_flight = asyncio.ensure_future(slow(b"", timeout=5))
        await asyncio.sleep(0.1)
        stopping = asyncio.ensure_future(server.stop(5))
        await asyncio.sleep(0.05)
        reply = await server.health.Check(health_pb2.HealthCheckRequest(service=""), None)
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert await in_flight == b"done"
        await stopping


async def test_a_bug_is_internal_and_logged_with_where_not_with_what_it_was_handling(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception's message may quote the request it was handling (a prompt): the caller and the log
    get its type, the log its frames, neither its words."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        failing: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary("/test.Slow/Fail")
        slow: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(SLOW)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await failing(b"PROMPT-MARKER", timeout=5)
        assert await slow(b"", timeout=5) == b"done"
    assert failed.value.code() == grpc.StatusCode.INTERNAL
    assert failed.value.details() == "internal error (ValueError)"
    (logged,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "/test.Slow/Fail" in logged.getMessage() and "in fail" in logged.getMessage()
    assert "PROMPT-MARKER" not in caplog.text


async def test_a_burst_beyond_grpcs_own_pending_limit_is_served_whole() -> None:
    """gRPC C-core cancels the calls of a burst it holds beyond 1,000 not yet picked up, with a bare
    CANCELLED, unless the server lets its queue hold what admission may admit."""
    settings = Settings(port=0, max_concurrent_rpcs=2048, grace_seconds=5)
    server = Server("test", settings, Telemetry.load("test", environ={}), register)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(SLOW)
            replies = await asyncio.gather(
                *(call(b"", timeout=60) for _ in range(2000)), return_exceptions=True
            )
    finally:
        await server.stop(0)
    failed = [r.code() for r in replies if isinstance(r, grpc.aio.AioRpcError)]
    assert failed == [] and replies.count(b"done") == 2000
