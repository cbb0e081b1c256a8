"""What each system is asked: the item's question plus, where the answer is graded exactly, an instruction
to end with a line the answer key can read. Every system gets the same text."""

from __future__ import annotations

from smoa.eval.item import LETTERS, Grading, Item

EXACT_INSTRUCTION = 'Think step by step, then end with a line "The answer is N." where N is the final answer.'
CHOICE_INSTRUCTION = (
    'Pick the one correct option and end with a line "The answer is X." where X is its letter.'
)


def question_text(item: Item) -> str:
    if item.grading is Grading.EXACT:
        return f"{item.question}\n\n{EXACT_INSTRUCTION}"
    if item.grading is Grading.CHOICE:
        options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(item.choices))
        return f"{item.question}\n\n{options}\n\n{CHOICE_INSTRUCTION}"
    if item.grading is Grading.OPTION:
        return f"{item.question} Choose from: {', '.join(item.choices)}."
    return item.question
