"""Between smoa.v1 messages and the orchestrator's plain types: a validated GenerateRequest becomes a Plan
(every default filled in), and the pipeline's records and events become responses."""

from __future__ import annotations

import dataclasses

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services import convert
from smoa_services.config import Settings
from smoa_services.decision import decision_to_wire
from smoa_services.llm import ModelChoice
from smoa_services.orchestrator.cost import CostLedger, Usage
from smoa_services.orchestrator.plan import Mode, Plan, proposer_seed
from smoa_services.orchestrator.quorum import Missing, MissingKind, default_quorum
from smoa_services.orchestrator.records import (
    Degradation,
    Event,
    Finished,
    LayerRecord,
    Progress,
    Result,
    Stage,
    StopReason,
    Token,
)

MODES = {
    orchestrator_pb2.MODE_UNSPECIFIED: Mode.SMOA,
    orchestrator_pb2.MODE_SMOA: Mode.SMOA,
    orchestrator_pb2.MODE_MOA: Mode.MOA,
    orchestrator_pb2.MODE_SINGLE: Mode.SINGLE,
    orchestrator_pb2.MODE_AUTO: Mode.AUTO,
}
MODE_VALUES = {
    Mode.SMOA: orchestrator_pb2.MODE_SMOA,
    Mode.MOA: orchestrator_pb2.MODE_MOA,
    Mode.SINGLE: orchestrator_pb2.MODE_SINGLE,
    Mode.AUTO: orchestrator_pb2.MODE_AUTO,
}
STOP_REASONS = {
    StopReason.FIXED_LAYERS: common_pb2.STOP_REASON_FIXED_LAYERS,
    StopReason.MAX_LAYERS: common_pb2.STOP_REASON_MAX_LAYERS,
    StopReason.CONSENSUS: common_pb2.STOP_REASON_CONSENSUS,
    StopReason.MODERATOR: common_pb2.STOP_REASON_MODERATOR,
    StopReason.TOKEN_BUDGET: common_pb2.STOP_REASON_TOKEN_BUDGET,
    StopReason.DEADLINE: common_pb2.STOP_REASON_DEADLINE,
}
MISSING_KINDS = {
    MissingKind.FAILED: orchestrator_pb2.AgentFailure.KIND_FAILED,
    MissingKind.TIMED_OUT: orchestrator_pb2.AgentFailure.KIND_TIMED_OUT,
    MissingKind.CUT_OFF: orchestrator_pb2.AgentFailure.KIND_CUT_OFF,
}
STAGES = {
    Stage.ROLES_READY: orchestrator_pb2.Progress.STAGE_ROLES_READY,
    Stage.PROPOSALS_DONE: orchestrator_pb2.Progress.STAGE_PROPOSALS_DONE,
    Stage.JUDGED: orchestrator_pb2.Progress.STAGE_JUDGED,
    Stage.MODERATED: orchestrator_pb2.Progress.STAGE_MODERATED,
    Stage.AGGREGATING: orchestrator_pb2.Progress.STAGE_AGGREGATING,
}


def effective_n(request: orchestrator_pb2.GenerateRequest, settings: Settings) -> int:
    return request.n or settings.n


def plan_of(request: orchestrator_pb2.GenerateRequest, settings: Settings) -> Plan:
    """The plan of a request that passed checks.check_request."""
    n = effective_n(request, settings)
    seed = request.seed or None  # uint64 without presence: 0 means "not set"
    overrides = {a.index: a.model for a in request.agents}
    proposer_models = []
    for i in range(n):
        override = overrides.get(i, common_pb2.ModelSettings())
        choice = convert.model_choice(override, fallback=request.model)
        # The request seed varies per proposer; a seed set on the agent itself is taken as given.
        if seed is not None and not override.HasField("seed"):
            choice = dataclasses.replace(choice, seed=proposer_seed(seed, i))
        proposer_models.append(choice)
    source = request.WhichOneof("role_source")
    k = request.k or min(settings.k, n)
    return Plan(
        conversation=tuple(convert.chat_messages(request.messages)),
        mode=MODES[request.mode],
        n=n,
        k=k,
        quorum=min(n, request.quorum or settings.quorum or default_quorum(n, k)),
        max_layers=request.max_layers or settings.max_layers,
        proposer_models=tuple(proposer_models),
        model=convert.model_choice(request.model),
        roles=tuple(request.roles.roles) if source == "roles" else (),
        task_description=request.task_description if source == "task_description" else "",
        default_roles=tuple(settings.default_roles()),
        fused_judge_moderator=request.fused_judge_moderator,
        token_budget=request.token_budget or settings.default_token_budget,
        seed=seed,
        aggregation=request.aggregation,
        selection=request.selection,
        judge_passes=settings.judge_passes,
        skip_judge_on_consensus=_chosen(
            request.skips, "judge_on_consensus", settings.skip_judge_on_consensus
        ),
        skip_synthesis_on_agreement=_chosen(
            request.skips, "synthesis_on_agreement", settings.skip_synthesis_on_agreement
        ),
        consensus_threshold=settings.consensus_threshold,
        panel=min(settings.auto_panel, n),
    )


def _chosen(skips: orchestrator_pb2.Skips, field: str, default: bool) -> bool:
    """The request's choice where it made one, else the service's."""
    return bool(getattr(skips, field)) if skips.HasField(field) else default  # type: ignore[arg-type]


def model_settings(choice: ModelChoice) -> common_pb2.ModelSettings:
    settings = common_pb2.ModelSettings(model=choice.model, backend=choice.backend)
    if choice.temperature is not None:
        settings.temperature = choice.temperature
    if choice.max_tokens is not None:
        settings.max_tokens = choice.max_tokens
    if choice.seed is not None:
        settings.seed = choice.seed
    return settings


def usage(u: Usage) -> common_pb2.Usage:
    return common_pb2.Usage(
        input_tokens=u.input_tokens, output_tokens=u.output_tokens, calls=u.calls, estimated=u.estimated
    )


def usage_back(u: common_pb2.Usage) -> Usage:
    return Usage(u.input_tokens, u.output_tokens, u.calls, u.estimated)


def timings(items: list[tuple[str, float]]) -> list[common_pb2.Timing]:
    return [common_pb2.Timing(stage=stage, duration=convert.duration(s)) for stage, s in items]


def layer_trace(record: LayerRecord) -> orchestrator_pb2.LayerTrace:
    return orchestrator_pb2.LayerTrace(
        layer=record.layer,
        candidates=[common_pb2.Candidate(id=c.id, text=c.text, agent=c.agent) for c in record.candidates],
        kept_ids=record.kept_ids,
        scores=[common_pb2.CandidateScore(id=i, score=s) for i, s in record.scores],
        duplicate_ids=record.duplicate_ids,
        decision=decision_to_wire(record.decision),
        reason=record.reason,
        agreement=record.agreement,
        judge_fallback=record.judge_fallback,
        timings=timings(record.timings),
        failures=[agent_failure(record.layer, m) for m in record.failures],
        moderator_fallback=record.moderator_fallback,
    )


def agent_failure(layer: int, missing: Missing) -> orchestrator_pb2.AgentFailure:
    return orchestrator_pb2.AgentFailure(
        id=f"L{layer}-P{missing.index}",
        index=missing.index,
        kind=MISSING_KINDS[missing.kind],
        code=missing.code,
        detail=missing.detail,
        elapsed=convert.duration(missing.elapsed),
    )


def degradation(d: Degradation) -> orchestrator_pb2.Degradation:
    return orchestrator_pb2.Degradation(stage=d.stage, layer=d.layer, reason=d.reason)


def cost(ledger: CostLedger) -> orchestrator_pb2.Cost:
    return orchestrator_pb2.Cost(
        stages=[
            orchestrator_pb2.StageCost(stage=s.stage, layer=s.layer, usage=usage(s.usage))
            for s in ledger.stages()
        ],
        total=usage(ledger.total()),
    )


def response(result: Result) -> orchestrator_pb2.GenerateResponse:
    return orchestrator_pb2.GenerateResponse(
        text=result.text,
        mode=MODE_VALUES[result.mode],
        layers=[layer_trace(r) for r in result.layers],
        stop_reason=STOP_REASONS[result.stop_reason],
        cost=cost(result.cost),
        timings=timings(result.timings),
        roles=result.roles,
        model=result.model,
        degraded=result.degraded,
        degradations=[degradation(d) for d in result.degradations],
        steps=[orchestrator_pb2.Step(layer=s.layer, action=s.action, reason=s.reason) for s in result.steps],
    )


def stream_message(event: Event) -> orchestrator_pb2.GenerateStreamResponse:
    if isinstance(event, Token):
        return orchestrator_pb2.GenerateStreamResponse(token=event.text)
    if isinstance(event, Finished):
        return orchestrator_pb2.GenerateStreamResponse(summary=response(event.result))
    return orchestrator_pb2.GenerateStreamResponse(progress=progress(event))


def progress(event: Progress) -> orchestrator_pb2.Progress:
    message = orchestrator_pb2.Progress(
        stage=STAGES[event.stage], layer=event.layer, elapsed=convert.duration(event.elapsed)
    )
    if event.trace is not None:
        message.trace.CopyFrom(layer_trace(event.trace))
    return message
