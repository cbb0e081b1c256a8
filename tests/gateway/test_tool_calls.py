"""Tool calls through the gateway, as agent frameworks make them: the openai SDK's and LangChain's
`bind_tools` two-step loops (call, then the tool's result fed back), streamed tool-call deltas, each
tool_choice, and a final reply whose arguments are not valid being repaired. Real services in front of a
scripted endpoint that plays a model that calls a weather tool until it has the result."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletion
from pydantic import SecretStr

from smoa_services.ensemble.tool_use import REPLY_DESCRIPTION
from smoa_testing.fake_llm.callers import caller_of
from smoa_testing.fake_llm.chat_script import Reply, Script, system_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.fake_llm.weather_agent import ANSWER, PARAMETERS, agent
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

MODEL = "smoa:n=3,k=2,layers=1"
MIXED = "smoa:n=4,k=2,layers=1"
EVERY_CALL: Any = {"smoa": {"skips": {"judge_on_consensus": False, "synthesis_on_agreement": False}}}
# Proposers seeded 1 to n: their calls differ (agent() says how).
SEEDED: Any = {"smoa": {**EVERY_CALL["smoa"], "seed": 1}}
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather now in a city.",
        "parameters": PARAMETERS,
    },
}
CLOCK: Any = {"type": "function", "function": {"name": "get_time", "description": "The time now."}}
# Past what the schema validator can recurse through: refused, where it was once a 500.
DEEP: Any = json.loads('{"properties": {"a": ' * 100 + "{}" + "}}" * 100)
QUESTION: Any = [{"role": "user", "content": "What is the weather in Paris?"}]


async def test_the_sdks_two_step_loop_calls_the_tool_then_answers_from_its_result() -> None:
    with FakeOpenAI(agent) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            # Seeded: the four proposers' calls differ (three distinct once canonical), so the judge ranks.
            first = await client.chat.completions.create(
                model=MIXED, messages=QUESTION, tools=[WEATHER, CLOCK], extra_body=SEEDED
            )
            choice = first.choices[0]
            [call] = choice.message.tool_calls or []
            assert choice.finish_reason == "tool_calls" and choice.message.content is None
            assert call.type == "function" and call.function.name == "get_weather"
            assert json.loads(call.function.arguments) == {"city": "Paris"}
            assert call.id.startswith("call_")
            result = {"role": "tool", "tool_call_id": call.id, "content": '{"temperature_c": 18}'}
            history: list[Any] = [*QUESTION, choice.message.model_dump(exclude_none=True), result]
            second = await client.chat.completions.create(
                model=MIXED,
                messages=history,
                tools=[WEATHER, CLOCK],
                extra_body=EVERY_CALL,
            )
        requests = llm.calls()
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == ANSWER
    writers = [r for r in requests if caller_of(r) in {"proposer", "aggregator"}]
    # Every writer saw both tools, with their descriptions; the second round saw the call and its result.
    assert all(
        "The weather now in a city." in system_prompt(r) and "get_time" in system_prompt(r) for r in writers
    )
    second_round = [r for r in writers if "temperature_c" in json.dumps(r["messages"])]
    assert second_round and all(
        "get_weather" in json.dumps(r["messages"][:-1]) for r in second_round
    )  # the assistant's call, as the reply JSON it would write
    # Two calls differed only in key order and spacing: one, once canonical; the judge ranked the rest.
    layer = first.model_extra and first.model_extra["smoa"]["layers"][0]
    assert layer and len(layer["duplicate_ids"]) == 1 and len(layer["kept_ids"]) == 2, layer
    assert "judge" in {caller_of(r) for r in requests}


async def test_a_stream_sends_the_tool_call_as_deltas_then_finishes_with_tool_calls() -> None:
    with FakeOpenAI(agent) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            chunks = await openai_client(url).chat.completions.create(
                model=MODEL, messages=QUESTION, tools=[WEATHER], stream=True
            )
            events = [c async for c in chunks if c.choices]
    deltas = [d for c in events for d in c.choices[0].delta.tool_calls or []]
    assert [d.index for d in deltas] == [0] and deltas[0].function and deltas[0].id
    assert deltas[0].function.name == "get_weather"
    assert json.loads(deltas[0].function.arguments or "") == {"city": "Paris"}
    assert events[-1].choices[0].finish_reason == "tool_calls"
    assert not "".join(c.choices[0].delta.content or "" for c in events)


@tool
def get_weather(city: str) -> str:
    """The weather now in a city."""
    return json.dumps({"city": city, "temperature_c": 18})


async def test_langchain_bind_tools_agent_loop_of_two_steps() -> None:
    with FakeOpenAI(agent) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            chat = ChatOpenAI(base_url=f"{url}/v1", api_key=SecretStr("unused"), model=MODEL, max_retries=0)
            bound = chat.bind_tools([get_weather])
            history: list[Any] = [HumanMessage("What is the weather in Paris?")]
            called = await bound.ainvoke(history)
            history.append(called)
            for call in called.tool_calls:
                history.append(ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"]))
            answered = await bound.ainvoke(history)
    [call] = called.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris"}
    assert not answered.tool_calls
    assert answered.content == ANSWER


@pytest.mark.parametrize(
    ("tool_choice", "parallel", "schema_has", "schema_lacks"),
    [
        ("required", None, '"minItems":1', '"answer"'),
        ({"type": "function", "function": {"name": "get_weather"}}, None, "get_weather", "get_time"),
        ("auto", False, '"maxItems":1', "nothing"),
    ],
)
async def test_the_tool_choice_shapes_what_every_writer_may_reply(
    tool_choice: Any, parallel: bool | None, schema_has: str, schema_lacks: str
) -> None:
    with FakeOpenAI(agent) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            extra: Any = {} if parallel is None else {"parallel_tool_calls": parallel}
            reply = await openai_client(url).chat.completions.create(
                model=MODEL, messages=QUESTION, tools=[WEATHER, CLOCK], tool_choice=tool_choice, **extra
            )
        requests = llm.calls()
    assert reply.choices[0].finish_reason == "tool_calls"
    proposers = [r for r in requests if caller_of(r) == "proposer" and REPLY_DESCRIPTION in system_prompt(r)]
    assert len(proposers) == 3
    for r in proposers:
        schema = json.dumps(r["response_format"], separators=(",", ":"))
        assert schema_has in schema and schema_lacks not in schema


async def test_tool_choice_none_offers_no_tools_and_answers_in_text() -> None:
    with FakeOpenAI(agent) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            reply = await openai_client(url).chat.completions.create(
                model=MODEL, messages=QUESTION, tools=[WEATHER], tool_choice="none"
            )
        requests = llm.calls()
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content
    assert not reply.choices[0].message.tool_calls
    assert not any(REPLY_DESCRIPTION in system_prompt(r) for r in requests)


async def weather_reply(script: Script) -> ChatCompletion:
    """One request offering the weather tool, every call made, to a stack whose model plays `script`."""
    with FakeOpenAI(script) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            return await openai_client(url).chat.completions.create(
                model=MODEL, messages=QUESTION, tools=[WEATHER], extra_body=EVERY_CALL
            )


async def test_a_final_call_with_arguments_not_valid_is_asked_again_with_the_problem_named() -> None:
    def sloppy_aggregator(request: dict[str, Any]) -> Reply:
        if caller_of(request) == "aggregator" and "tool_calls/0/arguments" not in json.dumps(
            request["messages"]
        ):
            return Reply(text='{"tool_calls": [{"name": "get_weather", "arguments": {"town": "Paris"}}]}')
        return agent(request)

    reply = await weather_reply(sloppy_aggregator)
    [call] = reply.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert reply.model_extra and not reply.model_extra["smoa"].get("degraded")
    assert [s["action"] for s in reply.model_extra["smoa"]["steps"]] == ["format_repair"]


async def test_a_final_call_that_answers_garbage_gives_a_kept_valid_call_flagged() -> None:
    def garbage_aggregator(request: dict[str, Any]) -> Reply:
        if caller_of(request) == "aggregator":
            return Reply(text="I would call get_weather(Paris)")
        return agent(request)

    reply = await weather_reply(garbage_aggregator)
    [call] = reply.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert reply.model_extra and reply.model_extra["smoa"]["degraded"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tools": [{"type": "function", "function": {"name": "x", "parameters": {"type": 7}}}]}, "tools"),
        ({"tools": [WEATHER, WEATHER]}, "tools"),
        ({"tools": [{"type": "function", "function": {"name": "x", "parameters": DEEP}}]}, "tools"),
        (
            {
                "tools": [
                    {"type": "function", "function": {"name": "x", "parameters": {"$ref": "#/$defs/no"}}}
                ]
            },
            "tools",
        ),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "tool_choice",
        ),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": "get_weather"}, "tools"),
        ({"messages": [*QUESTION, {"role": "tool", "content": "18"}]}, "messages[1].tool_call_id"),
        (
            {"messages": [*QUESTION, {"role": "assistant", "tool_calls": [{"id": "c", "function": {}}]}]},
            "messages[1].tool_calls[0]",
        ),
    ],
)
async def test_a_bad_tool_is_a_bad_request_naming_the_field(body: dict[str, Any], param: str) -> None:
    with FakeOpenAI(agent) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            with pytest.raises(openai.BadRequestError) as refused:
                await openai_client(url).chat.completions.create(
                    **{"model": MODEL, "messages": QUESTION, **body}
                )
        assert not llm.calls()
    assert isinstance(refused.value.body, dict) and refused.value.body["param"] == param
