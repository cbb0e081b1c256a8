"""Readiness in the standard health service, apart from liveness.

The empty service name is liveness: it is about the process, and says SERVING until the drain. A dead LLM
backend must not get a healthy pod restarted. `smoa.v1.Readiness` says whether this replica can do its
work now: NOT_SERVING while the circuit breaker of any backend it calls is open, and
`smoa.v1.Readiness/<backend>` ("default" for the default backend) says which. Peers' channels watch
`smoa.v1.Readiness` (gRPC client-side health checking), so a replica whose backend is down, or that is
draining, stops getting calls while others take them."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

from smoa_services.llm.breaker import State

READINESS = "smoa.v1.Readiness"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def backend_entry(backend: str) -> str:
    return f"{READINESS}/{backend or 'default'}"


class HealthService(health.aio.HealthServicer):  # type: ignore[misc]  # untyped library
    """grpcio's asyncio health servicer, with the List method it leaves unimplemented, so `smoa health`
    (and any client) can read every entry at once."""

    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthListResponse:
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )


class Readiness:
    def __init__(self, servicer: health.aio.HealthServicer):
        self.servicer = servicer
        self.open: set[str] = set()
        self._updates: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.servicer.set(READINESS, SERVING)

    def breaker_changed(self, backend: str, state: State) -> None:
        """A ChatModel breaker listener: called inside the event loop, where the health servicer lives."""
        if state is State.OPEN:
            self.open.add(backend)
        else:
            self.open.discard(backend)
        task = asyncio.ensure_future(self._publish(backend, NOT_SERVING if state is State.OPEN else SERVING))
        self._updates.add(task)
        task.add_done_callback(self._updates.discard)

    async def _publish(
        self, backend: str, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType
    ) -> None:
        # The health servicer ignores updates once the drain has begun: NOT_SERVING stays.
        await self.servicer.set(backend_entry(backend), status)
        await self.servicer.set(READINESS, NOT_SERVING if self.open else SERVING)
