"""Structured outputs through the gateway, as backends ask for them: the openai SDK's `response_format`
(json_schema and json_object) and LangChain's `with_structured_output` (json_schema and json_mode), in
front of real services whose LLM endpoint answers in the requested form. The proposers and the
aggregator are asked for the caller's schema; the judge keeps its own; the answer parses and validates."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import jsonschema
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from smoa_services.ensemble.answer_format import JSON_ONLY
from smoa_testing.fake_llm.callers import caller_of
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

MODEL = "smoa:n=3,k=2,layers=1"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "unit": {"type": "string"}},
    "required": ["answer", "unit"],
    "additionalProperties": False,
}
JSON_SCHEMA: Any = {"type": "json_schema", "json_schema": {"name": "count", "schema": SCHEMA}}
JSON_OBJECT: Any = {"type": "json_object"}
QUESTION: Any = [{"role": "user", "content": "A farmer has 12 cows and buys 30 more. How many cows?"}]


def structured(request: dict[str, Any]) -> Reply:
    """Answers a request told to answer in JSON with JSON (key order differing per proposer, as models
    do); every other request as the instant endpoint does."""
    if caller_of(request) in {"proposer", "aggregator", "single"} and JSON_ONLY in system_prompt(request):
        if "'answer' is" in json.dumps(request["messages"][-1]):  # a repair: asked again
            return Reply(text='{"answer": 42, "unit": "cows"}')
        seed = request.get("seed") or 0
        value = {"unit": "cows", "answer": 42} if seed % 2 else {"answer": 42, "unit": "cows"}
        return Reply(text=json.dumps(value, indent=seed % 3))
    return instant_reply(request)


async def test_the_sdks_json_schema_answer_validates_and_every_writer_was_asked_for_it() -> None:
    with FakeOpenAI(structured) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            reply = await client.chat.completions.create(
                model=MODEL,
                messages=QUESTION,
                response_format=JSON_SCHEMA,
                # Every call made, so the judge and the aggregator see the JSON answers too.
                extra_body={
                    "smoa": {"skips": {"judge_on_consensus": False, "synthesis_on_agreement": False}}
                },
            )
        requests = llm.calls()
    answer = json.loads(reply.choices[0].message.content or "")
    jsonschema.validate(answer, SCHEMA)
    assert answer == {"answer": 42, "unit": "cows"}
    writers = [r for r in requests if caller_of(r) in {"proposer", "aggregator"}]
    assert writers and all(
        JSON_ONLY in system_prompt(r) and json.dumps(SCHEMA) in system_prompt(r) for r in writers
    )
    assert all("response_format" in r for r in writers)
    # The proposers' three answers differ only in key order and spacing: one answer, once canonical.
    assert reply.model_extra and reply.model_extra["smoa"]["layers"][0]["duplicate_ids"]
    assert {caller_of(r) for r in requests} >= {"proposer", "aggregator"}


async def test_a_stream_sends_the_checked_json_text() -> None:
    with FakeOpenAI(structured) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            chunks = await client.chat.completions.create(
                model=MODEL,
                messages=QUESTION,
                response_format=JSON_OBJECT,
                stream=True,
            )
            text = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
    assert json.loads(text) == {"answer": 42, "unit": "cows"}


class Count(BaseModel):
    answer: int
    unit: str


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
async def test_langchain_with_structured_output(method: Literal["json_schema", "json_mode"]) -> None:
    with FakeOpenAI(structured) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            chat = ChatOpenAI(base_url=f"{url}/v1", api_key=SecretStr("unused"), model=MODEL, max_retries=0)
            runnable = chat.with_structured_output(Count, method=method)
            found = await runnable.ainvoke(QUESTION[0]["content"])
    assert found == Count(answer=42, unit="cows")


@pytest.mark.parametrize(
    ("response_format", "says"),
    [
        (
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "no-such-type"}}},
            "JSON Schema",
        ),
        ({"type": "json_schema", "json_schema": "nope"}, "json_schema"),
        ({"type": "xml"}, "json_object"),
    ],
)
async def test_a_bad_schema_is_a_bad_request_naming_response_format(response_format: Any, says: str) -> None:
    with FakeOpenAI(structured) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            with pytest.raises(openai.BadRequestError) as refused:
                await client.chat.completions.create(
                    model=MODEL, messages=QUESTION, response_format=response_format
                )
        assert not llm.calls()
    assert isinstance(refused.value.body, dict) and refused.value.body["param"] == "response_format"
    assert says in refused.value.body["message"]


async def test_a_final_call_that_hangs_past_its_budget_gives_the_best_kept_valid_answer_flagged() -> None:
    """The aggregator's structured call never answers within its budget: the answer is a kept one that is
    valid, and says so; the request neither hangs nor fails."""

    def hanging_aggregator(request: dict[str, Any]) -> Reply:
        if caller_of(request) == "aggregator":
            return Reply(text='{"answer": 1, "unit": "cows"}', delay=30.0)
        return structured(request)

    with FakeOpenAI(hanging_aggregator) as llm:
        async with (
            orchestrator_stack(llm.base_url, llm_timeout_seconds=1.0) as stack,
            gateway(stack.port) as url,
        ):
            started = asyncio.get_running_loop().time()
            reply = await openai_client(url).chat.completions.create(
                model=MODEL,
                messages=QUESTION,
                response_format=JSON_SCHEMA,
                extra_body={
                    "smoa": {"skips": {"judge_on_consensus": False, "synthesis_on_agreement": False}}
                },
            )
            took = asyncio.get_running_loop().time() - started
    assert json.loads(reply.choices[0].message.content or "") == {"answer": 42, "unit": "cows"}
    assert reply.model_extra and reply.model_extra["smoa"]["degraded"]
    [degradation] = reply.model_extra["smoa"]["degradations"]
    assert degradation["stage"] == "aggregator" and "kept first that is valid" in degradation["reason"]
    assert took < 15
