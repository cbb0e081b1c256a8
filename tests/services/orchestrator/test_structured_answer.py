"""The answer in a requested format (a JSON object, JSON valid against a schema), in the pipeline with
fake peers and a scripted final call: asked for in that format, checked with a JSON Schema library,
repaired once with the problem named, else the best kept answer that is valid (degraded), else a failure
naming the problem; never an invalid answer."""

from __future__ import annotations

import json

import grpc
import pytest

from smoa_services.ensemble.answer_format import AnswerFormat
from smoa_services.orchestrator.plan import Mode
from smoa_services.orchestrator.records import Token
from smoa_services.rpc.failure import LLMUnavailable, OutputNotValid
from tests.services.orchestrator.orchestrator_fakes import FakeChat, FakeProposers, fake_peers
from tests.services.orchestrator.test_pipeline import events_of, pipeline, plan, result_of, untimed

SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {"answer": {"type": "integer"}, "unit": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
)
FORM = AnswerFormat(json=True, schema=SCHEMA)
VALID = '{"unit": "cows", "answer": 42}'
CANONICAL = '{"answer":42,"unit":"cows"}'


def json_proposers(*texts: str) -> FakeProposers:
    by_role = dict(zip(("role-a", "role-b", "role-c"), texts, strict=True))
    return FakeProposers(answer=lambda role, refs: by_role[role])


async def test_a_valid_final_answer_is_sent_as_canonical_json() -> None:
    peers, _, _, _ = fake_peers(proposers=json_proposers(VALID, VALID, '{"answer": 41}'))
    chat = FakeChat(replies=['{ "answer" : 42 , "unit":"cows" }'])
    events, chat = await events_of(plan(max_layers=1, answer_format=FORM), peers, chat)
    result = result_of(events)
    assert result.text == CANONICAL and not result.degradations
    assert "".join(e.text for e in events if isinstance(e, Token)) == CANONICAL
    # Asked in the format: the schema itself, and the instruction that says so.
    [asked] = chat.completed
    assert SCHEMA in asked[0]["content"] and not chat.streamed


async def test_an_invalid_answer_is_asked_again_with_the_problem_named() -> None:
    peers, _, _, _ = fake_peers(proposers=json_proposers(VALID, '{"answer": 41}', '{"answer": 40}'))
    chat = FakeChat(replies=['{"answer": "forty-two"}', '{"answer": 42}'])
    events, chat = await events_of(plan(max_layers=1, answer_format=FORM), peers, chat)
    result = result_of(events)
    assert result.text == '{"answer":42}' and not result.degradations
    assert [s.action for s in result.steps] == ["format_repair"]
    second = chat.completed[1]
    assert second[-2] == {"role": "assistant", "content": '{"answer": "forty-two"}'}
    assert "at answer:" in second[-1]["content"] and "integer" in second[-1]["content"]
    assert result.cost.by_stage()["aggregator"].calls == 2


async def test_still_invalid_gives_the_best_kept_answer_that_is_valid() -> None:
    # The first kept answer is not valid; the second is.
    peers, _, _, _ = fake_peers(proposers=json_proposers("not json", VALID, "[1, 2]"))
    chat = FakeChat(replies=["Sure! The answer is 42.", '{"answer": 42, "extra": true}'])
    result = result_of((await events_of(plan(max_layers=1, answer_format=FORM), peers, chat))[0])
    assert result.text == CANONICAL
    [degradation] = result.degradations
    assert degradation.stage == "aggregator" and "kept first that is valid" in degradation.reason
    assert "additional" in degradation.reason.lower() or "extra" in degradation.reason


async def test_nothing_valid_fails_naming_the_problem_rather_than_answer() -> None:
    peers, _, _, _ = fake_peers(proposers=json_proposers("a", "b", "c"))
    chat = FakeChat(replies=["{}", "{}"])
    runner, _ = pipeline(chat)
    with pytest.raises(OutputNotValid) as failed:
        [e async for e in runner.run(plan(max_layers=1, answer_format=FORM), peers, untimed())]
    assert failed.value.code == grpc.StatusCode.UNAVAILABLE and failed.value.reason == "OUTPUT_NOT_VALID"
    assert "'answer' is a required property" in str(failed.value)


async def test_single_mode_is_checked_and_repaired_too() -> None:
    peers, proposers, _, _ = fake_peers()
    chat = FakeChat(replies=['```json\n{"answer": 42}\n```', '{"answer": 42}'])
    result = result_of((await events_of(plan(mode=Mode.SINGLE, answer_format=FORM), peers, chat))[0])
    assert result.text == '{"answer":42}' and not proposers.calls
    assert [s.action for s in result.steps] == ["format_repair"]


async def test_a_json_object_format_takes_any_object_but_nothing_else() -> None:
    peers, _, _, _ = fake_peers(proposers=json_proposers("1", "2", "3"))
    chat = FakeChat(replies=["[42]", '{"anything": [1, 2]}'])
    form = AnswerFormat(json=True)
    result = result_of((await events_of(plan(max_layers=1, answer_format=form), peers, chat))[0])
    assert result.text == '{"anything":[1,2]}'
    assert "not an object" in result.steps[0].reason


async def test_agreeing_answers_skip_the_aggregator_only_when_they_are_valid() -> None:
    skip = {"skip_synthesis_on_agreement": True, "max_layers": 1, "answer_format": FORM}
    peers, _, _, _ = fake_peers(proposers=json_proposers(CANONICAL, CANONICAL, CANONICAL))
    chat = FakeChat(replies=[])
    result = result_of((await events_of(plan(**skip), peers, chat))[0])
    assert result.text == CANONICAL and not chat.completed
    # Answers that agree on something invalid go to the aggregator, which writes a valid one.
    peers, _, _, _ = fake_peers(
        proposers=json_proposers('{"answer": 1.5}', '{"answer": 1.5}', '{"answer": 1.5}')
    )
    chat = FakeChat(replies=['{"answer": 2}'])
    result = result_of((await events_of(plan(**skip), peers, chat))[0])
    assert result.text == '{"answer":2}' and len(chat.completed) == 1


async def test_a_failed_final_call_falls_back_to_a_valid_kept_answer_or_fails_with_its_own_status() -> None:
    unavailable = LLMUnavailable("", "HTTP 500")
    peers, _, _, _ = fake_peers(proposers=json_proposers(VALID, VALID, "y"))
    result = result_of(
        (await events_of(plan(max_layers=1, answer_format=FORM), peers, FakeChat(fail=unavailable)))[0]
    )
    assert result.text == CANONICAL and "the aggregator failed" in result.degradations[0].reason
    runner, _ = pipeline(FakeChat(fail=unavailable))
    with pytest.raises(LLMUnavailable):
        [e async for e in runner.run(plan(mode=Mode.SINGLE, answer_format=FORM), peers, untimed())]
