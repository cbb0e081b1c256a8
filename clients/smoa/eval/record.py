"""One line of results.jsonl: what one system did on one item, and how it scored."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from smoa.eval.orchestrator_call import RoleUsage

Key = tuple[str, str, str]  # (system, dataset, item id)


@dataclass(frozen=True)
class ItemResult:
    system: str
    dataset: str
    item_id: str
    grading: str
    category: str = ""
    # False: the generation failed (`error` says how); such a row is retried by the next run.
    ok: bool = True
    error: str = ""
    text: str = ""
    # EXACT / CHOICE: the answer keys, and whether they match (None for JUDGED items and failures).
    expected: str | None = None
    predicted: str | None = None
    correct: bool | None = None
    # JUDGED: the judge's 1-10 rating (None: no readable rating; see judge_error / judge_text).
    judge_score: float | None = None
    judge_text: str = ""
    judge_error: str = ""
    # Wall seconds the judge took (not part of the system's latency or cost).
    judge_latency: float = 0.0
    latency: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    by_role: dict[str, RoleUsage] = field(default_factory=dict)
    layers: int = 0
    stop_reason: str = ""
    estimated: bool = False
    # The calls the pipeline left out or added, by action (smoa.Step).
    steps: list[str] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.system, self.dataset, self.item_id)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> ItemResult:
        known = {f: row[f] for f in cls.__dataclass_fields__ if f in row}
        known["by_role"] = {role: RoleUsage(**usage) for role, usage in row.get("by_role", {}).items()}
        return cls(**known)
