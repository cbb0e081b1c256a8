"""Admission: calls beyond the service's limit, or beyond one caller's share, are refused at once with
RESOURCE_EXHAUSTED and RetryInfo; health checks never count, so probes answer under full load. The calls
it admitted and that have not finished are the metric smoa.rpc.server.in_flight, read through an
in-process metric reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from smoa_services.config import Settings
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.observe.metric_points import points

SERVICE = "test.Work"


def register(server: Server) -> Sequence[str]:
    async def hang(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        await asyncio.sleep(30)
        return b"late"

    async def quick(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return b"done"

    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        "Hang": grpc.unary_unary_rpc_method_handler(hang),
        "Quick": grpc.unary_unary_rpc_method_handler(quick),
    }
    server.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    return [SERVICE]


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[grpc.aio.Channel]:
    async with measured_serving(Telemetry.load("t", environ={}), settings) as channel:
        yield channel


@asynccontextmanager
async def measured_serving(telemetry: Telemetry, settings: dict[str, Any]) -> AsyncIterator[grpc.aio.Channel]:
    server = Server("test", Settings(port=0, **settings), telemetry, register)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(0)


def method(channel: grpc.aio.Channel, name: str) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    return channel.unary_unary(f"/{SERVICE}/{name}")


async def refusal(call: Any) -> tuple[grpc.StatusCode, float | None]:
    try:
        await call
    except grpc.aio.AioRpcError as e:
        status = rpc_status.from_call(e)  # type: ignore[arg-type]
        retry = error_details_pb2.RetryInfo()
        delays = [
            retry.retry_delay.ToNanoseconds() / 1e9
            for d in (status.details if status else [])
            if d.Unpack(retry)
        ]
        return e.code(), delays[0] if delays else None
    return grpc.StatusCode.OK, None


async def test_a_full_service_refuses_work_at_once_but_answers_probes() -> None:
    async with serving(max_concurrent_rpcs=2) as channel:
        hung = [asyncio.ensure_future(method(channel, "Hang")(b"", timeout=30)) for _ in range(2)]
        await asyncio.sleep(0.2)
        assert await refusal(method(channel, "Quick")(b"", timeout=5)) == (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            1.0,
        )
        for _ in range(20):  # probes, more of them than the limit
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        for call in hung:
            call.cancel()
        await asyncio.sleep(0.2)
        assert await refusal(method(channel, "Quick")(b"", timeout=5)) == (grpc.StatusCode.OK, None)


async def test_one_callers_slow_calls_do_not_take_anothers_place(monkeypatch: Any) -> None:
    monkeypatch.setenv("TEST_TOKENS", "alice alice-token, bob bob-token")
    settings = {
        "max_concurrent_rpcs": 8,
        "max_concurrent_rpcs_per_caller": 2,
        "auth_tokens_env": "TEST_TOKENS",
    }
    async with serving(**settings) as channel:
        alice = [("authorization", "Bearer alice-token")]
        bob = [("authorization", "Bearer bob-token")]
        hung = [
            asyncio.ensure_future(method(channel, "Hang")(b"", timeout=30, metadata=alice)) for _ in range(2)
        ]
        await asyncio.sleep(0.2)
        assert (await refusal(method(channel, "Quick")(b"", timeout=5, metadata=alice)))[0] == (
            grpc.StatusCode.RESOURCE_EXHAUSTED
        )
        assert await refusal(method(channel, "Quick")(b"", timeout=5, metadata=bob)) == (
            grpc.StatusCode.OK,
            None,
        )
        for call in hung:
            call.cancel()


async def test_the_calls_in_flight_are_a_metric_for_autoscaling() -> None:
    """What the documented in-flight autoscaler reads: admitted calls, not refused ones nor probes."""
    metrics = InMemoryMetricReader()
    telemetry = Telemetry.load("t", metric_readers=[metrics], environ={})

    def in_flight() -> list[float]:
        found = list(points(metrics, "smoa.rpc.server.in_flight"))
        assert all(isinstance(p, NumberDataPoint) and not p.attributes for p in found)
        return [p.value for p in found if isinstance(p, NumberDataPoint)]

    async with measured_serving(telemetry, {"max_concurrent_rpcs": 2}) as channel:
        hung = [asyncio.ensure_future(method(channel, "Hang")(b"", timeout=30)) for _ in range(2)]
        await asyncio.sleep(0.2)
        assert in_flight() == [2]
        code, _ = await refusal(method(channel, "Quick")(b"", timeout=5))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert in_flight() == [2]
        for call in hung:
            call.cancel()
        await asyncio.sleep(0.2)
        assert in_flight() == [0]
        assert await refusal(method(channel, "Quick")(b"", timeout=5)) == (grpc.StatusCode.OK, None)
        assert in_flight() == [0]  # one more came and went
    data = metrics.get_metrics_data()
    assert data is not None
    units = {
        m.unit
        for r in data.resource_metrics
        for s in r.scope_metrics
        for m in s.metrics
        if m.name == "smoa.rpc.server.in_flight"
    }
    assert units == {"{call}"}
