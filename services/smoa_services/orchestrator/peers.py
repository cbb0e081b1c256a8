"""The ports over gRPC: the proposer, judge and moderator services, bound to one request (its
conversation and its timeline). Every call takes its budget within the time the request has left before
the aggregator's reserve (grpc Python does not pass the incoming deadline on). A peer's error status comes
back as a PeerFailure with its code and details kept. Judge and moderator calls, each a single point of a
layer, may be hedged: a second RPC, which round_robin sends to another replica, after a set delay or the
peer's observed p95; the first answer wins and the loser's estimated cost is counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from grpc_status import rpc_status

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
from smoa_services.ensemble.decision import decision_from_wire
from smoa_services.ensemble.ranking_methods import aggregation_to_wire, selection_to_wire
from smoa_services.llm import ModelChoice
from smoa_services.llm.usage import Usage
from smoa_services.orchestrator.peer_readiness import PeerReadiness
from smoa_services.orchestrator.ports import JudgeCall, Judgement, Moderation, Peers, Proposal
from smoa_services.orchestrator.prompt_room import fitted, room_for_answers
from smoa_services.orchestrator.records import Candidate
from smoa_services.orchestrator.timeline import Timeline
from smoa_services.platform.channel import Metadata, PeerMetadata
from smoa_services.rpc.failure import Failure, PeerFailure
from smoa_services.timing.attempts import AttemptPolicy, OutOfBudget, first_success
from smoa_services.timing.latency import LatencyWindow, hedge_delay
from smoa_services.wire import convert
from smoa_services.wire.validation import conversation_chars

Reply = TypeVar("Reply")
# A peer call, started with its timeout and metadata.
Start = Callable[[float, Metadata], grpc.aio.UnaryUnaryCall[Any, Reply]]


@dataclass(frozen=True)
class PeerStubs:
    proposer: proposer_pb2_grpc.ProposerServiceAsyncStub
    judge: judge_pb2_grpc.JudgeServiceAsyncStub
    moderator: moderator_pb2_grpc.ModeratorServiceAsyncStub


class PeerCalls:
    """What outlives a request: the stubs, the recent latencies of judge and moderator calls, and where to
    ask why a peer has no replica ready."""

    def __init__(
        self,
        stubs: PeerStubs,
        settings: Settings,
        readiness: PeerReadiness | None = None,
        metadata: Callable[[], Metadata] | None = None,
    ):
        self.stubs = stubs
        self.settings = settings
        self.readiness = readiness or PeerReadiness({})
        # What each call carries (channel.py): whom it is for, and this process's token.
        self.metadata = metadata or PeerMetadata()
        self.latency = {"judge": LatencyWindow(), "moderator": LatencyWindow()}

    def for_request(
        self,
        messages: Sequence[common_pb2.ChatMessage],
        timeline: Timeline,
        response_format: common_pb2.ResponseFormat | None = None,
    ) -> Peers:
        call = _Call(self, timeline)
        conversation = conversation_chars(messages)
        room = room_for_answers(conversation, self.settings.max_prompt_chars, self.settings.max_role_chars)
        answer_format = response_format or common_pb2.ResponseFormat()
        return Peers(
            GrpcProposers(self.stubs.proposer, messages, call, room, answer_format),
            GrpcJudge(self.stubs.judge, messages, call, room),
            GrpcModerator(self.stubs.moderator, messages, call, room),
        )


class _Call:
    def __init__(self, calls: PeerCalls, timeline: Timeline):
        self.calls = calls
        self.timeline = timeline

    async def once(self, peer: str, start: Start[Reply], timeout: float | None = None) -> Reply:
        budget = (
            self.timeline.call_timeout(self.calls.settings.call_budget_seconds)
            if timeout is None
            else timeout
        )
        started = time.perf_counter()
        try:
            reply = await start(budget, self.calls.metadata())
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.UNAVAILABLE and rpc_status.from_call(e) is None:  # type: ignore[arg-type]
                # gRPC's own UNAVAILABLE, not a replica's: perhaps none was ready; they say why.
                left = budget - (time.perf_counter() - started)
                not_ready = await self.calls.readiness.explain(peer, left)
                if not_ready is not None:
                    raise not_ready from e
            raise PeerFailure(peer, e) from e
        if peer in self.calls.latency:
            self.calls.latency[peer].observe(time.perf_counter() - started)
        return reply

    async def hedged(self, peer: str, start: Start[Reply]) -> tuple[Reply, int]:
        """The reply, and how many attempts were abandoned for it (0 without a hedge)."""
        delay = hedge_delay(self.calls.settings.peer_hedge_after, self.calls.latency[peer])
        if delay is None:
            return await self.once(peer, start), 0
        loop = asyncio.get_running_loop()
        timeout = self.timeline.call_timeout(self.calls.settings.call_budget_seconds)
        until = loop.time() + timeout

        async def attempt(_: int) -> Reply:
            return await self.once(peer, start, max(0.0, until - loop.time()))

        try:
            # gRPC's retryPolicy already retried UNAVAILABLE: a failure here is final, unless the other
            # attempt still out answers.
            outcome = await first_success(
                attempt, AttemptPolicy(max_attempts=2, hedge_after=delay), until, lambda error: None
            )
        except OutOfBudget as e:
            message = f"{peer} service: no answer within {timeout:.2f}s"
            raise Failure(message, grpc.StatusCode.DEADLINE_EXCEEDED, "PEER_TIMEOUT", out_of_time=True) from e
        return outcome.value, outcome.abandoned


def hedge_cost(usage: Usage, abandoned: int) -> Usage:
    """What a call cost with the attempts abandoned for it, each counted as the winner's, estimated."""
    if not abandoned:
        return usage
    extra = Usage(usage.input_tokens * abandoned, 0, usage.calls * abandoned, estimated=True)
    return usage + extra


class GrpcProposers:
    def __init__(
        self,
        stub: proposer_pb2_grpc.ProposerServiceAsyncStub,
        messages: Sequence[common_pb2.ChatMessage],
        call: _Call,
        room: int,
        response_format: common_pb2.ResponseFormat,
    ):
        self.stub, self.messages, self.call, self.room = stub, messages, call, room
        self.response_format = response_format

    async def propose(self, role: str, references: Sequence[Candidate], model: ModelChoice) -> Proposal:
        request = proposer_pb2.ProposeRequest(
            messages=self.messages,
            role=role,
            references=fitted(references, self.room),
            model=convert.model_settings(model),
            stop=model.stop,
            response_format=self.response_format,
        )
        reply = await self.call.once(
            "proposer",
            lambda t, m: self.stub.Propose(request, timeout=t, metadata=m),
        )
        return Proposal(reply.text, convert.usage_record(reply.usage), reply.model)


class GrpcJudge:
    def __init__(
        self,
        stub: judge_pb2_grpc.JudgeServiceAsyncStub,
        messages: Sequence[common_pb2.ChatMessage],
        call: _Call,
        room: int,
    ):
        self.stub, self.messages, self.call, self.room = stub, messages, call, room

    async def judge(self, call: JudgeCall) -> Judgement:
        request = judge_pb2.JudgeRequest(
            messages=self.messages,
            candidates=fitted(call.candidates, self.room),
            k=call.k,
            aggregation=aggregation_to_wire(call.aggregation),
            selection=selection_to_wire(call.selection),
            model=convert.model_settings(call.model),
            passes=call.passes,
            seed=call.seed or 0,
            fused=call.decide,
            layer=call.layer,
            max_layers=call.max_layers,
        )
        reply, abandoned = await self.call.hedged(
            "judge", lambda t, m: self.stub.Judge(request, timeout=t, metadata=m)
        )
        return Judgement(
            kept_ids=list(reply.kept_ids),
            scores=[(s.id, s.score) for s in reply.scores],
            duplicate_ids=[m for c in reply.clusters for m in c.member_ids if m != c.representative_id],
            usage=hedge_cost(convert.usage_record(reply.usage), abandoned),
            fallback=reply.fallback,
            decision=decision_from_wire(reply.decision),
            reason=reply.reason,
            agreement=reply.agreement,
        )


class GrpcModerator:
    def __init__(
        self,
        stub: moderator_pb2_grpc.ModeratorServiceAsyncStub,
        messages: Sequence[common_pb2.ChatMessage],
        call: _Call,
        room: int,
    ):
        self.stub, self.messages, self.call, self.room = stub, messages, call, room

    async def moderate(
        self, kept: Sequence[Candidate], layer: int, max_layers: int, model: ModelChoice
    ) -> Moderation:
        request = moderator_pb2.ModerateRequest(
            messages=self.messages,
            kept=fitted(kept, self.room),
            layer=layer,
            max_layers=max_layers,
            model=convert.model_settings(model),
        )
        reply, abandoned = await self.call.hedged(
            "moderator",
            lambda t, m: self.stub.Moderate(request, timeout=t, metadata=m),
        )
        return Moderation(
            decision=decision_from_wire(reply.decision),
            reason=reply.reason,
            agreement=reply.agreement,
            usage=hedge_cost(convert.usage_record(reply.usage), abandoned),
            llm_used=reply.llm_used,
            fallback=reply.fallback,
        )
