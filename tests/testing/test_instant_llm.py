"""The instant LLM's routing against the requests the services really build: were a prompt reworded or
rearranged so that the services' own constants no longer tell their callers apart, these fail instead
of the tests and benchmarks silently judging with a proposer's answer."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from smoa_services.ensemble.consensus import agreement_of
from smoa_services.judge.prompt import judge_messages
from smoa_services.judge.verdict import parse_verdict
from smoa_services.moderator.prompt import moderator_messages
from smoa_services.orchestrator.prompt import GENERIC_ROLES, aggregator_messages
from smoa_services.orchestrator.records import Candidate
from smoa_services.proposer.prompt import proposer_messages
from smoa_testing.fake_llm.callers import caller_of
from smoa_testing.fake_llm.instant_llm import FINAL_ANSWER, answer, instant_reply

CONVERSATION = [{"role": "user", "content": "What is 6 times 7?"}]
WITH_SYSTEM = [{"role": "system", "content": "Answer in French."}, *CONVERSATION]
SHOWN = ["It is 42.", "Forty-two.", "I think 41."]


def request(messages: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    return {"model": "instant", "messages": messages}


@pytest.mark.parametrize("conversation", [CONVERSATION, WITH_SYSTEM])
def test_the_judge_gets_a_valid_score_for_every_response_shown(conversation: list[dict[str, str]]) -> None:
    judged = request(judge_messages(conversation, SHOWN, decide=False))
    assert caller_of(judged) == "judge"
    verdict = parse_verdict(answer(judged), ["1", "2", "3"], decide=False)
    assert sorted(verdict.scores) == ["1", "2", "3"]


def test_the_fused_judge_also_says_continue() -> None:
    judged = request(judge_messages(CONVERSATION, SHOWN, decide=True))
    assert caller_of(judged) == "judge"
    reply = answer(judged)
    assert sorted(parse_verdict(reply, ["1", "2", "3"], decide=False).scores) == ["1", "2", "3"]
    assert json.loads(reply)["decision"] == "continue"


def test_the_moderator_says_continue() -> None:
    moderated = request(moderator_messages(WITH_SYSTEM, SHOWN, layer=1, max_layers=2))
    assert caller_of(moderated) == "moderator"
    assert json.loads(answer(moderated))["decision"] == "continue"


@pytest.mark.parametrize("conversation", [CONVERSATION, WITH_SYSTEM])
def test_the_aggregator_writes_the_final_answer(conversation: list[dict[str, str]]) -> None:
    candidates = [Candidate(f"L1-P{i}", text) for i, text in enumerate(SHOWN)]
    aggregated = request(aggregator_messages(conversation, candidates, max_prompt_chars=100_000))
    assert caller_of(aggregated) == "aggregator"
    assert answer(aggregated) == FINAL_ANSWER


def test_a_single_model_writes_the_final_answer() -> None:
    assert caller_of(request(CONVERSATION)) == "single"
    assert instant_reply(request(CONVERSATION)).text == FINAL_ANSWER


@pytest.mark.parametrize("references", [[], SHOWN])
@pytest.mark.parametrize("conversation", [CONVERSATION, WITH_SYSTEM])
def test_proposers_answer_apart_so_every_layer_runs(
    conversation: list[dict[str, str]], references: list[str]
) -> None:
    proposed = [request(proposer_messages(conversation, role, references)) for role in GENERIC_ROLES]
    assert {caller_of(r) for r in proposed} == {"proposer"}
    answers = [answer(r) for r in proposed]
    assert len(set(answers)) == len(answers)
    assert not agreement_of(answers, threshold=0.5).consensus
