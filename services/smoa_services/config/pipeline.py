"""What a request gets when it does not say: the ensemble's shape (n, k, layers), its quorum, roles, the
judge's passes, the thresholds of agreement, and the calls SMoA may skip."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

from smoa_services.config.help_text import help_text

# A judge's passes per layer: each costs one LLM call (two on a retry), and beyond this the ranking no
# longer improves enough to be worth it.
MAX_JUDGE_PASSES = 8


@dataclass(frozen=True)
class Pipeline:
    """pipeline defaults: what a request gets when it does not say"""

    n: int = field(default=4, metadata=help_text("proposers per layer"))
    k: int = field(default=2, metadata=help_text("answers the judge keeps per layer"))
    max_layers: int = field(default=3, metadata=help_text("layer cap"))
    quorum: int = field(
        default=0, metadata=help_text("proposers a layer needs to go on (0: max(k, ceil(n/2)))")
    )
    straggler_wait_factor: float = field(
        default=1.0,
        metadata=help_text("once the quorum answered, wait this share of the time it took for the rest"),
    )
    straggler_min_wait_seconds: float = field(
        default=0.5, metadata=help_text("floor of that wait: a busy host's scheduling delay is not slowness")
    )
    straggler_max_wait_seconds: float = field(default=10.0, metadata=help_text("cap on that wait"))
    roles: str = field(default="", metadata=help_text("default proposer roles as a JSON list of strings"))
    role_cache_size: int = field(default=256, metadata=help_text("task descriptions whose roles are cached"))
    judge_passes: int = field(
        default=1, metadata=help_text("shuffled judging passes combined by aggregation")
    )
    dedup_threshold: float = field(
        default=0.8, metadata=help_text("Jaccard at which candidates are duplicates")
    )
    consensus_threshold: float = field(
        default=0.75, metadata=help_text("agreement at which the moderator stops without an LLM call")
    )
    skip_judge_on_consensus: bool = field(
        default=True,
        metadata=help_text(
            "a layer whose answers agree stops without a judge or moderator call (SMOA, AUTO)"
        ),
    )
    skip_synthesis_on_agreement: bool = field(
        default=True,
        metadata=help_text(
            "agreeing final answers (or one) are answered as they are, no aggregator (SMOA, AUTO)"
        ),
    )
    fused_judge_moderator: bool = field(
        default=True,
        metadata=help_text("judge and moderator in one LLM call unless the request says (SMOA, AUTO)"),
    )
    auto_panel: int = field(default=2, metadata=help_text("AUTO: proposers asked first, before the rest"))
    first_layer_start: int = field(
        default=0,
        metadata=help_text(
            "SMOA: proposers the first layer asks first, adding more while they disagree (0: all n at once)"
        ),
    )
    first_layer_step: int = field(
        default=1, metadata=help_text("SMOA: proposers the first layer adds each time its answers disagree")
    )
    rank_agents: bool = field(
        default=False,
        metadata=help_text(
            "a grown first layer asks its proposers in the agent ranking's order unless the request says"
        ),
    )
    agent_ranking_file: str = field(
        default="", metadata=help_text('JSON file the agent ranking is kept in across restarts ("": memory)')
    )
    agent_ranking_half_life_seconds: float = field(
        default=3600.0, metadata=help_text("time in which what the agent ranking learned counts half")
    )

    def default_roles(self) -> list[str]:
        return list(_parse_roles(self.roles))

    def checks(self) -> list[tuple[str, bool]]:
        return [
            ("k", self.k >= 1),
            ("judge_passes", 1 <= self.judge_passes <= MAX_JUDGE_PASSES),
            ("quorum", self.quorum >= 0),
            ("straggler_wait_factor", self.straggler_wait_factor >= 0),
            ("straggler_min_wait_seconds", self.straggler_min_wait_seconds >= 0),
            ("straggler_max_wait_seconds", self.straggler_max_wait_seconds >= 0),
            ("dedup_threshold", 0.0 <= self.dedup_threshold <= 1.0),
            ("consensus_threshold", 0.0 <= self.consensus_threshold <= 1.0),
            ("auto_panel", self.auto_panel >= 1),
            ("first_layer_start", self.first_layer_start >= 0),
            ("first_layer_step", self.first_layer_step >= 1),
            ("agent_ranking_half_life_seconds", self.agent_ranking_half_life_seconds > 0),
        ]


@functools.lru_cache(maxsize=8)
def _parse_roles(raw: str) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()
