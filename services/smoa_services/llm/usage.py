"""What LLM calls spent: input and output tokens, and calls (retries and hedges included)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smoa_services.llm.completion import Completion


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    # True when any part was estimated because a backend reported no usage.
    estimated: bool = False

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @classmethod
    def of(cls, completions: Iterable[Completion]) -> Usage:
        """What these completions spent, one call each as their backend counted them."""
        return sum((cls(c.input_tokens, c.output_tokens, c.calls, c.estimated) for c in completions), cls())

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.calls + other.calls,
            self.estimated or other.estimated,
        )
