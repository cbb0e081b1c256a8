"""OrchestratorService over gRPC: checks the request, binds the peers to its deadline, runs the pipeline,
and turns its events into responses and its failures into rich statuses."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import grpc
from opentelemetry import trace

from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services.config import Settings
from smoa_services.deadline import Deadline
from smoa_services.orchestrator import wire
from smoa_services.orchestrator.checks import check_request
from smoa_services.orchestrator.failures import status_of
from smoa_services.orchestrator.peers import PeerStubs, grpc_peers
from smoa_services.orchestrator.pipeline import Pipeline
from smoa_services.orchestrator.records import Event, Finished
from smoa_services.status import abort, invalid_argument

Context = grpc.aio.ServicerContext[Any, Any]


class OrchestratorServicer(orchestrator_pb2_grpc.OrchestratorServiceServicer):
    def __init__(self, settings: Settings, stubs: PeerStubs, pipeline: Pipeline):
        self.settings = settings
        self.stubs = stubs
        self.pipeline = pipeline

    async def Generate(
        self, request: orchestrator_pb2.GenerateRequest, context: Context
    ) -> orchestrator_pb2.GenerateResponse:
        async with aclosing(self._events(request, context)) as events:
            async for event in events:
                if isinstance(event, Finished):
                    return wire.response(event.result)
        raise AssertionError("the pipeline ended without a result")

    async def GenerateStream(
        self, request: orchestrator_pb2.GenerateRequest, context: Context
    ) -> AsyncIterator[orchestrator_pb2.GenerateStreamResponse]:
        async with aclosing(self._events(request, context)) as events:
            async for event in events:
                yield wire.stream_message(event)

    async def _events(
        self, request: orchestrator_pb2.GenerateRequest, context: Context
    ) -> AsyncGenerator[Event, None]:
        violations = check_request(request, self.settings)
        if violations:
            await abort(context, invalid_argument(violations))
        plan = wire.plan_of(request, self.settings)
        deadline = Deadline(context.time_remaining())
        peers = grpc_peers(self.stubs, request.messages, deadline, self.settings)
        span = trace.get_current_span()  # the server span of this RPC
        span.set_attribute("smoa.mode", plan.mode.value)
        try:
            async with aclosing(self.pipeline.run(plan, peers, deadline)) as events:
                async for event in events:
                    if isinstance(event, Finished):
                        span.set_attribute("smoa.stop_reason", event.result.stop_reason.value)
                        span.set_attribute("smoa.layers", len(event.result.layers))
                        if self.pipeline.capture_content:
                            span.set_attribute("smoa.text", event.result.text)
                    yield event
        except Exception as error:
            status = status_of(error)
            if status is None:
                raise
            span.record_exception(error)
            await abort(context, status)
