"""A base for the scripted orchestrators tests serve: the RPCs a test does not play answer UNIMPLEMENTED,
as the generated servicer's own do (its type stubs declare every RPC abstract)."""

from __future__ import annotations

from typing import Any

import grpc

from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc


class FakeOrchestrator(orchestrator_pb2_grpc.OrchestratorServiceServicer):
    async def Usage(self, request: orchestrator_pb2.UsageRequest, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not played by this fake")
