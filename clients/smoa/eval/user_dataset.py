"""Your own questions as JSONL, one object per line:

    {"id": "q1", "question": "What is 17 * 3?", "answer": "51"}
    {"id": "q2", "question": "Which is a prime?", "choices": ["4", "6", "7"], "answer": "C"}
    {"id": "q3", "turns": ["Write a haiku about rain."], "category": "writing"}

- `id` (string or integer, unique in the file), and `question` (string) or `turns` (list of strings: only
  the first is asked).
- `answer` without `choices`: graded exactly (the final answer the response commits to, "the answer is
  X" / \\boxed{X} / its last number, must match `answer`'s).
- `choices` (2 to 10 strings, shown as A, B, ... in this order) with `answer`: the letter ("C"), the
  0-based index (2) or the text of the right option.
- Neither: an LLM judge rates the answer 1-10 (MT-Bench's prompt); `reference` (optional) is a reference
  answer it compares against; `category` (optional) groups the report.

The dataset's name in the report is the file's stem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smoa.eval.item import LETTERS, Grading, Item


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: must be a string")
    return value


def _question(row: dict[str, Any], where: str) -> str:
    if "question" in row:
        question = row["question"]
    elif isinstance(row.get("turns"), list) and row["turns"]:
        question = row["turns"][0]
    else:
        raise ValueError(f"{where}: needs `question` (a string) or `turns` (a non-empty list of strings)")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}: the question must be a non-empty string")
    return question


def _choice_letter(answer: object, choices: list[str], where: str) -> str:
    if isinstance(answer, bool):
        raise ValueError(f"{where}.answer: must be a letter, an index or an option's text")
    if isinstance(answer, int) and 0 <= answer < len(choices):
        return LETTERS[answer]
    if isinstance(answer, str):
        if answer.strip().upper() in LETTERS[: len(choices)] and len(answer.strip()) == 1:
            return answer.strip().upper()
        if answer in choices:
            return LETTERS[choices.index(answer)]
    raise ValueError(
        f"{where}.answer: must be a letter A-{LETTERS[len(choices) - 1]}, an index below {len(choices)} "
        f"or the text of one of the choices, got {answer!r}"
    )


def item_from(row: object, dataset: str, where: str) -> Item:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: must be a JSON object")
    item_id = row.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, (str, int)) or str(item_id) == "":
        raise ValueError(f"{where}.id: must be a non-empty string or an integer")
    question = _question(row, where)
    category, reference = _text(row, "category", where), _text(row, "reference", where)
    choices = row.get("choices")
    if choices is not None:
        if (
            not isinstance(choices, list)
            or not 2 <= len(choices) <= len(LETTERS)
            or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            raise ValueError(f"{where}.choices: must be 2 to {len(LETTERS)} non-empty strings")
        if "answer" not in row:
            raise ValueError(f"{where}.answer: required with choices")
        letter = _choice_letter(row["answer"], choices, where)
        return Item(str(item_id), dataset, question, Grading.CHOICE, letter, tuple(choices), category)
    if "answer" in row and row["answer"] is not None:
        answer = row["answer"]
        if isinstance(answer, bool) or not isinstance(answer, (str, int, float)) or str(answer) == "":
            raise ValueError(f"{where}.answer: must be a non-empty string or a number")
        return Item(str(item_id), dataset, question, Grading.EXACT, str(answer), category=category)
    return Item(str(item_id), dataset, question, Grading.JUDGED, category=category, reference=reference)


def load_jsonl(path: Path) -> list[Item]:
    """Items of a user's JSONL file; a bad line raises ValueError naming the file, line and field."""
    dataset = path.stem
    items: list[Item] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not JSON ({e.msg})") from None
        item = item_from(row, dataset, where)
        if item.id in seen:
            raise ValueError(f"{where}.id: {item.id!r} appears twice")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise ValueError(f"{path.name}: holds no items")
    return items
