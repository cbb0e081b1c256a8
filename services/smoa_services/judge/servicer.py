"""JudgeService over gRPC: validate, run the Judge policy with a deadline-bound LLM, map the outcome. An LLM
that fails or answers nonsense is the policy's to fall back from (policy.py)."""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry import trace

from smoa.v1 import common_pb2, judge_pb2, judge_pb2_grpc
from smoa_services.config import Settings
from smoa_services.ensemble.decision import decision_to_wire
from smoa_services.judge.policy import Judge, JudgeOutcome
from smoa_services.judge.request import judge_task
from smoa_services.llm import ChatModel
from smoa_services.llm.usage import Usage
from smoa_services.platform.drain import Drain
from smoa_services.telemetry import attributes
from smoa_services.wire import convert

Context = grpc.aio.ServicerContext[Any, Any]


def judge_response(outcome: JudgeOutcome) -> judge_pb2.JudgeResponse:
    return judge_pb2.JudgeResponse(
        ranking=outcome.ranking,
        scores=[common_pb2.CandidateScore(id=i, score=outcome.scores[i]) for i in outcome.ranking],
        kept_ids=outcome.kept_ids,
        ballots=[
            judge_pb2.Ballot(
                scores=[common_pb2.CandidateScore(id=i, score=s) for i, s in b.scores.items()],
                failed=b.failed,
                error=b.error,
            )
            for b in outcome.ballots
        ],
        clusters=[
            judge_pb2.Cluster(representative_id=c.representative_id, member_ids=c.member_ids)
            for c in outcome.clusters
        ],
        usage=convert.usage(Usage.of(outcome.completions)),
        fallback=outcome.fallback,
        decision=decision_to_wire(outcome.decision),
        reason=outcome.reason,
        agreement=outcome.agreement,
    )


class JudgeServicer(judge_pb2_grpc.JudgeServiceServicer):
    def __init__(self, settings: Settings, chat: ChatModel, drain: Drain):
        self.settings = settings
        self.chat = chat
        self.drain = drain
        self.policy = Judge()

    async def Judge(self, request: judge_pb2.JudgeRequest, context: Context) -> judge_pb2.JudgeResponse:
        task = judge_task(request, self.settings)
        span = trace.get_current_span()
        span.set_attribute(attributes.LAYER, request.layer)
        span.set_attribute(attributes.K, request.k)
        span.set_attribute(attributes.CANDIDATE_COUNT, len(request.candidates))
        ask = self.chat.json_caller(
            convert.model_choice(request.model),
            self.drain.deadline(context),
            self.settings.llm_timeout_seconds,
        )
        outcome = await self.policy.judge(task, ask)
        span.set_attribute(attributes.KEPT_IDS, outcome.kept_ids)
        span.set_attribute(attributes.DEDUP_REMOVED, outcome.dedup_removed)
        span.set_attribute(attributes.JUDGE_FALLBACK, outcome.fallback)
        span.set_attribute(attributes.JUDGE_PASSES_FAILED, sum(b.failed for b in outcome.ballots))
        span.set_attribute(attributes.AGREEMENT, outcome.agreement)
        if outcome.decision:
            span.set_attribute(attributes.DECISION, outcome.decision.value)
        return judge_response(outcome)
