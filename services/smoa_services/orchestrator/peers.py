"""The ports over gRPC: the proposer, judge and moderator services, bound to one request (its
conversation and its deadline). Every call takes min(time the caller has left, call_budget_seconds), since
grpc Python does not pass the incoming deadline on; errors become the ports' exceptions, naming the peer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from smoa.v1 import (
    common_pb2,
    judge_pb2,
    judge_pb2_grpc,
    moderator_pb2,
    moderator_pb2_grpc,
    proposer_pb2,
    proposer_pb2_grpc,
)
from smoa_services.config import Settings
from smoa_services.deadline import Deadline
from smoa_services.llm import ModelChoice
from smoa_services.orchestrator import wire
from smoa_services.orchestrator.ports import (
    JudgeCall,
    Judgement,
    Moderation,
    PeerDeadlineExceeded,
    PeerFailed,
    Peers,
    PeerUnavailable,
    Proposal,
)
from smoa_services.orchestrator.records import Candidate, Decision

Reply = TypeVar("Reply")

# Worth a retry by the caller: the peer is down, overloaded, or its own LLM backend is.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED}


@dataclass(frozen=True)
class PeerStubs:
    proposer: proposer_pb2_grpc.ProposerServiceAsyncStub
    judge: judge_pb2_grpc.JudgeServiceAsyncStub
    moderator: moderator_pb2_grpc.ModeratorServiceAsyncStub


class _Call:
    def __init__(self, deadline: Deadline, budget_seconds: float):
        self.deadline = deadline
        self.budget_seconds = budget_seconds

    async def __call__(
        self, peer: str, start: Callable[[float], grpc.aio.UnaryUnaryCall[Any, Reply]]
    ) -> Reply:
        try:
            return await start(self.deadline.timeout(self.budget_seconds))
        except grpc.aio.AioRpcError as e:
            code = e.code()
            if code in RETRYABLE:
                raise PeerUnavailable(peer, e.details() or code.name) from e
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise PeerDeadlineExceeded(peer) from e
            raise PeerFailed(peer, code.name, e.details() or "") from e


def candidates(items: Sequence[Candidate]) -> list[common_pb2.Candidate]:
    return [common_pb2.Candidate(id=c.id, text=c.text, agent=c.agent) for c in items]


class GrpcProposers:
    def __init__(
        self,
        stub: proposer_pb2_grpc.ProposerServiceAsyncStub,
        messages: Sequence[common_pb2.ChatMessage],
        call: _Call,
    ):
        self.stub, self.messages, self.call = stub, messages, call

    async def propose(self, role: str, references: Sequence[Candidate], model: ModelChoice) -> Proposal:
        request = proposer_pb2.ProposeRequest(
            messages=self.messages,
            role=role,
            references=candidates(references),
            model=wire.model_settings(model),
        )
        reply = await self.call("proposer", lambda timeout: self.stub.Propose(request, timeout=timeout))
        return Proposal(reply.text, wire.usage_back(reply.usage), reply.model)


class GrpcJudge:
    def __init__(
        self,
        stub: judge_pb2_grpc.JudgeServiceAsyncStub,
        messages: Sequence[common_pb2.ChatMessage],
        call: _Call,
    ):
        self.stub, self.messages, self.call = stub, messages, call

    async def judge(self, call: JudgeCall) -> Judgement:
        request = judge_pb2.JudgeRequest(
            messages=self.messages,
            candidates=candidates(call.candidates),
            k=call.k,
            aggregation=call.aggregation,  # type: ignore[arg-type]  # the judge's enum value, passed through
            selection=call.selection,  # type: ignore[arg-type]
            model=wire.model_settings(call.model),
            passes=call.passes,
            seed=call.seed or 0,
            fused=call.fused,
            layer=call.layer,
            max_layers=call.max_layers,
        )
        reply = await self.call("judge", lambda timeout: self.stub.Judge(request, timeout=timeout))
        return Judgement(
            kept_ids=list(reply.kept_ids),
            scores=[(s.id, s.score) for s in reply.scores],
            duplicate_ids=[m for c in reply.clusters for m in c.member_ids if m != c.representative_id],
            usage=wire.usage_back(reply.usage),
            fallback=reply.fallback,
            decision=wire.DECISIONS_BACK.get(reply.decision, Decision.UNSPECIFIED),
            reason=reply.reason,
            agreement=reply.agreement,
        )


class GrpcModerator:
    def __init__(
        self,
        stub: moderator_pb2_grpc.ModeratorServiceAsyncStub,
        messages: Sequence[common_pb2.ChatMessage],
        call: _Call,
    ):
        self.stub, self.messages, self.call = stub, messages, call

    async def moderate(
        self, kept: Sequence[Candidate], layer: int, max_layers: int, model: ModelChoice
    ) -> Moderation:
        request = moderator_pb2.ModerateRequest(
            messages=self.messages,
            kept=candidates(kept),
            layer=layer,
            max_layers=max_layers,
            model=wire.model_settings(model),
        )
        reply = await self.call("moderator", lambda timeout: self.stub.Moderate(request, timeout=timeout))
        return Moderation(
            decision=wire.DECISIONS_BACK.get(reply.decision, Decision.UNSPECIFIED),
            reason=reply.reason,
            agreement=reply.agreement,
            usage=wire.usage_back(reply.usage),
            llm_used=reply.llm_used,
        )


def grpc_peers(
    stubs: PeerStubs, messages: Sequence[common_pb2.ChatMessage], deadline: Deadline, settings: Settings
) -> Peers:
    call = _Call(deadline, settings.call_budget_seconds)
    return Peers(
        GrpcProposers(stubs.proposer, messages, call),
        GrpcJudge(stubs.judge, messages, call),
        GrpcModerator(stubs.moderator, messages, call),
    )
