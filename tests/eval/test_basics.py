"""The generated `basics` set: reproducible, every answer right (recomputed here from the question) and
among its options, kinds interleaved, facts not repeated, graded by the option the response names."""

from __future__ import annotations

import operator
import re
from collections import Counter

import pytest

from smoa.eval import datasets
from smoa.eval.basics import SIZE, basics, facts
from smoa.eval.item import Grading
from smoa.eval.prompts import question_text
from smoa.eval.scoring import grade, named_option

ARITHMETIC = re.compile(r"What is (\d+) ([+x]) (\d+)\?")
LARGER = re.compile(r"Which number is larger, (\d+) or (\d+)\?")
OPERATIONS = {"+": operator.add, "x": operator.mul}


def test_the_same_items_every_time_and_a_seed_changes_them() -> None:
    items = datasets.load("basics")
    assert len(items) == SIZE and items == basics()
    assert len({i.id for i in items}) == SIZE
    assert [i.question for i in basics(seed=1)] != [i.question for i in items]
    assert all(i.grading is Grading.OPTION for i in items)


def test_every_answer_is_the_questions_and_one_of_its_options() -> None:
    right = {question: answer for question, answer, _ in facts()}
    for item in basics():
        assert item.answer in item.choices and len(set(item.choices)) == len(item.choices), item
        if found := ARITHMETIC.fullmatch(item.question):
            a, sign, b = found.groups()
            assert int(item.answer) == OPERATIONS[sign](int(a), int(b)), item
            assert len(item.choices) == 4 and all(int(o) > 0 for o in item.choices), item
        elif found := LARGER.fullmatch(item.question):
            assert sorted(item.choices) == sorted(found.groups()), item
            assert int(item.answer) == max(map(int, found.groups())), item
        else:
            assert item.answer == right[item.question] and len(item.choices) == 4, item
    # The right option is not always in one place.
    places = Counter(i.choices.index(i.answer) for i in basics() if len(i.choices) == 4)
    assert min(places.values()) >= 30


def test_kinds_are_interleaved_and_facts_not_repeated_until_all_were_asked() -> None:
    items = basics()
    assert {i.category for i in items[:4]} == {"add", "multiply", "larger", "fact"}
    asked = [i.question for i in items if i.category == "fact"]
    assert len(set(asked[: len(facts())])) == len(facts())


@pytest.mark.parametrize(
    ("response", "picked"),
    [
        ("The capital of Japan is Tokyo.", "Tokyo"),
        ("TOKYO", "Tokyo"),
        ("Lima, not Tokyo.", "Lima"),  # the first named
        ("Tokyoite culture is rich.", None),  # a whole word only
        ("I cannot say.", None),
    ],
)
def test_the_option_named_first_is_the_pick(response: str, picked: str | None) -> None:
    assert named_option(response, ("Lima", "Tokyo", "Oslo", "Cairo")) == picked


def test_numbers_are_named_whole() -> None:
    options = ("42", "32", "4", "2")
    assert named_option("24 + 18 = 42", options) == "42"  # 24 and 18 are not options; 4 and 2 not whole
    assert named_option("It is 4.2 or so", options) is None


def test_answers_are_graded_by_the_option_named() -> None:
    item = basics()[0]
    wrong = next(o for o in item.choices if o != item.answer)
    assert grade(item, f"It is {item.answer}.").correct
    assert not grade(item, f"It is {wrong}.").correct
    assert question_text(item).endswith(f"Choose from: {', '.join(item.choices)}.")
