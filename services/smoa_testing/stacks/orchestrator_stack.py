"""The orchestrator under test with its three peers, all on 127.0.0.1:0 in this process and sharing one
Telemetry (so one Generate is one trace in one in-memory exporter, and its metrics are in one reader).
The peers are the real services or scripted gRPC fakes; every LLM call goes to one scripted FakeOpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from smoa.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services import judge, moderator, orchestrator, proposer
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry

CreateServer = Callable[[Settings, Telemetry, ChatModel | None], Server]

REAL_PEERS: dict[str, CreateServer] = {
    "proposer": proposer.create_server,
    "judge": judge.create_server,
    "moderator": moderator.create_server,
}


# Orchestrator settings for a test of the calls SMoA makes when it skips none (the judge of agreeing
# answers, the aggregator over one answer): the scripted peers often agree.
EVERY_CALL: dict[str, Any] = {"skip_judge_on_consensus": False, "skip_synthesis_on_agreement": False}


def question(text: str = "What is 6 times 7?") -> list[common_pb2.ChatMessage]:
    return [common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content=text)]


@dataclass
class Stack:
    stub: orchestrator_pb2_grpc.OrchestratorServiceAsyncStub
    channel: grpc.aio.Channel
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    port: int

    def finished(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]


@asynccontextmanager
async def orchestrator_stack(
    base_url: str,
    peers: Mapping[str, CreateServer] = REAL_PEERS,
    llm_timeout_seconds: float = 5.0,
    peer_settings: Mapping[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[Stack]:
    """``settings`` are the orchestrator's; ``peer_settings`` the three peers'."""
    # No SDK retries and short timeouts keep failure tests fast.
    common: dict[str, Any] = {
        "port": 0,
        "llm_base_url": base_url,
        "llm_max_retries": 0,
        "llm_timeout_seconds": llm_timeout_seconds,
    }
    spans = InMemorySpanExporter()
    metrics = InMemoryMetricReader()
    telemetry = Telemetry.load("test", [SimpleSpanProcessor(spans)], [metrics], environ={})
    started: list[Server] = []
    try:
        targets: dict[str, Any] = {}
        for name, create in peers.items():
            server = create(Settings(**common, **(peer_settings or {})), telemetry, None)
            started.append(server)
            targets[f"{name}_target"] = f"dns:///127.0.0.1:{await server.start()}"
        front = orchestrator.create_server(Settings(**common, **targets, **settings), telemetry, None)
        started.append(front)
        port = await front.start()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Stack(orchestrator_pb2_grpc.OrchestratorServiceStub(channel), channel, spans, metrics, port)
    finally:
        for server in reversed(started):
            await server.stop(0)


async def collect(
    stack: Stack, request: orchestrator_pb2.GenerateRequest, timeout: float = 10
) -> list[orchestrator_pb2.GenerateStreamResponse]:
    return [m async for m in stack.stub.GenerateStream(request, timeout=timeout)]
