"""The judge service: scores a layer's candidates and keeps the best k (the sparsity of SMoA); fused,
it also decides whether to stop."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from opentelemetry.sdk.trace import TracerProvider

from smoa.v1 import judge_pb2, judge_pb2_grpc
from smoa_services import telemetry
from smoa_services.config import Settings
from smoa_services.judge.servicer import JudgeServicer
from smoa_services.llm import ChatModel
from smoa_services.server import Server

SERVICE_NAME = judge_pb2.DESCRIPTOR.services_by_name["JudgeService"].full_name


def create_server(settings: Settings, provider: TracerProvider, chat: ChatModel | None = None) -> Server:
    # Prompts and answers are recorded (on the LLM spans) only when the operator opts in.
    model = chat or ChatModel(settings, telemetry.tracer(provider), telemetry.capture_content())

    def register(server: grpc.aio.Server) -> Sequence[str]:
        judge_pb2_grpc.add_JudgeServiceServicer_to_server(JudgeServicer(settings, model), server)
        return [SERVICE_NAME]

    server = Server("judge", settings, provider, register)
    if chat is None:
        server.on_stop.append(model.close)  # only what this function opened
    return server


__all__ = ["SERVICE_NAME", "create_server"]
