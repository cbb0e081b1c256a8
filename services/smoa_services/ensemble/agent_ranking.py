"""An online ranking of agents (a role on a backend and model) by how often the judge kept their answers,
and by what an answer of theirs costs in tokens and seconds, learned from the requests served, with no
training data. The grown first layer (Plan.panel) asks the best-ranked agents first, so the proposers
most likely to be kept are the ones paid for before the answers agree.

- Each agent's tallies decay with a half-life, so an agent that got worse (a backend changed) falls.
- Order is by Thompson sampling: each agent draws its kept rate from Beta(1 + kept, 1 + not kept). An
  agent seldom judged draws widely, so it keeps being tried (the ranking always explores), and an agent
  judged often draws close to its rate.
- The draw is divided by the agent's cost relative to the others being ordered: the square root of its
  mean output tokens times its mean seconds, each over their mean (1 for an agent not seen yet).
- At most MAX_AGENTS are kept, the least judged dropped first (a tenth at once): roles written per request
  are new agents every time, and must not grow the table without end.

Pure: the clock and the random source are given; the orchestrator keeps one per process and saves it
(orchestrator/agent_standing.py).
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

MAX_AGENTS = 1_000


def agent_key(role: str, backend: str, model: str) -> str:
    """A short stable name for an agent: roles may be a thousand characters long."""
    digest = hashlib.sha256(f"{backend}\0{model}\0{role}".encode()).hexdigest()[:12]
    return f"{backend or 'default'}/{model or 'default'}/{digest}"


@dataclass
class Tally:
    """Decayed counts and sums of one agent's judged answers, as of `updated` (the clock's seconds)."""

    judged: float = 0.0
    kept: float = 0.0
    seconds: float = 0.0
    tokens: float = 0.0
    updated: float = 0.0
    # The agent's role, cut short: for people reading the saved file or the metric.
    label: str = ""

    def decayed(self, now: float, half_life: float) -> Tally:
        factor = 0.5 ** (max(0.0, now - self.updated) / half_life)
        return Tally(
            self.judged * factor,
            self.kept * factor,
            self.seconds * factor,
            self.tokens * factor,
            now,
            self.label,
        )

    def kept_rate(self) -> float:
        """The posterior mean under a uniform prior: 0.5 for an agent never judged."""
        return (1 + self.kept) / (2 + self.judged)


class AgentRanking:
    def __init__(
        self,
        half_life_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        if not half_life_seconds > 0:
            raise ValueError(f"half_life_seconds: must be > 0, got {half_life_seconds}")
        self.half_life = half_life_seconds
        self.clock = clock
        self.rng = rng or random.Random()
        self.tallies: dict[str, Tally] = {}

    def observe(self, agent: str, kept: bool, seconds: float, tokens: int, label: str = "") -> Tally:
        """One answer of `agent` that a judge ranked: kept or not, and what it cost. Returns its tally."""
        now = self.clock()
        tally = self.tallies.get(agent, Tally(updated=now, label=label[:80])).decayed(now, self.half_life)
        tally.judged += 1
        tally.kept += 1 if kept else 0
        tally.seconds += max(0.0, seconds)
        tally.tokens += max(0, tokens)
        self.tallies[agent] = tally
        if len(self.tallies) > MAX_AGENTS:
            # A tenth at once, so that a full table (roles written per question fill it) is sorted once per
            # hundred new agents rather than scanned for every answer judged.
            judged = {a: t.decayed(now, self.half_life).judged for a, t in self.tallies.items()}
            for dropped in sorted(judged, key=judged.__getitem__)[: len(judged) - MAX_AGENTS * 9 // 10]:
                del self.tallies[dropped]
        return tally

    def order(self, agents: Sequence[str]) -> list[int]:
        """The indices of `agents`, best first (the same agent twice is drawn twice)."""
        now = self.clock()
        tallies = [self.tallies.get(a, Tally(updated=now)).decayed(now, self.half_life) for a in agents]
        costs = _relative_costs(tallies)
        draws = [
            self.rng.betavariate(1 + t.kept, 1 + t.judged - t.kept) / cost
            for t, cost in zip(tallies, costs, strict=True)
        ]
        return sorted(range(len(agents)), key=lambda i: -draws[i])

    def snapshot(self) -> dict[str, Any]:
        return {
            "half_life_seconds": self.half_life,
            "agents": {a: asdict(t) for a, t in self.tallies.items()},
        }

    def restore(self, saved: Mapping[str, Any]) -> None:
        """Tallies from a snapshot; ValueError names what is wrong with it (nothing is restored then)."""
        agents = saved.get("agents")
        if not isinstance(agents, dict):
            raise ValueError('agents: the snapshot has no "agents" object')
        restored = {}
        for agent, fields in agents.items():
            try:
                tally = Tally(**fields)
                numbers = (tally.judged, tally.kept, tally.seconds, tally.tokens, tally.updated)
                if not all(isinstance(x, (int, float)) and math.isfinite(x) and x >= 0 for x in numbers):
                    raise TypeError("counts must be finite numbers >= 0")
                if tally.kept > tally.judged or not isinstance(tally.label, str):
                    raise TypeError("kept must be at most judged, and label a string")
            except TypeError as e:
                raise ValueError(f"agents.{agent}: {e}") from None
            restored[str(agent)] = tally
        self.tallies = dict(list(restored.items())[-MAX_AGENTS:])


def _relative_costs(tallies: Sequence[Tally]) -> list[float]:
    seen = [t for t in tallies if t.judged > 0]
    if not seen:
        return [1.0] * len(tallies)
    mean_tokens = sum(t.tokens / t.judged for t in seen) / len(seen)
    mean_seconds = sum(t.seconds / t.judged for t in seen) / len(seen)
    costs = []
    for t in tallies:
        if t.judged == 0 or mean_tokens <= 0 or mean_seconds <= 0:
            costs.append(1.0)
            continue
        tokens = max(t.tokens / t.judged / mean_tokens, 0.05)
        seconds = max(t.seconds / t.judged / mean_seconds, 0.05)
        costs.append(math.sqrt(tokens * seconds))
    return costs
