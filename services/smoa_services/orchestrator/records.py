"""What the pipeline reports: the record of each layer, the events it emits while running, and the
result. Plain data; the servicer turns it into smoa.v1 messages."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

from smoa_services.ensemble.decision import Decision
from smoa_services.ensemble.tool_use import ToolCall
from smoa_services.orchestrator.cost import CostLedger
from smoa_services.orchestrator.plan import Mode
from smoa_services.orchestrator.quorum import Missing


@dataclass(frozen=True)
class Candidate:
    # "L{layer}-P{index}", index 0-based like GenerateRequest.agents[].index.
    id: str
    text: str
    # The role that wrote it.
    agent: str = ""
    # The model that wrote it, as its endpoint reported ("" when not known).
    model: str = ""


class StopReason(enum.Enum):
    FIXED_LAYERS = "fixed_layers"
    MAX_LAYERS = "max_layers"
    CONSENSUS = "consensus"
    MODERATOR = "moderator"
    TOKEN_BUDGET = "token_budget"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class Step:
    """A call the pipeline left out or added, and why: "judge_skipped", "moderator_skipped",
    "synthesis_skipped", "panel", "escalated", "ranked"."""

    layer: int
    action: str
    reason: str


@dataclass
class LayerRecord:
    layer: int
    candidates: list[Candidate] = field(default_factory=list)
    kept_ids: list[str] = field(default_factory=list)
    scores: list[tuple[str, float]] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)
    # None where no decision was made: dense MoA, the last layer without a fused judge, a layer cut short.
    decision: Decision | None = None
    reason: str = ""
    agreement: float = 0.0
    judge_fallback: bool = False
    # (stage, seconds): "proposer", "judge", "moderator".
    timings: list[tuple[str, float]] = field(default_factory=list)
    # Proposers that failed, timed out or were cut off.
    failures: list[Missing] = field(default_factory=list)
    moderator_fallback: bool = False

    def snapshot(self) -> LayerRecord:
        """A copy for a progress event, so later stages do not change what was already reported."""
        return dataclasses.replace(
            self,
            candidates=list(self.candidates),
            kept_ids=list(self.kept_ids),
            scores=list(self.scores),
            duplicate_ids=list(self.duplicate_ids),
            timings=list(self.timings),
            failures=list(self.failures),
        )


class Stage(enum.Enum):
    ROLES_READY = "roles_ready"
    PROPOSALS_DONE = "proposals_done"
    JUDGED = "judged"
    MODERATED = "moderated"
    AGGREGATING = "aggregating"


@dataclass(frozen=True)
class Degradation:
    """A stage that did not work as designed, and what was done instead."""

    # "roles", "proposer", "judge", "moderator", "aggregator" or "deadline".
    stage: str
    # 0 outside the layers.
    layer: int
    reason: str


@dataclass(frozen=True)
class Progress:
    stage: Stage
    # 0 outside the layers.
    layer: int
    trace: LayerRecord | None
    # Seconds since the request started.
    elapsed: float


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Result:
    text: str
    mode: Mode
    layers: list[LayerRecord]
    stop_reason: StopReason
    cost: CostLedger
    # (stage, seconds): "roles", "layer {i}", "aggregator" or "single", and "total".
    timings: list[tuple[str, float]]
    roles: list[str]
    # The model that wrote the final text.
    model: str
    degradations: list[Degradation] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    # The tools the answer calls (then `text` is "").
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def degraded(self) -> bool:
        return bool(self.degradations)


@dataclass(frozen=True)
class Finished:
    result: Result


Event = Progress | Token | Finished
