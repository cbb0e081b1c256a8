"""The orchestrator service: runs SMoA, dense MoA or a single model over the proposer, judge and moderator
services and streams the final answer."""

from __future__ import annotations

from pathlib import Path

from grpc_health.v1 import health_pb2_grpc

from smoa.v1 import (
    judge_pb2_grpc,
    moderator_pb2_grpc,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
    proposer_pb2_grpc,
)
from smoa_services.access.watched_file import WatchedFile
from smoa_services.config import Settings
from smoa_services.ensemble.agent_ranking import AgentRanking
from smoa_services.llm import ChatModel
from smoa_services.orchestrator.agent_standing import AgentStanding
from smoa_services.orchestrator.answer_metrics import AnswerMetrics
from smoa_services.orchestrator.peer_readiness import PeerReadiness
from smoa_services.orchestrator.peers import PeerCalls, PeerStubs
from smoa_services.orchestrator.pipeline import Pipeline
from smoa_services.orchestrator.quorum import StragglerWait
from smoa_services.orchestrator.quota import STORE_SECONDS, Quotas, quota_file
from smoa_services.orchestrator.quota_counters import Counters, MemoryCounters, RedisCounters
from smoa_services.orchestrator.roles import RoleWriter
from smoa_services.orchestrator.servicer import OrchestratorServicer
from smoa_services.platform.channel import channel, peer_metadata
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry

SERVICE_NAME = orchestrator_pb2.DESCRIPTOR.services_by_name["OrchestratorService"].full_name


def create_server(settings: Settings, telemetry: Telemetry, chat: ChatModel | None = None) -> Server:
    model = chat or ChatModel(settings, telemetry)
    targets = {
        "proposer": settings.proposer_target,
        "judge": settings.judge_target,
        "moderator": settings.moderator_target,
    }
    channels = [
        channel(target, settings, telemetry, server_name=settings.server_name(peer))
        for peer, target in targets.items()
    ]
    # To the same replicas, the unready ones included: where to ask why none is ready (connects on first use).
    # Only health goes over them, which is never authenticated: no peer token of their own to watch.
    unchecked = {
        peer: channel(
            target,
            settings,
            telemetry,
            with_peer_token=False,
            health_checked=False,
            server_name=settings.server_name(peer),
        )
        for peer, target in targets.items()
    }
    readiness = PeerReadiness({peer: health_pb2_grpc.HealthStub(c) for peer, c in unchecked.items()})
    stubs = PeerStubs(
        proposer_pb2_grpc.ProposerServiceStub(channels[0]),
        judge_pb2_grpc.JudgeServiceStub(channels[1]),
        moderator_pb2_grpc.ModeratorServiceStub(channels[2]),
    )
    agents = AgentStanding(
        AgentRanking(settings.agent_ranking_half_life_seconds),
        Path(settings.agent_ranking_file) if settings.agent_ranking_file else None,
        telemetry.instruments,
    )
    agents.load()
    pipeline = Pipeline(
        model,
        RoleWriter(model, settings.role_cache_size, settings.max_role_chars),
        telemetry.tracer,
        llm_budget_seconds=settings.llm_timeout_seconds,
        straggler_wait=StragglerWait(
            settings.straggler_wait_factor,
            settings.straggler_min_wait_seconds,
            settings.straggler_max_wait_seconds,
        ),
        max_prompt_chars=settings.max_prompt_chars,
        capture_content=telemetry.capture_content,
        agents=agents,
    )

    counters: Counters = (
        RedisCounters(settings.redis_url, STORE_SECONDS) if settings.redis_url else MemoryCounters()
    )
    book = WatchedFile(settings.quota_file, quota_file).value if settings.quota_file else dict
    quotas = Quotas(book, counters, fail_open=settings.quota_fail_open)

    def register(server: Server) -> list[str]:
        servicer = OrchestratorServicer(
            settings,
            PeerCalls(stubs, settings, readiness, peer_metadata(settings)),
            pipeline,
            server.drain,
            AnswerMetrics(telemetry.instruments),
            quotas,
        )
        orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(servicer, server.server)
        return [SERVICE_NAME]

    server = Server("orchestrator", settings, telemetry, register)
    server.watch(model)
    server.on_stop += [c.close for c in [*channels, *unchecked.values()]]

    async def save_ranking() -> None:
        agents.save()

    server.on_stop.append(save_ranking)
    if isinstance(counters, RedisCounters):
        server.on_stop.append(counters.close)
    if chat is None:
        server.on_stop.append(model.close)  # only what this function opened
    return server
