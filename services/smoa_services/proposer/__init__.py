"""The proposer service: one agent of a layer, answering in its role and, from layer 2 on, synthesizing
the previous layer's kept answers."""

from __future__ import annotations

from smoa.v1 import proposer_pb2, proposer_pb2_grpc
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.platform.server import Server, llm_service
from smoa_services.proposer.servicer import ProposerServicer
from smoa_services.telemetry import Telemetry

SERVICE_NAME = proposer_pb2.DESCRIPTOR.services_by_name["ProposerService"].full_name


def create_server(settings: Settings, telemetry: Telemetry, chat: ChatModel | None = None) -> Server:
    def add(model: ChatModel, server: Server) -> str:
        servicer = ProposerServicer(settings, model, server.drain)
        proposer_pb2_grpc.add_ProposerServiceServicer_to_server(servicer, server.server)
        return SERVICE_NAME

    return llm_service("proposer", settings, telemetry, chat, add)


__all__ = ["SERVICE_NAME", "create_server"]
