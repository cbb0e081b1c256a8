"""OpenAI's function tools as smoa.v1's, and the answer's tool calls back in OpenAI's shape. Names,
schemas and the tool choice are checked by the orchestrator (validation.check_tools): here only the shape,
so that an error names the field as the client sent it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.gateway.bad_field import BadField

CHOICES = {
    "auto": common_pb2.ToolChoice.MODE_AUTO,
    "none": common_pb2.ToolChoice.MODE_NONE,
    "required": common_pb2.ToolChoice.MODE_REQUIRED,
}
TOOL_SHAPE = "tools must be a list of {type: function, function: {name, description, parameters, strict}}"
CHOICE_SHAPE = 'tool_choice must be "auto", "none", "required" or {type: function, function: {name}}'


def apply_tools(body: Mapping[str, Any], request: orchestrator_pb2.GenerateRequest) -> dict[str, str]:
    """Sets `tools`, `tool_choice` and `parallel_tool_calls`; returns the paths set and the fields' names."""
    params: dict[str, str] = {}
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise BadField("tools", TOOL_SHAPE)
        request.tools.extend(_tool(tool, i) for i, tool in enumerate(tools))
        params.update({f"tools[{i}].{f}": "tools" for i in range(len(tools)) for f in ("name", "parameters")})
        params["tools"] = "tools"
    choice = body.get("tool_choice")
    if choice is not None:
        request.tool_choice.CopyFrom(_choice(choice))
        params.update({"tool_choice": "tool_choice", "tool_choice.function": "tool_choice"})
    parallel = body.get("parallel_tool_calls")
    if parallel is not None:
        if not isinstance(parallel, bool):
            raise BadField("parallel_tool_calls", "parallel_tool_calls must be a boolean")
        request.parallel_tool_calls = parallel
    return params


def _tool(raw: Any, i: int) -> common_pb2.Tool:
    function = raw.get("function") if isinstance(raw, Mapping) and raw.get("type") == "function" else None
    if not isinstance(function, Mapping):
        raise BadField(f"tools[{i}]", TOOL_SHAPE)
    name, description = function.get("name"), function.get("description") or ""
    parameters = function.get("parameters")
    if not isinstance(name, str) or not isinstance(description, str):
        raise BadField(f"tools[{i}]", "a tool's name and description are strings")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise BadField(f"tools[{i}]", "a tool's parameters are a JSON Schema object")
    return common_pb2.Tool(name=name, description=description, parameters=_json(parameters, f"tools[{i}]"))


def _choice(raw: Any) -> common_pb2.ToolChoice:
    if isinstance(raw, str) and raw in CHOICES:
        return common_pb2.ToolChoice(mode=CHOICES[raw])
    function = raw.get("function") if isinstance(raw, Mapping) and raw.get("type") == "function" else None
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise BadField("tool_choice", CHOICE_SHAPE)
    return common_pb2.ToolChoice(mode=common_pb2.ToolChoice.MODE_FUNCTION, function=function["name"])


def message_tool_calls(raw: Any, i: int) -> list[common_pb2.ToolCall]:
    """An assistant message's `tool_calls`."""
    field = f"messages[{i}].tool_calls"
    if not isinstance(raw, list):
        raise BadField(
            field, "tool_calls must be a list of {id, type: function, function: {name, arguments}}"
        )
    calls = []
    for j, call in enumerate(raw):
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not all(
            isinstance(v, str) for v in (call.get("id"), function.get("name"), function.get("arguments"))
        ):
            raise BadField(
                f"{field}[{j}]", "a tool call is {id, type: function, function: {name, arguments}}"
            )
        calls.append(
            common_pb2.ToolCall(id=call["id"], name=function["name"], arguments=function["arguments"])
        )
    return calls


def openai_tool_calls(calls: Any) -> list[dict[str, Any]]:
    """GenerateResponse.tool_calls as a message's (or, with `index`, a stream delta's) `tool_calls`."""
    return [
        {"index": j, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for j, c in enumerate(calls)
    ]


def _json(value: Any, param: str) -> str:
    if value is None:
        return ""
    try:
        return json.dumps(value, allow_nan=False)
    except (ValueError, RecursionError):
        raise BadField(param, f"{param}: parameters is no JSON Schema") from None
