"""What each load request asks: the mode, n, k, layer cap and a question taken in turn from a list, so a
run can mix prompts and still be reproducible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoa.result import Mode

MODES = tuple(m.value for m in Mode)
DEFAULT_QUESTION = "A farmer has 12 cows and buys 30 more. How many cows does he have now?"


@dataclass(frozen=True)
class LoadRequest:
    question: str
    mode: str
    # None: the service's default.
    n: int | None = None
    k: int | None = None
    max_layers: int | None = None

    def arguments(self) -> dict[str, Any]:
        """The SDK's generate()/stream() keyword arguments."""
        return {"mode": self.mode, "n": self.n, "k": self.k, "max_layers": self.max_layers}


@dataclass(frozen=True)
class RequestShape:
    questions: Sequence[str] = (DEFAULT_QUESTION,)
    mode: str = "smoa"
    # 0: the service default.
    n: int = 0
    k: int = 0
    layers: int = 0
    stream: bool = False

    def __post_init__(self) -> None:
        if not self.questions:
            raise ValueError("questions: at least one is needed")
        if self.mode not in MODES:
            raise ValueError(f"mode: must be one of {', '.join(MODES)}, got {self.mode!r}")

    def request(self, index: int) -> LoadRequest:
        return LoadRequest(
            self.questions[index % len(self.questions)],
            self.mode,
            self.n or None,
            self.k or None,
            self.layers or None,
        )


def read_questions(path: Path) -> list[str]:
    """One question per non-empty line."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
