"""OpenAI's `stop`, `user`, `safety_identifier` and `metadata` through the gateway, sent by the openai SDK
and by LangChain's ChatOpenAI (which binds stop sequences in its chains): the stop sequences reach every
call that writes the answer and no JSON-writing one, and the labels are recorded with the request."""

from __future__ import annotations

from typing import Any

import openai
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from smoa_testing.fake_llm.callers import caller_of
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

MODEL = "smoa-separate:n=2,k=1,layers=2"
NO_SKIPS = {"skips": {"judge_on_consensus": False, "synthesis_on_agreement": False}}


def stops_by_caller(llm: FakeOpenAI) -> dict[str, set[str | None]]:
    found: dict[str, set[str | None]] = {}
    for request in llm.calls():
        stop: Any = request.get("stop")
        found.setdefault(caller_of(request), set()).add(None if stop is None else "|".join(stop))
    return found


async def test_the_openai_sdk_sends_stop_and_labels() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            reply = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "What is 6 times 7?"}],
                stop="\nObservation:",
                user="user-17",
                metadata={"team": "search"},
                extra_body={"smoa": NO_SKIPS},
            )
            labels = [
                dict(s.attributes or {})
                for s in stack.spans.get_finished_spans()
                if "smoa.mode" in (s.attributes or {})
            ]
        stops = stops_by_caller(llm)
    assert reply.choices[0].message.content
    assert stops["proposer"] == stops["aggregator"] == {"\nObservation:"}
    assert stops["judge"] == stops["moderator"] == {None}
    [attributes] = labels
    assert attributes["smoa.request.metadata.user"] == "user-17"
    assert attributes["smoa.request.metadata.team"] == "search"


async def test_langchain_binds_stop_sequences() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            chat = ChatOpenAI(
                base_url=f"{url}/v1",
                api_key=SecretStr("unused"),
                model=MODEL,
                max_retries=0,
                extra_body={"smoa": NO_SKIPS},
            )
            answer = await chat.bind(stop=["\nObservation:", "Final"]).ainvoke("What is 6 times 7?")
        stops = stops_by_caller(llm)
    assert isinstance(answer.content, str) and answer.content
    assert stops["proposer"] == stops["aggregator"] == {"\nObservation:|Final"}
    assert stops["judge"] == stops["moderator"] == {None}


async def test_too_many_stop_sequences_are_a_bad_request_naming_stop() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            try:
                await client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "hi"}], stop=["a", "b", "c", "d", "e"]
                )
            except openai.BadRequestError as e:
                refused = e
    assert isinstance(refused.body, dict) and refused.body["param"] == "stop"
