"""Each grading a user's JSONL may choose, through `smoa eval` against the four real services and a
scripted LLM: what the model is asked (the instruction chosen per file or per item) and how its answer
is scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smoa.cli import main
from smoa.eval.prompts import EXACT_INSTRUCTION
from smoa.eval.results_file import ResultsFile
from smoa_testing.fake_llm.chat_script import Reply, last_user
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.stack_thread import stack_in_thread

ROWS = [
    {"defaults": {"instruction": "none"}},
    {"id": "exact", "question": "What is 17 * 3?", "answer": "51", "instruction": "default"},
    {"id": "last", "question": "How many legs does a spider have?", "answer": 8, "grading": "last_number"},
    {"id": "contains", "question": "What is the capital of France?", "answer": "Paris",
     "grading": "contains"},
    {"id": "choice", "question": "Which is prime?", "choices": ["4", "6", "7"], "answer": "C",
     "instruction": "Reply with the letter."},
    {"id": "option", "question": "Which is larger?", "choices": ["58", "85"], "answer": "85",
     "grading": "option"},
]  # fmt: skip
# What the single model answers, by the question's first words; each written so that only the grading
# named can read it right (or, for the choice, so that it is read wrong).
ANSWERS = {
    "What is 17": "17 x 3 is 51, and 51 - 1 is 50.\nThe answer is 51.",  # the last number is 50
    "How many legs": "The answer is 6, I thought, but a spider has 8",  # the answer key is 6
    "What is the capital": "Paris is the capital, and it has 2 million people.",
    "Which is prime": "The answer is B.",
    "Which is larger": "85 is larger than 58.",  # the last number is 58
}


def single(request: dict[str, Any]) -> Reply:
    question = last_user(request)
    return Reply(next(text for start, text in ANSWERS.items() if question.startswith(start)))


def test_each_grading_scores_what_it_reads_and_each_item_is_asked_its_instruction(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    with FakeOpenAI(single) as llm, stack_in_thread(llm.base_url) as target:
        code = main(
            ["--target", target, "eval", "--dataset", str(path), "--systems", "single", "--out",
             str(tmp_path / "out"), "--no-progress"]
        )  # fmt: skip
        asked = {last_user(r).split("?")[0]: last_user(r) for r in llm.requests}
    assert code == 0
    verdicts = {r.item_id: (r.grading, r.predicted, r.correct) for r in ResultsFile(tmp_path / "out").read()}
    assert verdicts == {
        "exact": ("exact", "51", True),
        "last": ("last_number", "8", True),
        "contains": ("contains", "Paris", True),
        "choice": ("choice", "B", False),
        "option": ("option", "85", True),
    }
    assert asked["What is 17 * 3"] == f"What is 17 * 3?\n\n{EXACT_INSTRUCTION}"  # the item's "default"
    # The file's "none": the question alone.
    assert asked["How many legs does a spider have"] == "How many legs does a spider have?"
    assert asked["Which is prime"] == "Which is prime?\n\nA. 4\nB. 6\nC. 7\n\nReply with the letter."
    assert asked["Which is larger"] == "Which is larger? Choose from: 58, 85."
    report = (tmp_path / "out" / "report.md").read_text()
    assert "choice+contains+exact+last_number+option" in report and "80.0 [37.6, 96.4] (4/5)" in report
