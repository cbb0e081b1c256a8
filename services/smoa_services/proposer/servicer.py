"""ProposerService over gRPC: validate, build the prompt, one LLM call (failures become statuses in
failure.py), map the completion."""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry import trace

from smoa.v1 import proposer_pb2, proposer_pb2_grpc
from smoa_services import convert
from smoa_services.config import Settings
from smoa_services.drain import Drain
from smoa_services.failure import InvalidArgument
from smoa_services.llm import ChatModel
from smoa_services.proposer.prompt import proposer_messages
from smoa_services.proposer.request import propose_violations

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
        self.chat = chat
        self.drain = drain

    async def Propose(
        self, request: proposer_pb2.ProposeRequest, context: Context
    ) -> proposer_pb2.ProposeResponse:
        violations = propose_violations(request, self.settings)
        if violations:
            raise InvalidArgument(violations)
        span = trace.get_current_span()
        span.set_attribute("smoa.references", len(request.references))
        messages = proposer_messages(
            convert.chat_messages(request.messages), request.role, [r.text for r in request.references]
        )
        choice = convert.model_choice(request.model)
        timeout = self.drain.deadline(context).timeout(self.settings.llm_timeout_seconds)
        completion = await self.chat.complete(messages, choice, timeout=timeout)
        return proposer_pb2.ProposeResponse(
            text=completion.text,
            usage=convert.usage([completion]),
            model=completion.model,
            latency=convert.duration(completion.latency),
            finish_reason=finish_reason(completion.finish_reason),
        )
