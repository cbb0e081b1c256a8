"""smoa.v1 protobuf messages → the SDK's plain Python types. The only place that reads generated messages
on the way in, so the public surface never shows protobuf."""

from __future__ import annotations

from google.protobuf import duration_pb2

from smoa.events import Progress, Stage, StreamEvent, Summary, Token
from smoa.result import (
    AgentFailure,
    Candidate,
    Cost,
    Decision,
    Degradation,
    FailureKind,
    Layer,
    Mode,
    Result,
    StageCost,
    Step,
    StopReason,
    Usage,
)
from smoa.tools import ToolCall
from smoa.v1 import common_pb2, orchestrator_pb2

MODES = {
    orchestrator_pb2.MODE_UNSPECIFIED: Mode.SMOA,  # the contract's default
    orchestrator_pb2.MODE_SMOA: Mode.SMOA,
    orchestrator_pb2.MODE_MOA: Mode.MOA,
    orchestrator_pb2.MODE_SINGLE: Mode.SINGLE,
    orchestrator_pb2.MODE_AUTO: Mode.AUTO,
}
STOP_REASONS = {
    common_pb2.STOP_REASON_FIXED_LAYERS: StopReason.FIXED_LAYERS,
    common_pb2.STOP_REASON_MAX_LAYERS: StopReason.MAX_LAYERS,
    common_pb2.STOP_REASON_CONSENSUS: StopReason.CONSENSUS,
    common_pb2.STOP_REASON_MODERATOR: StopReason.MODERATOR,
    common_pb2.STOP_REASON_TOKEN_BUDGET: StopReason.TOKEN_BUDGET,
    common_pb2.STOP_REASON_DEADLINE: StopReason.DEADLINE,
}
FAILURE_KINDS = {
    orchestrator_pb2.AgentFailure.KIND_FAILED: FailureKind.FAILED,
    orchestrator_pb2.AgentFailure.KIND_TIMED_OUT: FailureKind.TIMED_OUT,
    orchestrator_pb2.AgentFailure.KIND_CUT_OFF: FailureKind.CUT_OFF,
}
DECISIONS = {common_pb2.DECISION_STOP: Decision.STOP, common_pb2.DECISION_CONTINUE: Decision.CONTINUE}
STAGES = {
    orchestrator_pb2.Progress.STAGE_ROLES_READY: Stage.ROLES_READY,
    orchestrator_pb2.Progress.STAGE_PROPOSALS_DONE: Stage.PROPOSALS_DONE,
    orchestrator_pb2.Progress.STAGE_JUDGED: Stage.JUDGED,
    orchestrator_pb2.Progress.STAGE_MODERATED: Stage.MODERATED,
    orchestrator_pb2.Progress.STAGE_AGGREGATING: Stage.AGGREGATING,
}


def seconds(duration: duration_pb2.Duration) -> float:
    return duration.ToNanoseconds() / 1e9


def timings(items: list[common_pb2.Timing]) -> dict[str, float]:
    found: dict[str, float] = {}
    for t in items:  # a stage named twice (none is today) adds up rather than losing one
        found[t.stage] = found.get(t.stage, 0.0) + seconds(t.duration)
    return found


def usage(message: common_pb2.Usage) -> Usage:
    return Usage(message.input_tokens, message.output_tokens, message.calls, message.estimated)


def layer(trace: orchestrator_pb2.LayerTrace) -> Layer:
    return Layer(
        layer=trace.layer,
        candidates=[Candidate(c.id, c.text, c.agent) for c in trace.candidates],
        kept_ids=list(trace.kept_ids),
        scores={s.id: s.score for s in trace.scores},
        duplicate_ids=list(trace.duplicate_ids),
        decision=DECISIONS.get(trace.decision),
        reason=trace.reason,
        agreement=trace.agreement,
        judge_fallback=trace.judge_fallback,
        timings=timings(list(trace.timings)),
        failures=[
            AgentFailure(
                f.id,
                f.index,
                FAILURE_KINDS.get(f.kind, FailureKind.UNSPECIFIED),
                f.code,
                f.detail,
                seconds(f.elapsed),
            )
            for f in trace.failures
        ],
        moderator_fallback=trace.moderator_fallback,
    )


def result(response: orchestrator_pb2.GenerateResponse) -> Result:
    return Result(
        text=response.text,
        mode=MODES.get(response.mode, Mode.SMOA),
        layers=[layer(t) for t in response.layers],
        stop_reason=STOP_REASONS.get(response.stop_reason, StopReason.UNSPECIFIED),
        cost=Cost(
            stages=[StageCost(s.stage, s.layer, usage(s.usage)) for s in response.cost.stages],
            total=usage(response.cost.total),
        ),
        timings=timings(list(response.timings)),
        roles=list(response.roles),
        model=response.model,
        degradations=[Degradation(d.stage, d.layer, d.reason) for d in response.degradations],
        steps=[Step(s.layer, s.action, s.reason) for s in response.steps],
        tool_calls=tuple(ToolCall(c.id, c.name, c.arguments) for c in response.tool_calls),
    )


def event(message: orchestrator_pb2.GenerateStreamResponse) -> StreamEvent | None:
    """None for an event kind newer than this client (skipped rather than failing the stream)."""
    kind = message.WhichOneof("event")
    if kind == "progress":
        p = message.progress
        return Progress(STAGES.get(p.stage, Stage.UNSPECIFIED), p.layer, layer(p.trace), seconds(p.elapsed))
    if kind == "token":
        return Token(message.token)
    if kind == "summary":
        return Summary(result(message.summary))
    return None
