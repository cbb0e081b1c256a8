"""The drain on SIGTERM: NOT_SERVING while the listener is still open (seen by a prober on a fresh
connection), RPCs still served meanwhile, deadlines lowered to the end of the grace, and what is still
running when the grace runs out cut with UNAVAILABLE SHUTTING_DOWN, not a reset."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from smoa_services.config import Settings
from smoa_services.llm.breaker import State
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry

SERVICE = "test.Work"


def register(server: Server) -> Sequence[str]:
    async def hang(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        await asyncio.sleep(30)
        return b"never"

    async def quick(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return b"served"

    async def deadline(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        # What a servicer would give its next call: its deadline, as the drain sees it.
        await asyncio.sleep(float(request.decode()))
        return f"{server.drain.deadline(context).remaining():.2f}".encode()

    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        name: grpc.unary_unary_rpc_method_handler(f)
        for name, f in (("Hang", hang), ("Quick", quick), ("Deadline", deadline))
    }
    server.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    return [SERVICE]


async def check(port: int, service: str = "") -> str:
    """One health check on a connection of its own, as a load balancer's prober makes it."""
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=0.5
            )
            return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
    except grpc.aio.AioRpcError as e:
        return e.code().name


async def test_a_drain_reports_not_serving_before_the_port_closes_then_cuts_what_is_left() -> None:
    settings = Settings(port=0, drain_delay_seconds=1.0, grace_seconds=1.5)
    server = Server("test", settings, Telemetry.load("test", environ={}), register)
    port = await server.start()
    seen: list[tuple[float, str]] = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        Call = grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]
        hang: Call = channel.unary_unary(f"/{SERVICE}/Hang")
        quick: Call = channel.unary_unary(f"/{SERVICE}/Quick")
        deadline: Call = channel.unary_unary(f"/{SERVICE}/Deadline")
        in_flight = asyncio.ensure_future(hang(b"", timeout=20))
        lowered = asyncio.ensure_future(deadline(b"1.5", timeout=20))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        draining = asyncio.ensure_future(server.drain_and_stop())

        async def probe() -> None:
            while not draining.done():
                seen.append((time.monotonic() - started, await check(port)))
                await asyncio.sleep(0.1)

        prober = asyncio.ensure_future(probe())
        await asyncio.sleep(0.3)
        # During the delay the listener is open: RPCs are still served.
        assert await quick(b"", timeout=2) == b"served"
        try:
            await in_flight
        except grpc.aio.AioRpcError as e:
            cut = e
        await draining
        await prober
        # Asked 1.5 s into a drain whose grace ends 2.5 s in: ~1 s left (less the cut margins), not ~18 s.
        left = float(await lowered)
    assert cut.code() == grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(cut)  # type: ignore[arg-type]
    assert status is not None
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    assert any(d.Unpack(info) for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR))
    assert any(d.Unpack(retry) for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR))
    assert info.reason == "SHUTTING_DOWN"
    assert left < 1.0
    # The prober saw NOT_SERVING while the port was still open, for about the drain delay, then the port
    # closed (a refused connection is UNAVAILABLE).
    states = [state for _, state in seen]
    assert states[0] == "NOT_SERVING" and "UNAVAILABLE" in states
    not_serving = [t for t, state in seen if state == "NOT_SERVING"]
    assert max(not_serving) >= 0.8
    assert states.index("UNAVAILABLE") > len(not_serving) - 1


async def test_liveness_and_readiness_are_apart() -> None:
    server = Server("test", Settings(port=0), Telemetry.load("test", environ={}), register)
    port = await server.start()
    try:
        assert [await check(port, s) for s in ("", SERVICE, "smoa.v1.Readiness")] == ["SERVING"] * 3
        server.readiness.breaker_changed("big", State.OPEN)
        await asyncio.sleep(0.05)
        assert await check(port, "smoa.v1.Readiness") == "NOT_SERVING"
        assert await check(port, "smoa.v1.Readiness/big") == "NOT_SERVING"
        # Liveness is about the process: a dead backend must not get the pod restarted.
        assert await check(port, "") == "SERVING"
        server.readiness.breaker_changed("big", State.HALF_OPEN)
        await asyncio.sleep(0.05)
        assert await check(port, "smoa.v1.Readiness") == "SERVING"
    finally:
        await server.stop(0)
