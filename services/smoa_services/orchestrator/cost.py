"""What a generation spent: LLM calls and input/output tokens per stage ("roles", "proposer", "judge",
"moderator", "aggregator", "single") and per layer, and the totals. The token budget is checked against
`total().tokens`."""

from __future__ import annotations

from dataclasses import dataclass

from smoa_services.llm.usage import Usage


@dataclass(frozen=True)
class StageCost:
    stage: str
    # 0 for stages outside the layers (roles, aggregator, single).
    layer: int
    usage: Usage


class CostLedger:
    def __init__(self) -> None:
        # Insertion order is the order stages ran in, which is how the response lists them.
        self._entries: dict[tuple[str, int], Usage] = {}

    def add(self, stage: str, layer: int, usage: Usage) -> None:
        key = (stage, layer)
        self._entries[key] = self._entries.get(key, Usage()) + usage

    def stages(self) -> list[StageCost]:
        return [StageCost(stage, layer, usage) for (stage, layer), usage in self._entries.items()]

    def by_stage(self) -> dict[str, Usage]:
        """Per role of the pipeline, summed over layers."""
        found: dict[str, Usage] = {}
        for (stage, _), usage in self._entries.items():
            found[stage] = found.get(stage, Usage()) + usage
        return found

    def by_layer(self) -> dict[int, Usage]:
        found: dict[int, Usage] = {}
        for (_, layer), usage in self._entries.items():
            found[layer] = found.get(layer, Usage()) + usage
        return found

    def total(self) -> Usage:
        return sum(self._entries.values(), Usage())
