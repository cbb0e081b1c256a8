"""What one request asks the pipeline to do, in plain Python: already validated and with every default
filled in, so the policy never looks at the wire or the settings."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

from smoa_services.ensemble.answer_format import AnswerFormat
from smoa_services.ensemble.ranking_methods import Aggregation, Selection
from smoa_services.ensemble.tool_use import ToolUse
from smoa_services.llm import ModelChoice
from smoa_services.llm.completion import Message


class Mode(enum.Enum):
    SMOA = "smoa"
    MOA = "moa"
    SINGLE = "single"
    AUTO = "auto"


@dataclass(frozen=True)
class Plan:
    # OpenAI-style messages, last turn last.
    conversation: tuple[Message, ...]
    mode: Mode
    n: int
    k: int
    max_layers: int
    # One per proposer, per-agent overrides and sampling seeds already applied.
    proposer_models: tuple[ModelChoice, ...]
    # Judge, moderator and role writer (no stop sequences: their replies are JSON).
    model: ModelChoice
    # Where roles come from, first that is set wins: explicit roles (reused in turn), a task description
    # (one LLM call, cached), the configured defaults, the built-in generic roles.
    roles: tuple[str, ...] = ()
    task_description: str = ""
    default_roles: tuple[str, ...] = ()
    fused_judge_moderator: bool = False
    # Total tokens (in + out); 0 = unlimited.
    token_budget: int = 0
    # None: not set; judge shuffles are then seeded at random per layer.
    seed: int | None = None
    # How the judge ranks; None leaves it to the judge's default.
    aggregation: Aggregation | None = None
    selection: Selection | None = None
    judge_passes: int = 1
    # Proposers that must answer for a layer to go on (1..n, the default already applied; 0 = all n).
    quorum: int = 0
    # Calls SMOA and AUTO leave out when they would add nothing (never dense MOA): the judge and moderator
    # of a layer whose answers agree, the aggregator over answers that agree (or over one).
    skip_judge_on_consensus: bool = False
    skip_synthesis_on_agreement: bool = False
    # Agreement (answer-key vote share, or similarity) at which answers count as agreeing.
    consensus_threshold: float = 0.75
    # The first layer grown while its answers disagree (SMOA, AUTO): `panel` proposers asked first (0: all n
    # at once), then `panel_step` more at a time (0: the rest at once) until they agree or all n answered.
    panel: int = 0
    panel_step: int = 0
    # The panel, and each proposer added to it, in the agent ranking's order rather than index order.
    rank_agents: bool = False
    # The answer's stop sequences (GenerateRequest.stop): on the proposers' models (plan_of sets them) and
    # on `answer_model`, never on the judge's or the moderator's, whose replies are JSON.
    stop: tuple[str, ...] = ()
    # What the answer must be (text, a JSON object, JSON valid against a schema): asked of the proposers
    # and the final call, checked before the answer leaves.
    answer_format: AnswerFormat = field(default_factory=AnswerFormat)
    # The tools the answer may call instead; when set, `answer_format` is its reply format (an answer or
    # tool calls, as JSON) and the final reply becomes the caller's answer or calls (ToolUse.reply).
    tool_use: ToolUse | None = None

    @property
    def answer_model(self) -> ModelChoice:
        """The aggregator's and SINGLE's call: `model` with the stop sequences."""
        return dataclasses.replace(self.model, stop=self.stop)

    @property
    def sparse(self) -> bool:
        """Judged layers that may stop early: SMOA and AUTO."""
        return self.mode in (Mode.SMOA, Mode.AUTO)

    def judge_seed(self, layer: int) -> int | None:
        """A different shuffle per layer, the same for the same request seed."""
        return None if self.seed is None else (self.seed + layer) % 2**64


def proposer_seed(request_seed: int | None, index: int) -> int | None:
    """Sampling seed of proposer `index`: distinct per proposer so seeded proposers do not all write the
    same answer. Kept within int64, which is what OpenAI-compatible servers accept."""
    return None if request_seed is None else (request_seed + index) % 2**63
