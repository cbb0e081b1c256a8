"""An OpenAI chat-completions body as a GenerateRequest. Pure: the gateway's routes only move bytes.

`model` picks the mode (`smoa`, `smoa-fused`, `smoa-separate`, `moa`, `single`, `auto`) and may carry
parameters after a colon, `smoa:n=6,k=2,layers=3`. The same parameters, and the rest of GenerateRequest's
(roles, agents, token_budget, ...), travel in the body's `smoa` object (the openai SDK's `extra_body`),
which wins. Fields OpenAI defines that an ensemble cannot honour (tools, logprobs, n > 1, ...) are refused
by name rather than silently ignored; fields it does not know are ignored, as OpenAI-compatible servers
do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

from smoa.v1 import common_pb2, orchestrator_pb2

# Mode, and judge and moderator fused (True), separate (False) or as the service says (None).
MODES: dict[str, tuple[orchestrator_pb2.Mode.ValueType, bool | None]] = {
    "smoa": (orchestrator_pb2.MODE_SMOA, None),
    "smoa-fused": (orchestrator_pb2.MODE_SMOA, True),
    "smoa-separate": (orchestrator_pb2.MODE_SMOA, False),
    "moa": (orchestrator_pb2.MODE_MOA, None),
    "single": (orchestrator_pb2.MODE_SINGLE, None),
    "auto": (orchestrator_pb2.MODE_AUTO, None),
}
# The model-string shorthands, as GenerateRequest fields.
PARAMETERS = {"n": "n", "k": "k", "layers": "max_layers", "max_layers": "max_layers", "quorum": "quorum"}
ROLES = {
    "system": common_pb2.CHAT_ROLE_SYSTEM,
    "developer": common_pb2.CHAT_ROLE_SYSTEM,
    "user": common_pb2.CHAT_ROLE_USER,
    "assistant": common_pb2.CHAT_ROLE_ASSISTANT,
}
UNSUPPORTED = ("tools", "tool_choice", "functions", "function_call", "logprobs", "top_logprobs", "audio")


# What chat_request reads, as the OpenAPI description of the body (the route reads the JSON itself, so a
# bad body gets OpenAI's error shape rather than the framework's).
BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {
            "type": "string",
            "enum": list(MODES),
            "description": "the mode, optionally with parameters: smoa:n=6,k=2,layers=3",
        },
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"type": "string", "enum": list(ROLES)},
                    "content": {"type": "string", "minLength": 1},
                },
            },
        },
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer"},
        "n": {"type": "integer", "enum": [1]},
        "smoa": {
            "type": "object",
            "description": "any GenerateRequest field, in protobuf's JSON mapping",
            "properties": {
                "n": {"type": "integer", "minimum": 0},
                "k": {"type": "integer", "minimum": 0},
                "max_layers": {"type": "integer", "minimum": 0},
                "quorum": {"type": "integer", "minimum": 0},
                "token_budget": {"type": "integer", "minimum": 0},
            },
        },
    },
}


class BadField(ValueError):
    """A body the gateway refuses: OpenAI's error shape names the field in `param`."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ChatRequest:
    generate: orchestrator_pb2.GenerateRequest
    model: str
    stream: bool
    include_usage: bool


def chat_request(body: Any) -> ChatRequest:
    if not isinstance(body, Mapping):
        raise BadField("", "the body must be a JSON object")
    for name in UNSUPPORTED:
        if body.get(name) not in (None, False, [], {}):
            raise BadField(name, f"{name} is not supported by an ensemble of models")
    if body.get("n", 1) != 1:
        raise BadField("n", "only n = 1 is supported: an ensemble answers once")
    if body.get("stop") not in (None, [], ""):
        raise BadField("stop", "stop sequences are not supported")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadField("model", f"model must be one of {', '.join(MODES)}, optionally with parameters")
    request = orchestrator_pb2.GenerateRequest(messages=_messages(body.get("messages")))
    _apply_model(model, request)
    _apply_sampling(body, request.model)
    extension = body.get("smoa")
    if extension is not None:
        if not isinstance(extension, Mapping):
            raise BadField("smoa", "smoa must be an object of GenerateRequest fields")
        try:
            json_format.ParseDict(dict(extension), request, ignore_unknown_fields=False)
        except json_format.ParseError as e:
            raise BadField("smoa", f"smoa: {e}") from None
    stream = body.get("stream", False)
    options = body.get("stream_options") or {}
    if not isinstance(stream, bool) or not isinstance(options, Mapping):
        raise BadField("stream", "stream must be a boolean and stream_options an object")
    return ChatRequest(request, model, stream, bool(options.get("include_usage", False)))


def _messages(raw: Any) -> list[common_pb2.ChatMessage]:
    if not isinstance(raw, list) or not raw:
        raise BadField("messages", "messages must be a non-empty list")
    found = []
    for i, message in enumerate(raw):
        role = message.get("role") if isinstance(message, Mapping) else None
        if role not in ROLES:
            raise BadField(f"messages[{i}].role", f"role must be one of {', '.join(ROLES)}")
        found.append(common_pb2.ChatMessage(role=ROLES[role], content=_text(message.get("content"), i)))
    return found


def _text(content: Any, i: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, Mapping) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    raise BadField(f"messages[{i}].content", "content must be a string or a list of text parts")


def _apply_model(model: str, request: orchestrator_pb2.GenerateRequest) -> None:
    name, _, parameters = model.partition(":")
    if name not in MODES:
        raise BadField("model", f"unknown model {name[:40]!r}: one of {', '.join(MODES)}")
    request.mode, fused = MODES[name]
    if fused is not None:
        request.fused_judge_moderator = fused
    for item in filter(None, parameters.split(",")):
        key, _, value = item.partition("=")
        if key.strip() not in PARAMETERS or not value.strip().isdigit():
            known = ", ".join(PARAMETERS)
            raise BadField(
                "model", f"model parameters are name=integer with names {known}, got {item[:40]!r}"
            )
        setattr(request, PARAMETERS[key.strip()], int(value))


def _apply_sampling(body: Mapping[str, Any], model: common_pb2.ModelSettings) -> None:
    temperature = body.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise BadField("temperature", "temperature must be a number")
        model.temperature = float(temperature)
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31:
                raise BadField(name, f"{name} must be a positive integer")
            model.max_tokens = value
            break
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
            raise BadField("seed", "seed must be an integer")
        model.seed = seed
