"""What an LLM that answers every smoa caller at once and validly says: the judge scores every response it
was shown (and, when fused, says continue), the moderator says continue, each proposer's answer differs by
role (so neither dedup nor the consensus check ends a layer early) and the aggregator, as a single model
would, writes a fixed answer.

One policy for both of its users: `instant_reply`, a FakeOpenAI script for the tests, and `answer`, the
bare text that smoa_testing/fake_llm/instant_server.py serves."""

from __future__ import annotations

import json
import zlib
from typing import Any

from smoa_testing.fake_llm.callers import asks_for_decision, by_caller
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.stacks.running_service import shown_responses

FINAL_ANSWER = "The synthesized answer is forty two"
CONTINUE = {"decision": "continue", "reason": "another round may help"}


def judge_answer(request: dict[str, Any]) -> str:
    labels = list(shown_responses(request))
    verdict: dict[str, object] = {"scores": {label: 9 - i % 9 for i, label in enumerate(labels)}}
    if asks_for_decision(request):
        verdict |= CONTINUE
    return json.dumps(verdict)


def proposer_answer(request: dict[str, Any]) -> str:
    # Distinct per role, in wording and in the final number (the answer key), so neither dedup nor the
    # answer-key consensus ends a layer early: every request runs all its layers.
    role = zlib.crc32(system_prompt(request).encode())
    return f"Speaking as role {role % 997} the count comes to {role % 1000} after careful thought"


instant_reply = by_caller(
    proposer=lambda request: Reply(proposer_answer(request)),
    judge=lambda request: Reply(judge_answer(request)),
    moderator=json.dumps(CONTINUE),
    aggregator=FINAL_ANSWER,
)


def answer(request: dict[str, Any]) -> str:
    return instant_reply(request).text
