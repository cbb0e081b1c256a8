"""Why a peer had no replica to take a call. The orchestrator's peer channels skip replicas that say
NOT_SERVING on smoa.v1.Readiness (channel.py), so when none is ready gRPC fails the call UNAVAILABLE in its
own words ("connections to all backends failing", its backends being replicas), which name no cause. The
replicas say it in their health entries (readiness.py): liveness NOT_SERVING while they drain,
smoa.v1.Readiness/<backend> NOT_SERVING while that LLM backend's circuit breaker is open. This asks a
replica, over a channel to the same replicas that skips none; once a second per peer at most, so a fan-out
of failing calls asks once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smoa_services.platform.readiness import NOT_SERVING, READINESS
from smoa_services.rpc.failure import PeerNotReady

ASK_SECONDS = 0.5
FRESH_SECONDS = 1.0


class PeerReadiness:
    def __init__(self, health: Mapping[str, health_pb2_grpc.HealthStub]):
        self.health = health
        self._asked: dict[str, tuple[float, asyncio.Future[PeerNotReady | None]]] = {}

    async def explain(self, peer: str, timeout: float) -> PeerNotReady | None:
        """Why no replica of `peer` is ready, if one says so within `timeout` (at most ASK_SECONDS)."""
        if peer not in self.health or timeout <= 0:
            return None
        now = asyncio.get_running_loop().time()
        asked = self._asked.get(peer)
        if asked is None or now - asked[0] > FRESH_SECONDS:
            asked = (now, asyncio.ensure_future(self._ask(peer, min(ASK_SECONDS, timeout))))
            self._asked[peer] = asked
        # Shared by every call that failed meanwhile: one caller's cancellation must not end it.
        return await asyncio.shield(asked[1])

    async def _ask(self, peer: str, timeout: float) -> PeerNotReady | None:
        try:
            reply = await self.health[peer].List(health_pb2.HealthListRequest(), timeout=timeout)
        except grpc.aio.AioRpcError:
            return None  # down, not merely unready: gRPC's words are all there is
        return not_ready(peer, reply.statuses)


def not_ready(peer: str, statuses: Mapping[str, health_pb2.HealthCheckResponse]) -> PeerNotReady | None:
    if "" in statuses and statuses[""].status == NOT_SERVING:
        return PeerNotReady(peer, ())
    prefix = f"{READINESS}/"
    open_breakers = sorted(
        name.removeprefix(prefix)
        for name, entry in statuses.items()
        if name.startswith(prefix) and entry.status == NOT_SERVING
    )
    return PeerNotReady(peer, open_breakers) if open_breakers else None
