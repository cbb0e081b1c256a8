"""Right/wrong by answer key, the lettered options, and the MT-Bench judge's prompt and rating."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from smoa.eval import datasets
from smoa.eval.item import Grading, Item
from smoa.eval.judge import judge_messages, judge_prompts, parse_rating
from smoa.eval.prompts import DEFAULT_INSTRUCTIONS, question_text
from smoa.eval.scoring import grade

EXACT = Item("1", "d", "How much?", Grading.EXACT, answer="1,250.50")
CHOICE = Item("2", "d", "Which?", Grading.CHOICE, answer="B", choices=("red", "blue", "green"))


@pytest.mark.parametrize(
    ("response", "predicted", "correct"),
    [
        ("Adding it up gives 1250.5.\nThe answer is 1250.50.", "1250.5", True),
        (r"so \boxed{1,250.5}", "1250.5", True),
        ("First 3 then 1250.5", "1250.5", True),  # the last number
        ("The answer is 1251.", "1251", False),
        ("I cannot tell.", None, False),
    ],
)
def test_exact_answers_compare_answer_keys(response: str, predicted: str | None, correct: bool) -> None:
    verdict = grade(EXACT, response)
    assert (verdict.expected, verdict.predicted, verdict.correct) == ("1250.5", predicted, correct)


@pytest.mark.parametrize(
    ("response", "correct"),
    [
        ("The answer is B.", True),
        ("Blue is right. The answer is (B) because the sky.", True),
        ("The answer is C.", False),
        ("B", False),  # a bare letter commits to nothing the key can read
    ],
)
def test_choices_compare_letters(response: str, correct: bool) -> None:
    assert grade(CHOICE, response).correct is correct


def test_judged_items_are_not_graded_by_answer() -> None:
    with pytest.raises(ValueError, match="judged"):
        grade(Item("3", "d", "Write", Grading.JUDGED), "text")


def test_questions_carry_the_answer_format_and_lettered_options() -> None:
    assert question_text(EXACT).startswith("How much?\n\n") and '"The answer is"' in question_text(EXACT)
    assert "A. red\nB. blue\nC. green" in question_text(CHOICE)
    assert question_text(Item("3", "d", "Write a poem.", Grading.JUDGED)) == "Write a poem."


def test_no_default_instruction_holds_a_placeholder_to_copy() -> None:
    for instruction in DEFAULT_INSTRUCTIONS.values():
        assert not re.search(r"\b[NXY]\b", instruction), instruction


def test_an_items_instruction_replaces_the_default_or_removes_it() -> None:
    assert question_text(replace(EXACT, instruction="")) == "How much?"
    assert question_text(replace(EXACT, instruction="Answer with a number.")) == (
        "How much?\n\nAnswer with a number."
    )
    option = Item("4", "d", "Which?", Grading.OPTION, "blue", ("red", "blue"), instruction="Be brief.")
    assert question_text(option) == "Which? Choose from: red, blue.\n\nBe brief."


@pytest.mark.parametrize(
    ("response", "predicted", "correct"),
    [
        ("6 + 6 = 12, so 1,250.50", "1250.5", True),
        ("The answer is 1250.5, not 7", "7", False),  # the last number, whatever comes before it
        ("No number here.", None, False),
    ],
)
def test_last_number_reads_the_last_number_written(
    response: str, predicted: str | None, correct: bool
) -> None:
    verdict = grade(replace(EXACT, grading=Grading.LAST_NUMBER), response)
    assert (verdict.expected, verdict.predicted, verdict.correct) == ("1250.5", predicted, correct)


@pytest.mark.parametrize(
    ("response", "correct"),
    [
        ("It is New York, of course.", True),
        ("NEW YORK", True),
        ("new yorker", False),  # a whole word, not a part of one
        ("York", False),
    ],
)
def test_contains_looks_for_the_answer_as_a_whole_word(response: str, correct: bool) -> None:
    item = Item("5", "d", "Which city?", Grading.CONTAINS, answer="New York")
    verdict = grade(item, response)
    assert (verdict.correct, verdict.predicted) == (correct, "New York" if correct else None)


@pytest.mark.parametrize(
    ("judgment", "rating"),
    [
        ("Helpful and accurate. Rating: [[7]]", 7.0),
        ("Rating: [[8.5]]", 8.5),
        ("[[3]] at first, then [[9]]", 3.0),  # the first, as FastChat reads it
        ("Rating: [6]", 6.0),  # FastChat's fallback pattern
        ("Rating: 7/10", None),
        ("Rating: [[0]]", None),
        ("Rating: [[11]]", None),
        ("", None),
    ],
)
def test_judge_ratings_read_as_fastchat_reads_them(judgment: str, rating: float | None) -> None:
    assert parse_rating(judgment) == rating


def test_judge_prompts_come_from_the_package_with_references_where_fastchat_uses_them() -> None:
    prompts = judge_prompts()
    items = datasets.mtbench()
    general = next(i for i in items if i.category == "writing")
    messages = judge_messages(general, "MY ANSWER", prompts)
    assert messages[0] == {"role": "system", "content": "You are a helpful assistant."}
    assert messages[1]["content"].startswith("[Instruction]\nPlease act as an impartial judge")
    assert general.question in messages[1]["content"] and "MY ANSWER" in messages[1]["content"]
    assert "Reference Answer" not in messages[1]["content"]
    math_item = next(i for i in items if i.category == "math")
    content = judge_messages(math_item, "MY ANSWER", prompts)[1]["content"]
    assert "[The Start of Reference Answer]\n" + math_item.reference in content
