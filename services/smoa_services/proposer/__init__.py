"""The proposer service: one agent of a layer, answering in its role and, from layer 2 on, synthesizing
the previous layer's kept answers."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from opentelemetry.sdk.trace import TracerProvider

from smoa.v1 import proposer_pb2, proposer_pb2_grpc
from smoa_services import telemetry
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.proposer.servicer import ProposerServicer
from smoa_services.server import Server

SERVICE_NAME = proposer_pb2.DESCRIPTOR.services_by_name["ProposerService"].full_name


def create_server(settings: Settings, provider: TracerProvider, chat: ChatModel | None = None) -> Server:
    # Prompts and answers are recorded (on the LLM spans) only when the operator opts in.
    model = chat or ChatModel(settings, telemetry.tracer(provider), telemetry.capture_content())

    def register(server: grpc.aio.Server) -> Sequence[str]:
        proposer_pb2_grpc.add_ProposerServiceServicer_to_server(ProposerServicer(settings, model), server)
        return [SERVICE_NAME]

    server = Server("proposer", settings, provider, register)
    if chat is None:
        server.on_stop.append(model.close)  # only what this function opened
    return server


__all__ = ["SERVICE_NAME", "create_server"]
