"""Tools and JSON Schemas, fuzzed through everything that reads them before and after the ensemble: the
gateway's reading of the body, the orchestrator's checks, the plan's reply schema, and the check of a
final reply against it. Each body is a request or a named refusal, each accepted one makes a reply schema
that checks any reply without raising anything but AnswerInvalid, so no tool or schema can get a 500."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from smoa_services.config import Settings
from smoa_services.ensemble.answer_format import AnswerInvalid
from smoa_services.gateway.bad_field import BadField
from smoa_services.gateway.chat_request import chat_request
from smoa_services.orchestrator.request import check_request, plan_of
from tests.fuzz_budget import fuzz

SETTINGS = Settings()
KEYWORDS = ["type", "properties", "items", "required", "$ref", "$defs", "definitions", "anyOf", "enum",
            "additionalProperties", "minItems", "const", "$id", "$schema"]  # fmt: skip
REFS = st.sampled_from(["#", "#/$defs/a", "#/definitions/a", "#/properties/x", "#/$defs/missing", "x.json"])
TYPES = st.sampled_from(["object", "string", "integer", "array", "nothing"])
LEAF = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | REFS | TYPES
SCHEMA = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYWORDS) | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=25,
)
NAME = st.sampled_from(["get_weather", "get_time", "bad name", ""]) | st.text(max_size=6)
TOOL = st.fixed_dictionaries(
    {"type": st.just("function") | SCHEMA, "function": st.fixed_dictionaries(
        {"name": NAME}, optional={"description": st.text(max_size=20), "parameters": SCHEMA}
    ) | SCHEMA}
)  # fmt: skip
CALL = st.fixed_dictionaries(
    {"id": st.text(max_size=6), "type": st.just("function"),
     "function": st.fixed_dictionaries({"name": NAME, "arguments": st.text(max_size=20)})}
)  # fmt: skip
MESSAGES = st.lists(
    st.fixed_dictionaries({"role": st.just("assistant"), "content": st.none(), "tool_calls": st.lists(CALL)})
    | st.fixed_dictionaries(
        {"role": st.just("tool"), "content": st.text(max_size=20), "tool_call_id": st.text(max_size=6)}
    ),
    max_size=3,
).map(lambda turns: [{"role": "user", "content": "Weather in Paris?"}, *turns])
CHOICE = st.sampled_from(["auto", "none", "required"]) | st.fixed_dictionaries(
    {"type": st.just("function"), "function": st.fixed_dictionaries({"name": NAME})}
)
BODIES = st.fixed_dictionaries(
    {"model": st.just("smoa"), "messages": MESSAGES, "tools": st.lists(TOOL, max_size=3)},
    optional={
        "tool_choice": CHOICE,
        "parallel_tool_calls": st.booleans(),
        "response_format": st.fixed_dictionaries(
            {
                "type": st.just("json_schema"),
                "json_schema": st.fixed_dictionaries({"name": NAME, "schema": SCHEMA}),
            }
        ),
    },
)
REPLIES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["answer", "tool_calls", "name", "arguments", "x", "city"]), inner, max_size=3
    ),
    max_leaves=15,
)  # fmt: skip


@fuzz(300)
@given(BODIES, REPLIES)
def test_any_tools_are_refused_by_name_or_make_a_reply_schema_that_checks_any_reply(
    body: dict[str, Any], reply: Any
) -> None:
    try:
        request = chat_request(body)
    except BadField as refused:
        assert refused.status == 400 and str(refused)
        event("refused by the gateway")
        return
    violations = check_request(request.generate, SETTINGS)
    if violations:
        assert all(v.field and v.description for v in violations)
        event("refused by the orchestrator")
        return
    plan = plan_of(request.generate, SETTINGS)
    try:
        checked = plan.answer_format.check(json.dumps(reply))
    except AnswerInvalid as invalid:
        assert str(invalid)
        event("reply invalid")
        return
    event("reply valid")
    if plan.tool_use is not None:
        plan.tool_use.reply(checked)
