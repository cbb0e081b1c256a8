"""OrchestratorService over gRPC: the request becomes a plan (request.py), the peers are bound to its
timeline, the pipeline runs, and its events become responses (response.py); its failures become statuses
in failure.py."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import grpc
from opentelemetry import trace

from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services.access.caller import CALLER, END_CALLER, MAX_NAME_CHARS
from smoa_services.config import Settings
from smoa_services.orchestrator import response
from smoa_services.orchestrator.answer_metrics import AnswerMetrics
from smoa_services.orchestrator.peers import PeerCalls
from smoa_services.orchestrator.pipeline import Pipeline
from smoa_services.orchestrator.plan import Mode, Plan
from smoa_services.orchestrator.proposer_load import ProposerLoad
from smoa_services.orchestrator.quota import QuotaExceeded, Quotas
from smoa_services.orchestrator.records import Event, Finished
from smoa_services.orchestrator.request import plan as plan_of
from smoa_services.orchestrator.timeline import Timeline
from smoa_services.platform.drain import Drain
from smoa_services.rpc.failure import PermissionDenied
from smoa_services.telemetry import attributes
from smoa_services.wire import convert

Context = grpc.aio.ServicerContext[Any, Any]


class OrchestratorServicer(orchestrator_pb2_grpc.OrchestratorServiceServicer):
    def __init__(
        self,
        settings: Settings,
        peers: PeerCalls,
        pipeline: Pipeline,
        drain: Drain,
        metrics: AnswerMetrics,
        quotas: Quotas,
    ):
        self.settings = settings
        self.peers = peers
        self.pipeline = pipeline
        self.drain = drain
        self.metrics = metrics
        self.proposer_load = ProposerLoad(settings.max_proposers_in_flight_per_caller)
        self.quotas = quotas

    async def Generate(
        self, request: orchestrator_pb2.GenerateRequest, context: Context
    ) -> orchestrator_pb2.GenerateResponse:
        async with aclosing(self._events(request, context, stream=False)) as events:
            async for event in events:
                if isinstance(event, Finished):
                    return response.response(event.result)
        raise AssertionError("the pipeline ended without a result")

    async def GenerateStream(
        self, request: orchestrator_pb2.GenerateRequest, context: Context
    ) -> AsyncIterator[orchestrator_pb2.GenerateStreamResponse]:
        async with aclosing(self._events(request, context, stream=True)) as events:
            async for event in events:
                yield response.stream_message(event)

    async def Usage(
        self, request: orchestrator_pb2.UsageRequest, context: Context
    ) -> orchestrator_pb2.UsageResponse:
        caller = CALLER.get()
        # With callers checked, only an admin may see everyone's spend; with none checked (the local
        # default: everyone is one anonymous caller) there is nobody to hide it from.
        if caller and caller not in self.settings.admin_caller_names():
            raise PermissionDenied(caller, "/smoa.v1.OrchestratorService/Usage")
        found, counted = await self.quotas.usage(request.caller[:MAX_NAME_CHARS])
        return orchestrator_pb2.UsageResponse(
            callers=[
                orchestrator_pb2.CallerUsage(
                    caller=u.caller,
                    tokens_this_minute=u.tokens_this_minute,
                    tokens_today=u.tokens_today,
                    requests_this_minute=u.requests_this_minute,
                    tokens_per_minute=u.limits.tokens_per_minute,
                    tokens_per_day=u.limits.tokens_per_day,
                    requests_per_minute=u.limits.requests_per_minute,
                )
                for u in found
            ],
            counted=counted,
        )

    async def _events(
        self, request: orchestrator_pb2.GenerateRequest, context: Context, stream: bool
    ) -> AsyncGenerator[Event, None]:
        plan = plan_of(request, self.settings)
        caller = END_CALLER.get()
        with self.proposer_load.admitted(caller, 0 if plan.mode is Mode.SINGLE else plan.n):
            try:
                grant = await self.quotas.admit(caller, plan.token_budget)
            except QuotaExceeded:
                self._spent(caller, 0, "quota_exceeded")
                raise
            if grant.tokens is not None:
                plan = dataclasses.replace(plan, token_budget=grant.tokens)
            if grant.unchecked:
                self.metrics.unchecked(self.quotas.label(caller))
            if grant.headers:
                await context.send_initial_metadata(grant.headers)
            # Until it is known, the most it could have spent: a request that fails keeps its grant counted.
            spent, outcome = grant.tokens or 0, "failed"
            try:
                async with aclosing(self._run(request, plan, context, stream)) as events:
                    async for event in events:
                        if isinstance(event, Finished):
                            spent, outcome = event.result.cost.total().tokens, "answered"
                        yield event
            finally:
                await self.quotas.settle(grant, spent)
                self._spent(caller, spent, outcome)

    def _spent(self, caller: str, tokens: int, outcome: str) -> None:
        self.metrics.spent(self.quotas.label(caller), tokens, outcome)

    async def _run(
        self, request: orchestrator_pb2.GenerateRequest, plan: Plan, context: Context, stream: bool
    ) -> AsyncGenerator[Event, None]:
        deadline = self.drain.deadline(context, longest=self.settings.max_generation_seconds)
        timeline = Timeline(deadline, self.pipeline.final_stage)
        peers = self.peers.for_request(
            request.messages, timeline, convert.response_format(plan.answer_format)
        )
        span = trace.get_current_span()  # the server span of this RPC
        span.set_attribute(attributes.MODE, plan.mode.value)
        for key, value in request.metadata.items():
            span.set_attribute(attributes.request_metadata(key), value)
        async with aclosing(self.pipeline.run(plan, peers, timeline, stream=stream)) as events:
            async for event in events:
                if isinstance(event, Finished):
                    span.set_attribute(attributes.STOP_REASON, event.result.stop_reason.value)
                    span.set_attribute(attributes.LAYERS, len(event.result.layers))
                    span.set_attribute(attributes.DEGRADED, event.result.degraded)
                    if self.pipeline.capture_content:
                        span.set_attribute(attributes.TEXT, event.result.text)
                    self.metrics.answered(event.result)
                yield event
