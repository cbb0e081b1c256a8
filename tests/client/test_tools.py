"""Tools through the SDK over gRPC: the two-step loop (the answer is a tool call; its result goes back as a
tool's message and the answer comes from it), a stream's summary carrying the calls, and bad tools refused
by the SDK (ValueError naming the field) or by the service (INVALID_ARGUMENT naming it)."""

from __future__ import annotations

import pytest

from smoa import InvalidArgumentError, Message, SmoaClient, Summary, Token, Tool
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.fake_llm.weather_agent import ANSWER, PARAMETERS, agent

WEATHER = Tool("get_weather", "The weather now in a city.", PARAMETERS)
CLOCK = Tool("get_time", "The time now.")
QUESTION = "What is the weather in Paris?"


def test_a_two_step_tool_loop(client: SmoaClient, fake: FakeOpenAI) -> None:
    fake.script = agent
    called = client.generate(QUESTION, n=3, k=2, max_layers=1, tools=[WEATHER, CLOCK])
    [call] = called.tool_calls
    assert called.text == "" and call.name == "get_weather" and call.args == {"city": "Paris"}
    history = [
        Message("user", QUESTION),
        Message("assistant", "", tool_calls=called.tool_calls),
        Message("tool", '{"temperature_c": 18}', tool_call_id=call.id),
    ]
    answered = client.generate(history, n=3, k=2, max_layers=1, tools=[WEATHER, CLOCK])
    assert answered.text == ANSWER and answered.tool_calls == ()
    # Single mode takes tools the same way; "none" offers none and answers in text.
    assert client.generate(QUESTION, mode="single", tools=[WEATHER]).tool_calls[0].name == "get_weather"
    untooled = client.generate(QUESTION, mode="single", tools=[WEATHER], tool_choice="none")
    assert untooled.text and not untooled.tool_calls


def test_a_stream_ends_with_the_calls_and_sends_no_text(client: SmoaClient, fake: FakeOpenAI) -> None:
    fake.script = agent
    events = list(client.stream(QUESTION, n=3, k=2, max_layers=1, tools=[WEATHER], tool_choice="get_weather"))
    summary = events[-1]
    assert isinstance(summary, Summary) and summary.result.tool_calls[0].args == {"city": "Paris"}
    assert not "".join(e.text for e in events if isinstance(e, Token))


def test_bad_tools_are_refused_naming_the_field(client: SmoaClient, fake: FakeOpenAI) -> None:
    fake.script = agent
    before = len(fake.calls())
    with pytest.raises(ValueError, match="tool_choice"):
        client.generate(QUESTION, tools=[WEATHER], tool_choice="get_time")
    with pytest.raises(ValueError, match=r"messages\[1\].tool_call_id"):
        client.generate([Message("user", QUESTION), Message("tool", "18")], tools=[WEATHER])
    with pytest.raises(InvalidArgumentError) as caught:
        client.generate(
            QUESTION, tools=[Tool("get weather"), WEATHER, WEATHER, Tool("t", parameters={"type": 7})]
        )
    assert [v.field for v in caught.value.violations] == [
        "tools[0].name",
        "tools[2].name",
        "tools[3].parameters",
    ]
    assert len(fake.calls()) == before
