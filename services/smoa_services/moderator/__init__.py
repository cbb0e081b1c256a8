"""The moderator service: after each layer, decides whether the kept answers are good enough to stop
(the early stop of SMoA)."""

from __future__ import annotations

from smoa.v1 import moderator_pb2, moderator_pb2_grpc
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.moderator.servicer import ModeratorServicer
from smoa_services.platform.server import Server, llm_service
from smoa_services.telemetry import Telemetry

SERVICE_NAME = moderator_pb2.DESCRIPTOR.services_by_name["ModeratorService"].full_name


def create_server(settings: Settings, telemetry: Telemetry, chat: ChatModel | None = None) -> Server:
    def add(model: ChatModel, server: Server) -> str:
        servicer = ModeratorServicer(settings, model, server.drain)
        moderator_pb2_grpc.add_ModeratorServiceServicer_to_server(servicer, server.server)
        return SERVICE_NAME

    return llm_service("moderator", settings, telemetry, chat, add)


__all__ = ["SERVICE_NAME", "create_server"]
