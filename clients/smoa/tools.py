"""Tools the answer may call instead of answering, and the calls it makes.

    weather = Tool("get_weather", "The weather now in a city.",
                   {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    result = client.generate("Weather in Paris?", tools=[weather])
    for call in result.tool_calls:                     # the caller runs them ...
        answer = run(call.name, call.args)
    history = [Message("user", "Weather in Paris?"), Message("assistant", "", tool_calls=result.tool_calls),
               Message("tool", answer, tool_call_id=result.tool_calls[0].id)]
    client.generate(history, tools=[weather])          # ... and sends the results back

Names and schemas are checked by the service (INVALID_ARGUMENT naming the field); here only the types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smoa.v1 import common_pb2

CHOICES = {
    "auto": common_pb2.ToolChoice.MODE_AUTO,
    "none": common_pb2.ToolChoice.MODE_NONE,
    "required": common_pb2.ToolChoice.MODE_REQUIRED,
}


@dataclass(frozen=True)
class Tool:
    """A function the answer may call; `parameters` is the JSON Schema of its arguments (None: any
    object)."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool; `arguments` is JSON text (in an answer, valid against the tool's parameters)."""

    id: str
    name: str
    arguments: str = "{}"

    @property
    def args(self) -> Any:
        """The arguments, parsed."""
        return json.loads(self.arguments)


def tools_message(tools: Sequence[Tool]) -> list[common_pb2.Tool]:
    if isinstance(tools, str | Tool) or not all(isinstance(t, Tool) for t in tools):
        raise TypeError("tools: must be a sequence of Tool")
    wire = []
    for i, tool in enumerate(tools):
        if tool.parameters is not None and not isinstance(tool.parameters, Mapping):
            raise ValueError(f"tools[{i}].parameters: must be a JSON Schema, as a mapping")
        try:
            parameters = "" if tool.parameters is None else json.dumps(tool.parameters, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError(f"tools[{i}].parameters: not JSON ({e})") from None
        wire.append(common_pb2.Tool(name=tool.name, description=tool.description, parameters=parameters))
    return wire


def tool_choice_message(choice: str, tools: Sequence[Tool]) -> common_pb2.ToolChoice:
    """ "auto", "none", "required", or the name of the one tool to call."""
    if choice in CHOICES:
        return common_pb2.ToolChoice(mode=CHOICES[choice])
    if any(t.name == choice for t in tools):
        return common_pb2.ToolChoice(mode=common_pb2.ToolChoice.MODE_FUNCTION, function=choice)
    raise ValueError(f"tool_choice: must be auto, none, required or the name of a tool, got {choice!r}")


def tool_call_message(call: ToolCall | Mapping[str, str], name: str) -> common_pb2.ToolCall:
    """A ToolCall, or a mapping of its fields (id, name, arguments)."""
    if isinstance(call, ToolCall):
        return common_pb2.ToolCall(id=call.id, name=call.name, arguments=call.arguments)
    if isinstance(call, Mapping) and all(isinstance(call.get(f), str) for f in ("id", "name", "arguments")):
        return common_pb2.ToolCall(id=call["id"], name=call["name"], arguments=call["arguments"])
    raise ValueError(f"{name}: must be a ToolCall or a mapping of id, name and arguments strings")
