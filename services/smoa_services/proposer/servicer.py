"""ProposerService over gRPC: the request becomes a task (request.py), the policy answers it with one
LLM call (failures become statuses in failure.py), the completion is mapped back."""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry import trace

from smoa.v1 import proposer_pb2, proposer_pb2_grpc
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.llm.usage import Usage
from smoa_services.platform.drain import Drain
from smoa_services.proposer.policy import Proposer
from smoa_services.proposer.request import proposal_task
from smoa_services.telemetry import attributes
from smoa_services.wire import convert

Context = grpc.aio.ServicerContext[Any, Any]

FINISH_REASONS = {
    "stop": proposer_pb2.FINISH_REASON_STOP,
    "length": proposer_pb2.FINISH_REASON_LENGTH,
    "content_filter": proposer_pb2.FINISH_REASON_CONTENT_FILTER,
}


def finish_reason(reason: str) -> proposer_pb2.FinishReason.ValueType:
    # Backends that report nothing are UNSPECIFIED; anything else they invent (tool_calls, eos, ...) OTHER.
    if not reason:
        return proposer_pb2.FINISH_REASON_UNSPECIFIED
    return FINISH_REASONS.get(reason, proposer_pb2.FINISH_REASON_OTHER)


class ProposerServicer(proposer_pb2_grpc.ProposerServiceServicer):
    def __init__(self, settings: Settings, chat: ChatModel, drain: Drain):
        self.settings = settings
        self.drain = drain
        self.policy = Proposer(chat)

    async def Propose(
        self, request: proposer_pb2.ProposeRequest, context: Context
    ) -> proposer_pb2.ProposeResponse:
        asked = proposal_task(request, self.settings)
        trace.get_current_span().set_attribute(attributes.REFERENCES, len(asked.references))
        timeout = self.drain.deadline(context).timeout(self.settings.llm_timeout_seconds)
        completion = await self.policy.propose(asked, timeout)
        return proposer_pb2.ProposeResponse(
            text=completion.text,
            usage=convert.usage(Usage.of([completion])),
            model=completion.model,
            latency=convert.duration(completion.latency),
            finish_reason=finish_reason(completion.finish_reason),
        )
