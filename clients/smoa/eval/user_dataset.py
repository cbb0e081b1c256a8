"""Your own questions as JSONL, one object per line:

    {"defaults": {"grading": "last_number", "instruction": "none"}}
    {"id": "q1", "question": "What is 17 * 3?", "answer": "51"}
    {"id": "q2", "question": "Which is a prime?", "choices": ["4", "6", "7"], "answer": "C"}
    {"id": "q3", "question": "Name a primary colour.", "answer": "red", "grading": "contains"}
    {"id": "q4", "turns": ["Write a haiku about rain."], "category": "writing"}

- `id` (string or integer, unique in the file), and `question` (string) or `turns` (list of strings: only
  the first is asked).
- `answer` without `choices`: graded by the final answer the response commits to ("the answer is X" /
  \\boxed{X} / its last number) unless `grading` says otherwise.
- `choices` (2 to 10 strings) with `answer`: the letter ("C"), the 0-based index (2) or the text of the
  right option. Shown as A, B, ... in this order and graded by the letter, unless `grading` says otherwise.
- Neither: an LLM judge rates the answer 1-10 (MT-Bench's prompt); `reference` (optional) is a reference
  answer it compares against; `category` (optional) groups the report.
- `grading` (optional), how a known answer is scored:
  - `exact`: the answer key, as above (the default with `answer`);
  - `last_number`: the last number the response writes;
  - `contains`: the response names the answer anywhere, as a whole word, case aside;
  - `choice`: lettered options (the default with `choices`);
  - `option`: the options in the question's own words ("Choose from: a, b, c."), scored by the one the
    response names first.
- `instruction` (optional), what is asked after the question: `default` (the grading's own: for `exact`
  and `choice`, to end with the answer after "The answer is"; for `last_number`, to end with the number;
  none for the others), `none`, or your own text.
- A first line `{"defaults": {...}}` sets `grading` and `instruction` for every item that does not set its
  own.

The dataset's name in the report is the file's stem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from smoa.eval.item import LETTERS, Grading, Item
from smoa.eval.scoring import NUMBER


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


# What a known answer may be graded by, with the shape of item each needs.
ANSWER_GRADINGS = (Grading.EXACT, Grading.LAST_NUMBER, Grading.CONTAINS)
OPTION_GRADINGS = (Grading.CHOICE, Grading.OPTION)
CHOSEN = {g.value: g for g in (*ANSWER_GRADINGS, *OPTION_GRADINGS)}


@dataclass(frozen=True)
class Defaults:
    """A file's `defaults` line: what its items use unless they say otherwise."""

    grading: Grading | None = None
    instruction: str | None = None


def _grading(value: object, where: str) -> Grading:
    if isinstance(value, str) and value in CHOSEN:
        return CHOSEN[value]
    raise ValueError(f"{where}.grading: must be one of {', '.join(CHOSEN)}, got {value!r}")


def _instruction(value: object, where: str) -> str | None:
    """None: the grading's default; "": none; else the text asked."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}.instruction: must be `default`, `none` or your own text, got {value!r}")
    return {"default": None, "none": ""}.get(value, value)


def defaults_from(row: object, where: str) -> Defaults:
    if not isinstance(row, dict) or set(row) - {"grading", "instruction"}:
        raise ValueError(f"{where}.defaults: must be an object of `grading` and `instruction`")
    grading = _grading(row["grading"], f"{where}.defaults") if "grading" in row else None
    instruction = _instruction(row["instruction"], f"{where}.defaults") if "instruction" in row else None
    return Defaults(grading, instruction)


def item_from(row: object, dataset: str, where: str, defaults: Defaults | None = None) -> Item:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: must be a JSON object")
    defaults = defaults or Defaults()
    grading = _grading(row["grading"], where) if "grading" in row else defaults.grading
    instruction = _instruction(row["instruction"], where) if "instruction" in row else defaults.instruction
    item = _shaped_item(row, dataset, where)
    if grading is not None and grading is not item.grading:
        fits = ANSWER_GRADINGS if item.grading is Grading.EXACT else OPTION_GRADINGS
        if item.grading is Grading.JUDGED or grading not in fits:
            needs = "`choices`" if grading in OPTION_GRADINGS else "an `answer` without `choices`"
            raise ValueError(f"{where}.grading: {grading.value} needs {needs}")
        if grading is Grading.LAST_NUMBER and not NUMBER.fullmatch(item.answer.strip()):
            raise ValueError(f"{where}.answer: last_number needs a number, got {item.answer!r}")
        answer = item.choices[LETTERS.index(item.answer)] if grading is Grading.OPTION else item.answer
        item = replace(item, grading=grading, answer=answer)
    return replace(item, instruction=instruction)


def _shaped_item(row: dict[str, Any], dataset: str, where: str) -> Item:
    """The item its fields make, graded as they imply."""
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
    defaults, first = Defaults(), True
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not JSON ({e.msg})") from None
        if isinstance(row, dict) and "defaults" in row:
            if not first or len(row) > 1:
                raise ValueError(f"{where}.defaults: only on the first line, alone")
            defaults, first = defaults_from(row["defaults"], where), False
            continue
        first = False
        item = item_from(row, dataset, where, defaults)
        if item.id in seen:
            raise ValueError(f"{where}.id: {item.id!r} appears twice")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise ValueError(f"{path.name}: holds no items")
    return items
