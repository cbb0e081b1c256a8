"""The systems compared, all on the same orchestrator (so the same proposers, backend and prompts) and
differing only in what the request asks for:

| name | mode | what runs |
|---|---|---|
| single | MODE_SINGLE | one model call |
| moa | MODE_MOA | dense MoA: n proposers for exactly --layers layers, every answer forwarded, aggregator |
| smoa | MODE_SMOA, not fused | sparse: the judge keeps k of n, a separate moderator may stop, aggregator |
| smoa-fused | MODE_SMOA, fused_judge_moderator | as smoa, judge and moderator in one LLM call |
| smoa-full | MODE_SMOA, no skips | as smoa, but every call made: no consensus or synthesis skip |
| smoa-fused-full | MODE_SMOA, fused, no skips | as smoa-fused, every call made |
| auto | MODE_AUTO | two proposers first, answered when they agree; else SMoA (fused: the default) |
| smoa-grown | MODE_SMOA, fused, grown | as smoa-fused, one proposer first, more while the answers disagree |
| smoa-ranked | as smoa-grown, rank_agents | as smoa-grown, its proposers asked in the agent ranking's order |

smoa, smoa-fused and auto take the service's skips (SMOA_SKIP_*; on by default); the -full systems turn
both off, so one run measures what the skips save.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from smoa.options import GenerateOptions
from smoa.ranking import Aggregation, Selection
from smoa.request import ModelSettings, Skips
from smoa.result import Mode

EVERY_CALL = Skips(judge_on_consensus=False, synthesis_on_agreement=False)
# The first layer grown one proposer at a time, in index order: what the agent ranking is measured against.
GROWN = GenerateOptions(
    mode=Mode.SMOA, fused=True, first_layer_start=1, first_layer_step=1, rank_agents=False
)


@dataclass(frozen=True)
class System:
    name: str
    # What sets this system apart; what every system shares (n, k, layers, models, seed) comes from
    # EvalSettings, over these.
    options: GenerateOptions


SYSTEMS = {
    s.name: s
    for s in (
        System("single", GenerateOptions(mode=Mode.SINGLE)),
        System("moa", GenerateOptions(mode=Mode.MOA)),
        System("smoa", GenerateOptions(mode=Mode.SMOA, fused=False)),
        System("smoa-fused", GenerateOptions(mode=Mode.SMOA, fused=True)),
        System("smoa-full", GenerateOptions(mode=Mode.SMOA, fused=False, skips=EVERY_CALL)),
        System("smoa-fused-full", GenerateOptions(mode=Mode.SMOA, fused=True, skips=EVERY_CALL)),
        System("auto", GenerateOptions(mode=Mode.AUTO)),
        System("smoa-grown", GROWN),
        System("smoa-ranked", replace(GROWN, rank_agents=True)),
    )
}
DEFAULT_SYSTEMS = ("single", "moa", "smoa", "smoa-fused")


def parse_systems(text: str) -> list[System]:
    """ "single,moa,smoa" -> those systems, in that order, each once."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SYSTEMS]
    if unknown or not names:
        raise ValueError(f"systems: choose from {', '.join(SYSTEMS)}, got {text!r}")
    return [SYSTEMS[name] for name in dict.fromkeys(names)]


@dataclass(frozen=True)
class EvalSettings:
    """What every system's request shares. None: the service's default."""

    n: int | None = 4
    k: int | None = 2
    layers: int | None = 3
    max_tokens: int | None = None
    temperature: float | None = None
    # Every request carries this seed: the same judge shuffles and sampling seeds for every item and run
    # (0 would be none: it is "unset" on the wire).
    seed: int = 1
    # Seconds one generation may take.
    timeout: float = 600.0
    # Backend names (SMOA_BACKENDS on the services) given to the proposers in turn: different models.
    proposer_backends: tuple[str, ...] = ()
    # How the judge ranks (SMoA systems). None, as for any new field here: results measured before the
    # field existed still count as measured with the same settings.
    aggregation: Aggregation | str | None = None
    selection: Selection | str | None = None

    def __post_init__(self) -> None:
        self.options_for(SYSTEMS["smoa"])  # a bad value fails now, before any request

    def options_for(self, system: System) -> GenerateOptions:
        """The system's request: its own options with these settings over them."""
        model = None
        if self.max_tokens is not None or self.temperature is not None:
            model = ModelSettings(max_tokens=self.max_tokens, temperature=self.temperature)
        agents: dict[int, ModelSettings | str] | None = None
        if self.proposer_backends:
            backends = self.proposer_backends
            agents = {i: ModelSettings(backend=backends[i % len(backends)]) for i in range(self.n or 4)}
        return replace(
            system.options,
            n=self.n,
            k=self.k,
            max_layers=self.layers,
            model=model,
            agents=agents,
            seed=self.seed,
            aggregation=self.aggregation,
            selection=self.selection,
        )
