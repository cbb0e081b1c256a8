"""What each load request asks: the same GenerateOptions every time, and a question taken in turn from a
list, so a run can mix prompts and still be reproducible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from smoa.options import GenerateOptions
from smoa.result import Mode

MODES = tuple(m.value for m in Mode)
DEFAULT_QUESTION = "A farmer has 12 cows and buys 30 more. How many cows does he have now?"


@dataclass(frozen=True)
class LoadRequest:
    question: str
    options: GenerateOptions = field(default_factory=GenerateOptions)


@dataclass(frozen=True)
class RequestShape:
    questions: Sequence[str] = (DEFAULT_QUESTION,)
    options: GenerateOptions = field(default_factory=GenerateOptions)
    stream: bool = False

    def __post_init__(self) -> None:
        if not self.questions:
            raise ValueError("questions: at least one is needed")

    @property
    def mode(self) -> str:
        """For the run's title and Locust's request names."""
        return Mode(self.options.mode).value

    def request(self, index: int) -> LoadRequest:
        return LoadRequest(self.questions[index % len(self.questions)], self.options)


def read_questions(path: Path) -> list[str]:
    """One question per non-empty line."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
