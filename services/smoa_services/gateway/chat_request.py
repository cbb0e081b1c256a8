"""An OpenAI chat-completions body as a GenerateRequest. Pure: the gateway's routes only move bytes.

`model` picks the mode (`smoa`, `smoa-fused`, `smoa-separate`, `moa`, `single`, `auto`) and may carry
parameters after a colon, `smoa:n=6,k=2,layers=3`. The same parameters, and the rest of GenerateRequest's
(roles, agents, token_budget, ...), travel in the body's `smoa` object (the openai SDK's `extra_body`),
which wins. What becomes of each field OpenAI defines is listed in openai_fields.py: what an ensemble
cannot honour (logprobs, n > 1, ...) is refused by name, never silently ignored; fields OpenAI does not
define are ignored, as OpenAI-compatible servers do."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.gateway.bad_field import BadField, UnknownModel
from smoa_services.gateway.openai_fields import refusal
from smoa_services.gateway.openai_tools import apply_tools, message_tool_calls
from smoa_services.wire.validation import MAX_METADATA_VALUE_CHARS

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
    "tool": common_pb2.CHAT_ROLE_TOOL,
}
INT32_MAX = 2**31 - 1
DIGITS = re.compile(r"[0-9]{1,10}")


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
                "required": ["role"],
                "properties": {
                    "role": {"type": "string", "enum": list(ROLES)},
                    "content": {"type": ["string", "null"]},
                    "tool_calls": {"type": "array", "description": "an assistant's calls"},
                    "tool_call_id": {"type": "string", "description": "the call a tool message answers"},
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
        "stop": {
            "description": "the answer ends before the first of these (proposers and aggregator)",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4}],
        },
        "user": {"type": "string", "description": "recorded with the request, never taken as identity"},
        "response_format": {
            "type": "object",
            "description": "text, json_object, or json_schema with {name, schema, strict}",
            "properties": {"type": {"type": "string", "enum": ["text", "json_object", "json_schema"]}},
        },
        "tools": {"type": "array", "maxItems": 128, "description": "function tools"},
        "tool_choice": {
            "oneOf": [{"type": "string", "enum": ["auto", "none", "required"]}, {"type": "object"}]
        },
        "parallel_tool_calls": {"type": "boolean"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 16},
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


@dataclass(frozen=True)
class ChatRequest:
    generate: orchestrator_pb2.GenerateRequest
    model: str
    stream: bool
    include_usage: bool
    # GenerateRequest field paths the client set under OpenAI's names, and those names, so that an error
    # names the field as the client did (`temperature`, not `model.temperature`).
    params: Mapping[str, str] = field(default_factory=dict)


def chat_request(body: Any) -> ChatRequest:
    if not isinstance(body, Mapping):
        raise BadField("", "the body must be a JSON object")
    refused = refusal(body)
    if refused is not None:
        raise BadField(*refused)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadField("model", f"model must be one of {', '.join(MODES)}, optionally with parameters")
    request = orchestrator_pb2.GenerateRequest(messages=_messages(body.get("messages")))
    params = _apply_model(model, request)
    params.update(_apply_sampling(body, request.model))
    _apply_stop(body.get("stop"), request)
    _apply_metadata(body, request)
    params.update(_apply_response_format(body.get("response_format"), request.response_format))
    params.update(apply_tools(body, request))
    extension = body.get("smoa")
    if extension is not None:
        if not isinstance(extension, Mapping):
            raise BadField("smoa", "smoa must be an object of GenerateRequest fields")
        try:
            json_format.ParseDict(dict(extension), request, ignore_unknown_fields=False)
        except (json_format.ParseError, RecursionError) as e:
            raise BadField("smoa", f"smoa: {e}"[:300]) from None
    stream = False if body.get("stream") is None else body["stream"]
    options = body.get("stream_options") or {}
    if not isinstance(stream, bool) or not isinstance(options, Mapping):
        raise BadField("stream", "stream must be a boolean and stream_options an object")
    return ChatRequest(request, model, stream, bool(options.get("include_usage", False)), params)


def _messages(raw: Any) -> list[common_pb2.ChatMessage]:
    if not isinstance(raw, list) or not raw:
        raise BadField("messages", "messages must be a non-empty list")
    found = []
    for i, message in enumerate(raw):
        role = message.get("role") if isinstance(message, Mapping) else None
        if not isinstance(role, str) or role not in ROLES:
            raise BadField(f"messages[{i}].role", f"role must be one of {', '.join(ROLES)}")
        calls = message.get("tool_calls")
        content = message.get("content")
        wire = common_pb2.ChatMessage(
            role=ROLES[role], content="" if content is None and calls else _text(content, i)
        )
        if calls is not None:
            wire.tool_calls.extend(message_tool_calls(calls, i))
        tool_call_id = message.get("tool_call_id")
        if tool_call_id is not None:
            if not isinstance(tool_call_id, str):
                raise BadField(f"messages[{i}].tool_call_id", "tool_call_id must be a string")
            wire.tool_call_id = tool_call_id
        found.append(wire)
    return found


def _text(content: Any, i: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, Mapping) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    raise BadField(f"messages[{i}].content", "content must be a string or a list of text parts")


def _apply_model(model: str, request: orchestrator_pb2.GenerateRequest) -> dict[str, str]:
    """Sets the mode and the model string's parameters; the fields it set are the client's `model`."""
    name, _, parameters = model.partition(":")
    if name not in MODES:
        raise UnknownModel(f"the model {name[:40]!r} does not exist: one of {', '.join(MODES)}")
    request.mode, fused = MODES[name]
    if fused is not None:
        request.fused_judge_moderator = fused
    params: dict[str, str] = {}
    for item in filter(None, parameters.split(",")):
        key, _, value = item.partition("=")
        # ASCII digits only: str.isdigit() takes "²", which int() does not.
        if key.strip() not in PARAMETERS or not DIGITS.fullmatch(value.strip()) or int(value) > INT32_MAX:
            known = ", ".join(PARAMETERS)
            raise BadField(
                "model",
                f"model parameters are name=integer (up to 2**31-1) with names {known}, got {item[:40]!r}",
            )
        setattr(request, PARAMETERS[key.strip()], int(value))
        params[PARAMETERS[key.strip()]] = "model"
    return params


def _apply_response_format(raw: Any, wire: common_pb2.ResponseFormat) -> dict[str, str]:
    """OpenAI's `text`, `json_object` or `json_schema` (name, schema, strict); the orchestrator checks the
    schema itself. Its errors name `response_format`, as the client sent it."""
    if raw is None:
        return {}
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    if kind == "text":
        return {}
    if kind == "json_object":
        wire.format = common_pb2.OUTPUT_FORMAT_JSON_OBJECT
        return {}
    spec = raw.get("json_schema") if kind == "json_schema" else None
    if not isinstance(spec, Mapping) or not isinstance(spec.get("schema", {}), Mapping):
        raise BadField(
            "response_format",
            "response_format must be {type: text}, {type: json_object} or "
            "{type: json_schema, json_schema: {name, schema, strict}}",
        )
    name, strict = spec.get("name", "answer"), spec.get("strict") or False
    if not isinstance(name, str) or not isinstance(strict, bool):
        raise BadField("response_format", "response_format.json_schema: name is a string, strict a boolean")
    try:
        schema = json.dumps(spec.get("schema", {}), allow_nan=False)
    except (ValueError, RecursionError):
        raise BadField("response_format", "response_format.json_schema.schema is no JSON Schema") from None
    wire.CopyFrom(
        common_pb2.ResponseFormat(
            format=common_pb2.OUTPUT_FORMAT_JSON_SCHEMA, json_schema=schema, name=name, strict=strict
        )
    )
    return {f"response_format.{f}": "response_format" for f in ("format", "json_schema", "name")}


def _apply_stop(stop: Any, request: orchestrator_pb2.GenerateRequest) -> None:
    """A string or a list of strings; the orchestrator checks how many and how long."""
    sequences = [stop] if isinstance(stop, str) else stop
    if sequences is None:
        return
    if not isinstance(sequences, list) or not all(isinstance(s, str) for s in sequences):
        raise BadField("stop", "stop must be a string or a list of strings")
    request.stop.extend(s for s in sequences if s)  # "" stops nothing: OpenAI takes it as none


def _apply_metadata(body: Mapping[str, Any], request: orchestrator_pb2.GenerateRequest) -> None:
    """OpenAI's `metadata` and the end user's labels (`user`, `safety_identifier`) as the request's
    metadata: recorded, never taken as who is calling (that is the API key's)."""
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise BadField("metadata", "metadata must be an object of strings")
        request.metadata.update(metadata)
    for name in ("user", "safety_identifier"):
        value = body.get(name)
        if value is not None:
            if not isinstance(value, str) or len(value) > MAX_METADATA_VALUE_CHARS:
                raise BadField(
                    name, f"{name} must be a string of up to {MAX_METADATA_VALUE_CHARS} characters"
                )
            request.metadata[name] = value


def _apply_sampling(body: Mapping[str, Any], model: common_pb2.ModelSettings) -> dict[str, str]:
    """Sets the model settings OpenAI's fields ask for; returns their paths and the fields' names."""
    params: dict[str, str] = {}
    temperature = body.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise BadField("temperature", "temperature must be a number")
        if not -1e9 < temperature < 1e9:  # NaN, infinities and ints past a float's range included
            raise BadField("temperature", "temperature must be a number in [0, 2]")
        model.temperature = float(temperature)
        params["model.temperature"] = "temperature"
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31:
                raise BadField(name, f"{name} must be a positive integer")
            model.max_tokens = value
            params["model.max_tokens"] = name
            break
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
            raise BadField("seed", "seed must be an integer")
        model.seed = seed
        params["model.seed"] = "seed"
    return params
