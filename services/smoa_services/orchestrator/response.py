"""The pipeline's records and events as smoa.v1 responses: the GenerateResponse, and the stream's tokens,
progress and summary."""

from __future__ import annotations

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.ensemble.decision import decision_to_wire
from smoa_services.orchestrator.cost import CostLedger
from smoa_services.orchestrator.plan import Mode
from smoa_services.orchestrator.quorum import Missing, MissingKind
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
from smoa_services.wire import convert

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
            orchestrator_pb2.StageCost(stage=s.stage, layer=s.layer, usage=convert.usage(s.usage))
            for s in ledger.stages()
        ],
        total=convert.usage(ledger.total()),
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
        tool_calls=[
            common_pb2.ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in result.tool_calls
        ],
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
