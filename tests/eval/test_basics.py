"""The generated `basics` set: reproducible, every answer right (recomputed here from the question), kinds
interleaved, facts not repeated, and graded through the core's answer keys like every exact dataset."""

from __future__ import annotations

import operator
import re
from collections import Counter

from smoa.eval import datasets
from smoa.eval.basics import CAPITALS, OPPOSITES, SIZE, basics, facts
from smoa.eval.item import LETTERS, Grading
from smoa.eval.prompts import question_text
from smoa.eval.scoring import grade

ARITHMETIC = re.compile(r"What is (\d+) ([+x-]) (\d+)\?")
LARGER = re.compile(r"Which number is larger, (\d+) or (\d+)\?")
OPERATIONS = {"+": operator.add, "-": operator.sub, "x": operator.mul}


def test_the_same_items_every_time_and_a_seed_changes_them() -> None:
    items = datasets.load("basics")
    assert len(items) == SIZE and items == basics()
    assert len({i.id for i in items}) == SIZE
    assert [i.question for i in basics(seed=1)] != [i.question for i in items]


def test_every_exact_answer_is_the_questions_result() -> None:
    for item in basics():
        if item.grading is not Grading.EXACT:
            continue
        if found := ARITHMETIC.fullmatch(item.question):
            a, sign, b = found.groups()
            assert int(item.answer) == OPERATIONS[sign](int(a), int(b)) >= 0, item
        else:
            found = LARGER.fullmatch(item.question)
            assert found and found.group(1) != found.group(2), item
            assert int(item.answer) == max(int(found.group(1)), int(found.group(2))), item


def test_every_fact_letter_names_its_right_option() -> None:
    right = {f"What is the capital of {c}?": city for c, city in CAPITALS.items()}
    right |= {f"What is the opposite of '{w}'?": other for w, other in OPPOSITES.items()}
    right |= {question: answer for question, answer, _ in facts()}
    items = [i for i in basics() if i.grading is Grading.CHOICE]
    for item in items:
        assert len(item.choices) == 4 == len(set(item.choices)), item
        assert item.choices[LETTERS.index(item.answer)] == right[item.question], item
    # The right option is not always in one place.
    assert min(Counter(i.answer for i in items).values()) >= len(items) // 8


def test_kinds_are_interleaved_and_facts_not_repeated_until_all_were_asked() -> None:
    items = basics()
    assert {i.category for i in items[:5]} == {"add", "subtract", "multiply", "larger", "fact"}
    asked = [i.question for i in items if i.category == "fact"]
    assert len(set(asked[: len(facts())])) == len(facts())


def test_answers_are_graded_through_the_answer_keys() -> None:
    add, fact = basics()[0], basics()[4]
    assert grade(add, f"Adding them gives it.\nThe answer is {add.answer}.").correct
    assert not grade(add, f"The answer is {int(add.answer) + 1}.").correct
    wrong = next(letter for letter in "ABCD" if letter != fact.answer)
    assert grade(fact, f"The answer is {fact.answer}.").correct
    assert not grade(fact, f"The answer is {wrong}.").correct
    assert "A. " in question_text(fact) and "The answer is" in question_text(add)
