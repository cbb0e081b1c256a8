"""Right or wrong, for items with a known answer, by the item's grading:
- EXACT, CHOICE: the core's `answer_key` (last \\boxed{}, else "the answer is X", else the last number;
  canonical, so "1,250.50" and "1250.5" agree) on both sides;
- LAST_NUMBER: the last number the response writes, made canonical the same way;
- OPTION: the option the response names first (options in the question's own words);
- CONTAINS: whether the response names the answer anywhere.
The core is imported on first use: it comes with the services (smoa-core-rs), not with the SDK."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from smoa.eval.item import Grading, Item


class MissingCore(ImportError):
    """smoa-core-rs (the services' Rust core) is not installed."""


@cache
def _answer_key() -> Callable[[str], str | None]:
    try:
        from smoa_core_rs import answer_key
    except ImportError as e:
        raise MissingCore(
            "scoring exact answers needs smoa-core-rs, the services' core (built from this repository: "
            "`maturin develop`, or install smoa-services)"
        ) from e
    return answer_key


def answer_key(text: str) -> str | None:
    return _answer_key()(text)


@dataclass(frozen=True)
class Verdict:
    # The answer key read from the response (None: it commits to nothing readable).
    predicted: str | None
    expected: str | None
    correct: bool


def _named_at(response: str, phrase: str) -> int | None:
    """Where the response first names `phrase` as a whole word or number, case aside, else None."""
    found = re.search(rf"(?<![\w.]){re.escape(phrase.lower())}(?!\w|\.\d)", response.lower())
    return found.start() if found else None


def named_option(response: str, options: Sequence[str]) -> str | None:
    """The option a response commits to: the first one it names as a whole word ("The capital of Japan is
    Tokyo.", "24 + 18 = 42"), else None. Not the answer key: small models rarely write an answer in a
    form it reads, and its last-number rule would read "85 is larger than 58" as 58."""
    found = [(at, option) for option in options if (at := _named_at(response, option)) is not None]
    return min(found)[1] if found else None


NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")


def last_number(text: str) -> str | None:
    """The last number in `text`, canonical as the answer key makes it ("1,250.50" -> "1250.5")."""
    numbers = NUMBER.findall(text)
    return answer_key(numbers[-1]) if numbers else None


def grade(item: Item, response: str) -> Verdict:
    """Items with a known answer only; JUDGED items are the judge's."""
    if item.grading is Grading.JUDGED:
        raise ValueError(f"item: {item.dataset}/{item.id} is judged, not graded by its answer")
    if item.grading is Grading.OPTION:
        picked = named_option(response, item.choices)
        return Verdict(picked, item.answer, picked == item.answer)
    if item.grading is Grading.CONTAINS:
        named = item.answer if _named_at(response, item.answer) is not None else None
        return Verdict(named, item.answer, named is not None)
    if item.grading is Grading.LAST_NUMBER:
        predicted, expected = last_number(response), last_number(item.answer)
        return Verdict(predicted, expected, predicted is not None and predicted == expected)
    predicted = answer_key(response)
    # A letter is its own key; an exact answer goes through the same canonicalization as the response.
    expected = item.answer if item.grading is Grading.CHOICE else answer_key(item.answer)
    return Verdict(predicted, expected, predicted is not None and predicted == expected)
