"""The moderator service: after each layer, decides whether the kept answers are good enough to stop
(the early stop of SMoA)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from opentelemetry.sdk.trace import TracerProvider

from smoa.v1 import moderator_pb2, moderator_pb2_grpc
from smoa_services import telemetry
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.moderator.servicer import ModeratorServicer
from smoa_services.server import Server

SERVICE_NAME = moderator_pb2.DESCRIPTOR.services_by_name["ModeratorService"].full_name


def create_server(settings: Settings, provider: TracerProvider, chat: ChatModel | None = None) -> Server:
    # Prompts and answers are recorded (on the LLM spans) only when the operator opts in.
    model = chat or ChatModel(settings, telemetry.tracer(provider), telemetry.capture_content())

    def register(server: grpc.aio.Server) -> Sequence[str]:
        moderator_pb2_grpc.add_ModeratorServiceServicer_to_server(ModeratorServicer(settings, model), server)
        return [SERVICE_NAME]

    server = Server("moderator", settings, provider, register)
    if chat is None:
        server.on_stop.append(model.close)  # only what this function opened
    return server


__all__ = ["SERVICE_NAME", "create_server"]
