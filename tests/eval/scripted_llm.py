"""The scripted LLM behind the eval's end-to-end tests: every system answers the first two GSM8K items
and the first two MT-Bench questions, the single model gets GSM8K's second item wrong, and the evaluation
judge rates the single model's essays 4 and the mixtures' 8."""

from __future__ import annotations

import json
from typing import Any

from smoa.eval import datasets
from smoa_testing.fake_llm.callers import by_caller, caller_of
from smoa_testing.fake_llm.chat_script import Reply, last_user
from smoa_testing.stacks.running_service import shown_responses

GSM8K = datasets.gsm8k()[:2]
MTBENCH = datasets.mtbench()[:2]


def caller(request: dict[str, Any]) -> str:
    who = caller_of(request)
    # The evaluation judge is not a smoa caller: to smoa's eyes its MT-Bench system prompt is a role.
    if who == "proposer" and last_user(request).startswith("[Instruction]"):
        return "evaluation judge"
    return who


def _answer(request: dict[str, Any], single: bool) -> str:
    seen = json.dumps(request["messages"])
    for i, item in enumerate(GSM8K):
        if json.dumps(item.question)[1:40] in seen:
            wrong = single and i == 1
            return (
                f"So the total is computed. The answer is {int(item.answer) + 1 if wrong else item.answer}."
            )
    return "single: a short essay." if single else "A rich, careful essay that covers everything asked."


def _proposer(request: dict[str, Any]) -> Reply:
    if caller(request) == "evaluation judge":
        rating = 4 if "single:" in last_user(request) else 8
        return Reply(f"The answer is adequate. Rating: [[{rating}]]")
    return Reply(_answer(request, single=False))


def _judge(request: dict[str, Any]) -> Reply:
    scores = {label: 5 for label in shown_responses(request)}
    return Reply(json.dumps({"scores": scores, "decision": "stop", "reason": "good enough"}))


reply = by_caller(
    proposer=_proposer,
    judge=_judge,
    moderator='{"decision": "stop", "reason": "good enough"}',
    aggregator=lambda request: Reply(_answer(request, single=False)),
    single=lambda request: Reply(_answer(request, single=True)),
)
