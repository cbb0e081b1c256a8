"""The judge service: scores a layer's candidates and keeps the best k (the sparsity of SMoA); fused,
it also decides whether to stop."""

from __future__ import annotations

from smoa.v1 import judge_pb2, judge_pb2_grpc
from smoa_services.config import Settings
from smoa_services.judge.servicer import JudgeServicer
from smoa_services.llm import ChatModel
from smoa_services.platform.server import Server, llm_service
from smoa_services.telemetry import Telemetry

SERVICE_NAME = judge_pb2.DESCRIPTOR.services_by_name["JudgeService"].full_name


def create_server(settings: Settings, telemetry: Telemetry, chat: ChatModel | None = None) -> Server:
    def add(model: ChatModel, server: Server) -> str:
        servicer = JudgeServicer(settings, model, server.drain)
        judge_pb2_grpc.add_JudgeServiceServicer_to_server(servicer, server.server)
        return SERVICE_NAME

    return llm_service("judge", settings, telemetry, chat, add)


__all__ = ["SERVICE_NAME", "create_server"]
