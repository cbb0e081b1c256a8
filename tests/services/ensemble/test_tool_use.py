"""ToolUse, the tools as one more answer format: the reply schema every writer is asked for (its tools'
own definitions moved where their references still find them), what it lets through, and the reply the
caller gets from a checked one."""

from __future__ import annotations

import json

import pytest

from smoa_services.ensemble.answer_format import AnswerFormat, AnswerInvalid, schema_problem
from smoa_services.ensemble.tool_use import Tool, ToolCall, ToolUse, conversation_text

# As pydantic (LangChain's bind_tools, the openai SDK's pydantic_function_tool) writes a nested model.
BOOKING = {
    "type": "object",
    "$defs": {"Guest": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
    "properties": {"guests": {"type": "array", "items": {"$ref": "#/$defs/Guest"}}},
    "required": ["guests"],
}
# The same definition name in another tool, under the draft-7 keyword: it must not clash.
INVOICE = {
    "type": "object",
    "definitions": {"Guest": {"type": "integer"}},
    "properties": {"guest": {"$ref": "#/definitions/Guest"}},
    "required": ["guest"],
}
TOOLS = (Tool("book", "Book a table.", json.dumps(BOOKING)), Tool("invoice", "", json.dumps(INVOICE)))


def calls(*calls: object) -> str:
    return json.dumps({"tool_calls": list(calls)})


def test_the_reply_schema_is_a_valid_schema_whose_references_resolve() -> None:
    form = ToolUse(TOOLS).reply_format
    assert form.json and schema_problem(form.schema) is None
    good = calls(
        {"name": "book", "arguments": {"guests": [{"name": "Ada"}]}},
        {"name": "invoice", "arguments": {"guest": 7}},
    )
    assert json.loads(form.check(good))["tool_calls"][1] == {"arguments": {"guest": 7}, "name": "invoice"}
    assert form.check('{"answer": "Booked."}') == '{"answer":"Booked."}'
    # Each tool's Guest is its own: a name where book wants one, an integer where invoice does.
    with pytest.raises(AnswerInvalid, match="tool_calls/0/arguments/guests/0"):
        form.check(calls({"name": "book", "arguments": {"guests": [{"age": 3}]}}))
    with pytest.raises(AnswerInvalid, match="tool_calls/0/arguments/guest"):
        form.check(calls({"name": "invoice", "arguments": {"guest": "Ada"}}))


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (calls({"name": "cancel", "arguments": {}}), "tool_calls/0"),  # not offered
        (calls(), "tool_calls"),  # no call at all
        ('{"answer": "x", "tool_calls": []}', None),  # both
        ('"just text"', None),
    ],
)
def test_what_the_reply_schema_refuses(reply: str, problem: str | None) -> None:
    with pytest.raises(AnswerInvalid, match=problem):
        ToolUse(TOOLS).reply_format.check(reply)


def test_the_choice_narrows_the_schema() -> None:
    answer = '{"answer": "Booked."}'
    one = calls({"name": "book", "arguments": {"guests": []}})
    two = calls({"name": "book", "arguments": {"guests": []}}, {"name": "invoice", "arguments": {"guest": 1}})
    with pytest.raises(AnswerInvalid):
        ToolUse(TOOLS, required=True).reply_format.check(answer)
    with pytest.raises(AnswerInvalid):
        ToolUse(TOOLS, only="book").reply_format.check(two)
    assert ToolUse(TOOLS, only="book").reply_format.check(one)
    with pytest.raises(AnswerInvalid):
        ToolUse(TOOLS, parallel=False).reply_format.check(two)
    # A structured answer keeps its own schema inside the reply.
    typed = ToolUse(TOOLS, answer=AnswerFormat(json=True, schema='{"type": "object", "required": ["n"]}'))
    with pytest.raises(AnswerInvalid, match="answer"):
        typed.reply_format.check('{"answer": {"m": 1}}')


def test_the_reply_becomes_text_or_calls_with_fresh_ids() -> None:
    use = ToolUse(TOOLS)
    assert use.reply('{"answer":"Booked."}').text == "Booked." and not use.reply('{"answer":"x"}').tool_calls
    first, second = (use.reply(calls({"name": "invoice", "arguments": {"guest": 1}})) for _ in range(2))
    [call] = first.tool_calls
    assert (first.text, call.name, call.arguments) == ("", "invoice", '{"guest":1}')
    assert call.id.startswith("call_") and call.id != second.tool_calls[0].id
    # A JSON answer is passed on as canonical JSON text.
    assert (
        ToolUse(TOOLS, answer=AnswerFormat(json=True)).reply('{"answer":{"b":1,"a":2}}').text
        == '{"a":2,"b":1}'
    )


def test_history_is_written_as_every_backend_takes_it() -> None:
    call = ToolCall("call_1", "invoice", '{"guest": 1}')
    assert conversation_text("assistant", "", (call,), "", {}) == (
        "assistant",
        '{"tool_calls":[{"arguments":{"guest":1},"name":"invoice"}]}',
    )
    role, content = conversation_text("tool", "paid", (), "call_1", {"call_1": "invoice"})
    assert role == "user" and content == "Result of invoice (call call_1):\npaid"


def test_a_recursive_tool_keeps_its_references_to_itself() -> None:
    # "#" is the tool's own schema, not the reply's: it must still mean the tool's tree.
    tree = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "parts": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["name"],
        "additionalProperties": False,
    }
    form = ToolUse((Tool("assemble", "", json.dumps(tree)),)).reply_format
    assert schema_problem(form.schema) is None
    good = {"name": "bike", "parts": [{"name": "wheel", "parts": [{"name": "spoke"}]}]}
    assert form.check(calls({"name": "assemble", "arguments": good}))
    bad = {"name": "bike", "parts": [{"name": "wheel", "parts": [{"size": 3}]}]}
    with pytest.raises(AnswerInvalid, match="tool_calls/0/arguments/parts/0/parts/0"):
        form.check(calls({"name": "assemble", "arguments": bad}))
