"""`/healthz` (liveness: the process serves; an orchestrator that is down must not get the gateway
restarted) and `/readyz` (readiness: 503 while draining, or while the orchestrator does not answer
SERVING within 2 s)."""

from __future__ import annotations

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from grpc_health.v1 import health_pb2, health_pb2_grpc

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(http: Request) -> Response:
    if http.app.state.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    try:
        reply = await health_pb2_grpc.HealthStub(http.app.state.channel).Check(
            health_pb2.HealthCheckRequest(service="smoa.v1.OrchestratorService"), timeout=2
        )
        ready = reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.aio.AioRpcError:
        ready = False
    return JSONResponse({"status": "ready" if ready else "not ready"}, status_code=200 if ready else 503)
