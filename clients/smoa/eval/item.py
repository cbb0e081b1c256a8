"""One benchmark question, whatever dataset it came from, and how it is graded."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

# Option letters: what the core's answer_key reads as a choice ("(C)" -> "C").
LETTERS = "ABCDEFGHIJ"


class Grading(str, Enum):
    """How an answer is scored (the values are what results.jsonl and summary.json use)."""

    # A known final answer (a number, a word): the answer keys of response and expected must match.
    EXACT = "exact"
    # Lettered options: the letter the response commits to must be the expected one.
    CHOICE = "choice"
    # Options offered in the question's own words ("Choose from: Paris, Lima, Oslo, Cairo."): the option
    # the response commits to must be the expected one (scoring.py says how it is read).
    OPTION = "option"
    # A known number: the last number the response writes must be the expected one (for a model that
    # writes no answer format at all).
    LAST_NUMBER = "last_number"
    # A known answer the response must name, as a whole word, anywhere (case does not matter).
    CONTAINS = "contains"
    # No single right answer: an LLM judge rates the response 1-10 (MT-Bench's single grading).
    JUDGED = "judged"


@dataclass(frozen=True)
class Item:
    # Unique within its dataset; (dataset, id) is unique within a run.
    id: str
    dataset: str
    # What the user asks. Only the first turn is asked and graded (MT-Bench's later turns need the
    # system's own earlier answers, which a one-shot comparison does not hold).
    question: str
    grading: Grading
    # EXACT, LAST_NUMBER, CONTAINS: the expected answer; CHOICE: the expected letter ("A", "B", ...);
    # OPTION: the expected option as written; JUDGED: "".
    answer: str = ""
    # CHOICE, OPTION: the options in the order they are shown (CHOICE: letters A, B, ... in that order).
    choices: tuple[str, ...] = field(default_factory=tuple)
    # The dataset's category (MT-Bench: writing, math, ...), "" if none.
    category: str = ""
    # JUDGED: a reference answer the judge compares against (MT-Bench's math, reasoning, coding).
    reference: str = ""
    # What is asked after the question (prompts.py): None, the grading's default; "", nothing.
    instruction: str | None = None
