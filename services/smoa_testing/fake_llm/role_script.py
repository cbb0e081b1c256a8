"""A scripted LLM for the whole stack that tells the callers apart by the services' own prompt constants
and answers each proposer by its role (three roles, A, B and C), with the GenerateRequest that uses those
roles: what the orchestrator's end-to-end tests, the metrics tests and the client tests share."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from smoa.v1 import orchestrator_pb2
from smoa_testing.fake_llm.callers import asks_for_decision, by_caller, caller_of
from smoa_testing.fake_llm.chat_script import Reply, Script, system_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import question
from smoa_testing.stacks.running_service import shown_responses

# Roles whose answers differ in words (so dedup keeps them apart) and in their final number (so the
# moderator's cheap check finds no consensus) unless a test says otherwise.
ROLES = ["ROLE-A you are a historian.", "ROLE-B you are a chemist.", "ROLE-C you are a poet."]
ANSWERS = {
    "ROLE-A": "Historians recorded that the ancient tally came to 41 in total",
    "ROLE-B": "Chemically balancing every reagent in the flask yields 42 moles",
    "ROLE-C": "Verses counting stars beneath a quiet moon arrive at 43",
}
SYNTHESIS = "Forty two is the synthesized answer"
AGREEING = {
    "ROLE-A": "Historians recorded that the ancient tally came to 42",
    "ROLE-B": "Chemically balancing every reagent in the flask yields 42",
    "ROLE-C": "Verses counting stars beneath a quiet moon arrive at 42",
}


def caller(request: dict[str, Any]) -> str:
    """As callers.caller_of, but a proposer must have one of the ROLES (anything else is a bug here)."""
    who = caller_of(request)
    if who == "single" or (who == "proposer" and not system_prompt(request).startswith("ROLE-")):
        raise AssertionError(f"unknown caller: {system_prompt(request)[:80]}")
    return who


def judge_reply(request: dict[str, Any]) -> str:
    """Scores by role letter: A best, then B, then C, whatever the shuffle."""
    order = {"Historians": 9, "Chemically": 7, "Verses": 3}
    return json.dumps(
        {"scores": {label: order[text.split()[0]] for label, text in shown_responses(request).items()}}
    )


def script(
    answers: dict[str, str] = ANSWERS,
    judge: Callable[[dict[str, Any]], str] = judge_reply,
    moderator: str = '{"decision": "continue", "reason": "not yet"}',
    delay: float = 0.0,
    single: str | None = None,
) -> Script:
    """`single`: what the single model answers (None: no request may come from it)."""

    def proposer(request: dict[str, Any]) -> Reply:
        caller(request)  # one of the ROLES, or the test is wrong
        return Reply(answers[system_prompt(request)[:6]], delay=delay)

    def judging(request: dict[str, Any]) -> Reply:
        return Reply(fused(judge(request), moderator) if asks_for_decision(request) else judge(request))

    return by_caller(
        proposer=proposer,
        judge=judging,
        moderator=moderator,
        aggregator=SYNTHESIS,
        single=single if single is not None else lambda request: Reply(caller(request)),
    )


def smoa(**fields: Any) -> orchestrator_pb2.GenerateRequest:
    """Separate judge and moderator unless a test says otherwise: the tests count each one's calls."""
    defaults: dict[str, Any] = {
        "n": 3,
        "k": 2,
        "max_layers": 2,
        "roles": orchestrator_pb2.Roles(roles=ROLES),
        "fused_judge_moderator": False,
    }
    return orchestrator_pb2.GenerateRequest(messages=question(), **{**defaults, **fields})


def counts(fake: FakeOpenAI) -> dict[str, int]:
    found: dict[str, int] = {}
    for request in fake.calls():
        found[caller(request)] = found.get(caller(request), 0) + 1
    return found


def fused(scores: str, decision: str) -> str:
    """A fused judge's reply: the scores and the moderator's decision in one object (as they are, when
    either is not a JSON object: hostile replies stay hostile)."""
    try:
        both = {**json.loads(decision), **json.loads(scores)}  # the judge's own decision wins
    except (ValueError, TypeError):
        return scores
    return json.dumps(both)
