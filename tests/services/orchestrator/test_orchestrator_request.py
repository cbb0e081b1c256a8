"""From a GenerateRequest to a Plan: defaults, per-agent models and seeds, and the request checks."""

from __future__ import annotations

import pytest

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.config import Settings
from smoa_services.orchestrator.plan import Mode
from smoa_services.orchestrator.request import check_request, plan_of

USER = common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="hi")
SETTINGS = Settings(n=4, k=2, max_layers=3, roles='["d1", "d2"]')


def request(**fields: object) -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(messages=[USER], **fields)  # type: ignore[arg-type]


TOOL = common_pb2.Tool(name="get_weather", parameters='{"type": "object"}')
DEEP = '{"properties": {"a": ' * 100 + "{}" + "}}" * 100
UNKNOWN_CHOICE = common_pb2.ToolChoice(mode=9)  # type: ignore[arg-type]
RESULT = common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_TOOL, content="18", tool_call_id="c")


def json_schema(schema: str) -> common_pb2.ResponseFormat:
    return common_pb2.ResponseFormat(format=common_pb2.OUTPUT_FORMAT_JSON_SCHEMA, json_schema=schema)


def named(function: str) -> common_pb2.ToolChoice:
    return common_pb2.ToolChoice(mode=common_pb2.ToolChoice.MODE_FUNCTION, function=function)


def called(*calls: common_pb2.ToolCall) -> common_pb2.ChatMessage:
    return common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_ASSISTANT, tool_calls=calls)


def conversation(*after_the_question: common_pb2.ChatMessage) -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(messages=[USER, *after_the_question], tools=[TOOL])


def test_defaults_fill_in() -> None:
    p = plan_of(request(), SETTINGS)
    assert (p.mode, p.n, p.k, p.max_layers, p.seed) == (Mode.SMOA, 4, 2, 3, None)
    assert p.default_roles == ("d1", "d2") and p.roles == () and p.task_description == ""
    assert p.conversation == ({"role": "user", "content": "hi"},)
    # k defaults to min(settings.k, n).
    assert plan_of(request(n=1), SETTINGS).k == 1


def test_judge_and_moderator_are_fused_unless_the_request_or_the_service_says_otherwise() -> None:
    assert plan_of(request(), SETTINGS).fused_judge_moderator is True
    assert plan_of(request(fused_judge_moderator=False), SETTINGS).fused_judge_moderator is False
    separate = Settings(fused_judge_moderator=False)
    assert plan_of(request(), separate).fused_judge_moderator is False
    assert plan_of(request(fused_judge_moderator=True), separate).fused_judge_moderator is True


def test_agent_overrides_and_seeds() -> None:
    base = common_pb2.ModelSettings(model="base", temperature=0.5)
    agents = [orchestrator_pb2.AgentOverride(index=1, model=common_pb2.ModelSettings(model="big", seed=7))]
    p = plan_of(request(n=3, model=base, agents=agents, seed=40), SETTINGS)
    assert [(m.model, m.seed, m.temperature) for m in p.proposer_models] == [
        ("base", 40, 0.5),
        ("big", 7, 0.5),  # the agent's own seed is kept
        ("base", 42, 0.5),
    ]
    assert p.judge_seed(2) == 42 and plan_of(request(), SETTINGS).judge_seed(1) is None


def test_role_sources() -> None:
    assert plan_of(request(roles=orchestrator_pb2.Roles(roles=["a"])), SETTINGS).roles == ("a",)
    assert plan_of(request(task_description="t"), SETTINGS).task_description == "t"


BAD = [
    (orchestrator_pb2.GenerateRequest(), "messages"),
    (request(n=33), "n"),
    (request(n=-1), "n"),
    (request(n=3, k=4), "k"),
    (request(k=-1), "k"),
    (request(max_layers=11), "max_layers"),
    (request(max_layers=-1), "max_layers"),
    (request(mode=9), "mode"),
    (request(model=common_pb2.ModelSettings(max_tokens=0)), "model.max_tokens"),
    (
        request(
            agents=[orchestrator_pb2.AgentOverride(index=0, model=common_pb2.ModelSettings(max_tokens=-1))]
        ),
        "agents[0].model.max_tokens",
    ),
    (request(n=2, agents=[orchestrator_pb2.AgentOverride(index=2)]), "agents[0].index"),
    (request(roles=orchestrator_pb2.Roles(roles=["a", " "])), "roles.roles[1]"),
    (request(token_budget=-5), "token_budget"),
    (request(tools=[common_pb2.Tool(name="has space")]), "tools[0].name"),
    (request(tools=[TOOL, TOOL]), "tools[1].name"),
    (request(tools=[common_pb2.Tool(name="t", parameters='{"type": 7}')]), "tools[0].parameters"),
    (request(tools=[common_pb2.Tool(name="t", parameters="not json")]), "tools[0].parameters"),
    (request(tools=[TOOL], tool_choice=UNKNOWN_CHOICE), "tool_choice.mode"),
    (request(tools=[TOOL], tool_choice=named("nope")), "tool_choice.function"),
    (request(tool_choice=common_pb2.ToolChoice(mode=common_pb2.ToolChoice.MODE_REQUIRED)), "tool_choice"),
    (request(tools=[TOOL] * 129), "tools"),
    # What the validator would choke on mid-answer: refused before any call.
    (request(tools=[common_pb2.Tool(name="t", parameters=DEEP)]), "tools[0].parameters"),
    (request(response_format=json_schema('{"$ref": "#/$defs/gone"}')), "response_format.json_schema"),
    (
        conversation(common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_TOOL, content="18")),
        "messages[1].tool_call_id",
    ),
    (
        conversation(common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="x", tool_call_id="c")),
        "messages[1].tool_call_id",
    ),
    (conversation(called(common_pb2.ToolCall(id="c", name="no space"))), "messages[1].tool_calls[0].name"),
    (conversation(called(common_pb2.ToolCall(id="", name="t"))), "messages[1].tool_calls[0].id"),
    (conversation(called(common_pb2.ToolCall(id="c", name="t", arguments="{}"))), "messages[1].role"),
]


@pytest.mark.parametrize(("bad", "field"), BAD)
def test_bad_requests_name_the_field(bad: orchestrator_pb2.GenerateRequest, field: str) -> None:
    assert field in [v.field for v in check_request(bad, SETTINGS)]


def test_oversized_conversation_is_refused_on_messages() -> None:
    big = common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="x" * 101)
    found = check_request(orchestrator_pb2.GenerateRequest(messages=[big]), Settings(max_prompt_chars=100))
    assert [v.field for v in found] == ["messages"]


def test_a_good_request_passes() -> None:
    assert check_request(request(n=32, k=32, max_layers=10, token_budget=0), SETTINGS) == []
    # A two-step tool loop: the call, its result last.
    call = common_pb2.ToolCall(id="c", name="get_weather", arguments='{"city": "Paris"}')
    assert check_request(conversation(called(call), RESULT), SETTINGS) == []


def test_tools_reach_the_plan_as_a_reply_format_every_writer_is_asked_for() -> None:
    plain = plan_of(request(), SETTINGS)
    assert plain.tool_use is None and not plain.answer_format.json
    p = plan_of(request(tools=[TOOL], parallel_tool_calls=False), SETTINGS)
    assert p.tool_use and [t.name for t in p.tool_use.offered] == ["get_weather"] and not p.tool_use.parallel
    assert p.answer_format.json and '"get_weather"' in p.answer_format.schema
    none = plan_of(
        request(tools=[TOOL], tool_choice=common_pb2.ToolChoice(mode=common_pb2.ToolChoice.MODE_NONE)),
        SETTINGS,
    )
    assert none.tool_use is None


def test_a_conversation_that_leaves_no_room_for_answers_is_refused_at_the_front_door() -> None:
    """Under max_prompt_chars, yet too long to hold a role and the answers as well: every peer would refuse
    the second layer's prompts after the first was paid for."""
    settings = Settings(max_prompt_chars=200_000, max_message_chars=200_000, max_role_chars=4_000)

    def conversation(chars: int) -> orchestrator_pb2.GenerateRequest:
        message = common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="w" * chars)
        return orchestrator_pb2.GenerateRequest(messages=[message], n=4)

    assert not check_request(conversation(150_000), settings)
    (refused,) = check_request(conversation(195_000), settings)
    assert refused.field == "messages" and "leave room for a role and the answers" in refused.description
