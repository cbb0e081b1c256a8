"""What each system is asked: the item's question (with its options, if it has any) and then its
instruction: the item's own, none, or its grading's default, which asks for a line the grading can read.
Every system gets the same text.

No default instruction holds a placeholder ("The answer is N."): a small model copies the letter instead
of the answer (the embedded 135M model wrote "N" in 18 of 30 answers to benchmarks/data/exact-answers.jsonl,
and 8 of them ended on "The answer is N").
"""

from __future__ import annotations

from smoa.eval.item import LETTERS, Grading, Item

EXACT_INSTRUCTION = (
    'Think step by step. Then write your final answer on the last line, after the words "The answer is".'
)
CHOICE_INSTRUCTION = 'Pick the one correct option, then write its letter after the words "The answer is".'
LAST_NUMBER_INSTRUCTION = "Think step by step, and end with the final number."
DEFAULT_INSTRUCTIONS = {
    Grading.EXACT: EXACT_INSTRUCTION,
    Grading.CHOICE: CHOICE_INSTRUCTION,
    Grading.LAST_NUMBER: LAST_NUMBER_INSTRUCTION,
}


def instruction_of(item: Item) -> str:
    if item.instruction is not None:
        return item.instruction
    return DEFAULT_INSTRUCTIONS.get(item.grading, "")


def question_text(item: Item) -> str:
    if item.grading is Grading.CHOICE:
        options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(item.choices))
        asked = f"{item.question}\n\n{options}"
    elif item.grading is Grading.OPTION:
        asked = f"{item.question} Choose from: {', '.join(item.choices)}."
    else:
        asked = item.question
    instruction = instruction_of(item)
    return f"{asked}\n\n{instruction}" if instruction else asked
