"""ModeratorService over gRPC: validate, run the Moderator policy with a deadline-bound LLM (which falls back
to the rule when the LLM fails)."""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry import trace

from smoa.v1 import moderator_pb2, moderator_pb2_grpc
from smoa_services.config import Settings
from smoa_services.ensemble.decision import decision_to_wire
from smoa_services.llm import ChatModel
from smoa_services.llm.usage import Usage
from smoa_services.moderator.policy import Moderator
from smoa_services.moderator.request import moderation_task
from smoa_services.platform.drain import Drain
from smoa_services.telemetry import attributes
from smoa_services.wire import convert

Context = grpc.aio.ServicerContext[Any, Any]


class ModeratorServicer(moderator_pb2_grpc.ModeratorServiceServicer):
    def __init__(self, settings: Settings, chat: ChatModel, drain: Drain):
        self.settings = settings
        self.chat = chat
        self.drain = drain
        self.policy = Moderator()

    async def Moderate(
        self, request: moderator_pb2.ModerateRequest, context: Context
    ) -> moderator_pb2.ModerateResponse:
        task = moderation_task(request, self.settings)
        ask = self.chat.json_caller(
            convert.model_choice(request.model),
            self.drain.deadline(context),
            self.settings.llm_timeout_seconds,
        )
        moderation = await self.policy.moderate(task, ask)
        span = trace.get_current_span()
        span.set_attribute(attributes.LAYER, request.layer)
        span.set_attribute(attributes.DECISION, moderation.decision.value)
        span.set_attribute(attributes.AGREEMENT, moderation.agreement)
        span.set_attribute(attributes.LLM_USED, moderation.llm_used)
        span.set_attribute(attributes.MODERATOR_FALLBACK, moderation.fallback)
        return moderator_pb2.ModerateResponse(
            decision=decision_to_wire(moderation.decision),
            reason=moderation.reason,
            agreement=moderation.agreement,
            usage=convert.usage(Usage.of(moderation.completions)),
            llm_used=moderation.llm_used,
            fallback=moderation.fallback,
        )
