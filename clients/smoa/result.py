"""What a generation returns, as plain Python: the answer, each layer's decisions, why it stopped, what it
cost and how long each stage took. Built from the wire by `smoa.from_wire`; nothing here is protobuf."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from smoa.tools import ToolCall


class Mode(str, Enum):
    """Which pipeline runs (the values are what the command line and JSON use)."""

    SMOA = "smoa"  # sparse: the judge keeps k of n, the moderator may stop early
    MOA = "moa"  # dense: every answer goes forward, fixed layers, no judge, no moderator
    SINGLE = "single"  # one model call
    AUTO = "auto"  # two proposers first, answered at once when they agree; else SMOA


class StopReason(str, Enum):
    """Why a generation ended where it did."""

    FIXED_LAYERS = "fixed_layers"  # dense MoA and SINGLE run a fixed number of layers
    MAX_LAYERS = "max_layers"
    CONSENSUS = "consensus"  # the cheap agreement check found consensus; no moderator call
    MODERATOR = "moderator"  # the moderator judged the answers good enough
    TOKEN_BUDGET = "token_budget"
    # Too little time was left before the deadline for another layer.
    DEADLINE = "deadline"
    # Not set, or a reason newer than this client: a newer server must not break an older client.
    UNSPECIFIED = "unspecified"


class Decision(str, Enum):
    """The moderator's word after a layer."""

    STOP = "stop"
    CONTINUE = "continue"


@dataclass(frozen=True)
class Usage:
    """LLM calls and tokens spent; `estimated` when a backend reported no usage and it was counted."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    estimated: bool = False

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.calls + other.calls,
            self.estimated or other.estimated,
        )


@dataclass(frozen=True)
class StageCost:
    """What one stage spent: "roles", "proposer", "judge", "moderator", "aggregator" or "single";
    `layer` is 0 for stages outside the layers."""

    stage: str
    layer: int
    usage: Usage


@dataclass(frozen=True)
class Cost:
    stages: list[StageCost] = field(default_factory=list)
    total: Usage = field(default_factory=Usage)

    def by_stage(self) -> dict[str, Usage]:
        """Usage per stage summed over the layers, in the order the stages first appear."""
        found: dict[str, Usage] = {}
        for stage in self.stages:
            found[stage.stage] = found.get(stage.stage, Usage()) + stage.usage
        return found


@dataclass(frozen=True)
class Candidate:
    """An answer under consideration; `id` is stable across the request ("L1-P3": layer 1, proposer 3)."""

    id: str
    text: str
    # The proposer role that wrote it.
    agent: str = ""


class FailureKind(str, Enum):
    """Why a proposer did not contribute to its layer."""

    FAILED = "failed"  # it answered with an error status (`code`)
    TIMED_OUT = "timed_out"  # its call ran out of budget
    CUT_OFF = "cut_off"  # the quorum had answered and the extra wait for stragglers ran out
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class AgentFailure:
    """A proposer lost from a layer: the candidate id it would have had, its index, why, and when
    (seconds from the start of the layer)."""

    id: str
    index: int
    kind: FailureKind
    code: str = ""
    detail: str = ""
    elapsed: float = 0.0


@dataclass(frozen=True)
class Degradation:
    """A stage that did not work as designed ("roles", "proposer", "judge", "moderator", "aggregator",
    "deadline"), and what was done instead. `layer` is 0 outside the layers."""

    stage: str
    layer: int
    reason: str


@dataclass(frozen=True)
class Step:
    """A call the pipeline left out or added, and why: "judge_skipped" (the layer's answers agreed),
    "moderator_skipped" (the judge's kept answers agreed), "synthesis_skipped" (the final answers agreed,
    or one was left), "panel" and "escalated" (a first layer grown while its answers disagree: AUTO, or
    first_layer_start).
    `layer` is 0 outside the layers."""

    layer: int
    action: str
    reason: str


@dataclass(frozen=True)
class Layer:
    """One layer: what was proposed, what the judge kept and why, and what the moderator decided.
    In a progress event, only the parts decided so far are filled in."""

    layer: int
    candidates: list[Candidate] = field(default_factory=list)
    kept_ids: list[str] = field(default_factory=list)
    # The judge's aggregate score per candidate id (higher is better).
    scores: dict[str, float] = field(default_factory=dict)
    # Ids dropped as near-duplicates before judging.
    duplicate_ids: list[str] = field(default_factory=list)
    # None where no decision was made (dense MoA, or not yet moderated).
    decision: Decision | None = None
    reason: str = ""
    agreement: float = 0.0
    # The judge's reply was unusable and the kept answers were picked by consensus centrality instead.
    judge_fallback: bool = False
    # Seconds per stage of the layer ("proposer", "judge", "moderator").
    timings: dict[str, float] = field(default_factory=dict)
    # Proposers that failed, timed out or were cut off (the layer went on with its quorum).
    failures: list[AgentFailure] = field(default_factory=list)
    # The moderator failed and its rule decided (continue while layers remain).
    moderator_fallback: bool = False

    @property
    def kept(self) -> list[Candidate]:
        by_id = {c.id: c for c in self.candidates}
        return [by_id[i] for i in self.kept_ids if i in by_id]


@dataclass(frozen=True)
class Result:
    """A finished generation."""

    text: str
    mode: Mode
    layers: list[Layer]
    stop_reason: StopReason
    cost: Cost
    # Wall seconds per stage ("roles", "layer 1", ..., "aggregator") and "total".
    timings: dict[str, float]
    # The proposers' roles.
    roles: list[str]
    # The model that wrote the final text.
    model: str
    # What degraded on the way, if anything: the answer was still given.
    degradations: list[Degradation] = field(default_factory=list)
    # Calls left out or added, and why.
    steps: list[Step] = field(default_factory=list)
    # The tools the answer calls (then `text` is ""): run them and send their results back.
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def degraded(self) -> bool:
        return bool(self.degradations)
