"""Tools offered to the ensemble, as one more answer format. Every call that writes an answer is asked for
a reply that is either an answer or tool calls, as JSON valid against a schema built from the tools: so the
proposers see the tools, the judge ranks replies of both kinds like any structured answers, and the final
reply is checked (each call's arguments against its tool's parameters) and repaired like any other. This
works on every backend the same way, the embedded model's grammar-constrained JSON included, where native
tool calling is not there to rely on."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smoa_services.ensemble.answer_format import AnswerFormat, canonical

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TOOLS = 128
# What a model reads of a reply's shape, inside the schema it is shown (so without quotes, which JSON
# would escape).
REPLY_DESCRIPTION = (
    "Reply with an object holding either answer, your answer to the user, or tool_calls, a list of the "
    "tools to call, each with its name and its arguments. A tool's result comes back in a later message."
)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str = ""
    # A JSON Schema for the arguments, as JSON text; "" = any object.
    parameters: str = ""


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    # JSON text.
    arguments: str


@dataclass(frozen=True)
class Reply:
    """The final reply in the caller's terms: an answer, or tool calls (then `text` is "")."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolUse:
    """The tools a request offers. `answer`: the format the request asks of an answer; `required`: a call
    is the only reply allowed; `only`: the one tool it may call (OpenAI's named tool_choice); `parallel`:
    several calls in one reply."""

    tools: tuple[Tool, ...]
    answer: AnswerFormat = field(default_factory=AnswerFormat)
    required: bool = False
    only: str = ""
    parallel: bool = True

    @property
    def reply_format(self) -> AnswerFormat:
        """What every call that writes an answer is asked for: an answer, or tool calls."""
        answer = self.answer
        definitions: dict[str, Any] = {}
        calls = {
            "type": "object",
            "properties": {"tool_calls": self._calls_schema(definitions)},
            "required": ["tool_calls"],
            "additionalProperties": False,
        }
        if self.required or self.only:
            reply: dict[str, Any] = {"description": REPLY_DESCRIPTION, **calls}
        else:
            answer_schema: Any = {"type": "string"}
            if answer.schema:
                answer_schema = _lifted(json.loads(answer.schema), "answer", definitions)
            elif answer.json:
                answer_schema = {"type": "object"}
            only_answer = {
                "type": "object",
                "properties": {"answer": answer_schema},
                "required": ["answer"],
                "additionalProperties": False,
            }
            reply = {"description": REPLY_DESCRIPTION, "anyOf": [only_answer, calls]}
        if definitions:
            reply["$defs"] = definitions
        return AnswerFormat(json=True, schema=canonical(reply))

    @property
    def offered(self) -> tuple[Tool, ...]:
        return tuple(t for t in self.tools if not self.only or t.name == self.only)

    def _calls_schema(self, definitions: dict[str, Any]) -> dict[str, Any]:
        items = []
        for tool in self.offered:
            arguments = (
                _lifted(json.loads(tool.parameters), f"tool.{tool.name}", definitions)
                if tool.parameters
                else {"type": "object"}
            )
            call: dict[str, Any] = {
                "type": "object",
                "properties": {"name": {"const": tool.name}, "arguments": arguments},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
            if tool.description:
                call["description"] = tool.description
            items.append(call)
        schema: dict[str, Any] = {"type": "array", "minItems": 1, "items": {"anyOf": items}}
        if not self.parallel:
            schema["maxItems"] = 1
        return schema

    def reply(self, checked: str) -> Reply:
        """The caller's reply from one that passed reply_format's check (canonical JSON)."""
        value = json.loads(checked)
        if "tool_calls" in value:
            return Reply(
                "",
                tuple(
                    ToolCall(f"call_{secrets.token_hex(12)}", c["name"], canonical(c["arguments"]))
                    for c in value["tool_calls"]
                ),
            )
        text = value["answer"]
        return Reply(text if isinstance(text, str) and not self.answer.json else canonical(text))


def conversation_text(
    role: str, content: str, tool_calls: Sequence[ToolCall], tool_call_id: str, names: Mapping[str, str]
) -> tuple[str, str]:
    """(role, content) of a message as every backend can take it: an assistant's tool calls as the reply
    JSON it would write now, a tool's result as a user message naming the call. `names`: tool call id ->
    tool name, from the conversation's earlier calls."""
    if tool_calls:
        calls = [{"name": c.name, "arguments": _parsed_or_text(c.arguments)} for c in tool_calls]
        reply = canonical({"tool_calls": calls})
        return role, f"{content}\n{reply}" if content else reply
    if tool_call_id:
        name = names.get(tool_call_id, "a tool")
        return "user", f"Result of {name} (call {tool_call_id}):\n{content}"
    return role, content


def _parsed_or_text(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except (ValueError, RecursionError):
        return arguments


def _lifted(schema: Any, prefix: str, definitions: dict[str, Any]) -> Any:
    """`schema` placed inside the reply schema, its local references kept true (a `$ref` is resolved from
    the document's root): its own definitions move to the reply's `$defs` under `prefix`, flat, as every
    backend's schema support takes them; a reference to anything else in it ("#" for a recursive
    schema, "#/properties/...") points into a copy of it kept under `prefix` itself."""
    if not isinstance(schema, dict):
        return schema
    own = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    body = {k: v for k, v in schema.items() if k not in ("$defs", "definitions", "$schema", "$id")}
    to_root: list[bool] = []
    for name, definition in own.items():
        definitions[f"{prefix}.{name}"] = _relinked(definition, prefix, to_root)
    lifted = _relinked(body, prefix, to_root)
    if to_root:
        definitions[prefix] = lifted
    return lifted


def _relinked(value: Any, prefix: str, to_root: list[bool]) -> Any:
    if isinstance(value, dict):
        out = {k: _relinked(v, prefix, to_root) for k, v in value.items()}
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            for root in ("#/$defs/", "#/definitions/"):
                if ref.startswith(root):
                    out["$ref"] = f"#/$defs/{prefix}.{ref[len(root) :]}"
                    break
            else:
                out["$ref"] = f"#/$defs/{prefix}{ref[1:]}"
                to_root.append(True)
        return out
    if isinstance(value, list):
        return [_relinked(v, prefix, to_root) for v in value]
    return value
