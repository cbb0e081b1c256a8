"""A GenerateRequest from a question (or conversation) and `GenerateOptions`, checked here so a bad
argument fails at once as a ValueError naming it, without a round trip. `generate_request` is the one place
the request is built: the clients, `smoa ask`, `smoa load` and `smoa eval` all come through it.

Only what is wrong whatever the server (n = 0, an empty question, roles and a task description both) is
checked here. Limits the service sets (the largest n, k against the service's default n, known backends)
stay the service's to enforce: it answers INVALID_ARGUMENT with every violation, so the two never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from smoa.ranking import Aggregation, Selection
from smoa.result import Mode
from smoa.tools import ToolCall, tool_call_message, tool_choice_message, tools_message
from smoa.v1 import common_pb2, orchestrator_pb2

if TYPE_CHECKING:
    from smoa.options import GenerateOptions

Role = Literal["system", "user", "assistant", "tool"]

ROLES: dict[str, common_pb2.ChatRole.ValueType] = {
    "system": common_pb2.CHAT_ROLE_SYSTEM,
    "user": common_pb2.CHAT_ROLE_USER,
    "assistant": common_pb2.CHAT_ROLE_ASSISTANT,
    "tool": common_pb2.CHAT_ROLE_TOOL,
}
MODES: dict[Mode, orchestrator_pb2.Mode.ValueType] = {
    Mode.SMOA: orchestrator_pb2.MODE_SMOA,
    Mode.MOA: orchestrator_pb2.MODE_MOA,
    Mode.SINGLE: orchestrator_pb2.MODE_SINGLE,
    Mode.AUTO: orchestrator_pb2.MODE_AUTO,
}
Choice = TypeVar("Choice", bound=Enum)
INT32 = (2**31, "2**31")
INT64 = (2**63, "2**63")
UINT64 = (2**64, "2**64")


@dataclass(frozen=True)
class Message:
    """One turn of a conversation; a request carries the whole history, the user's (or a tool's) turn
    last. An assistant's turn may be the tools it called (`tool_calls`, content then ""), and a tool's turn
    is the result of one of them (`tool_call_id`)."""

    role: Role
    content: str
    tool_calls: Sequence[ToolCall] = ()
    tool_call_id: str = ""


@dataclass(frozen=True)
class ModelSettings:
    """Which model answers and how; None (or "") takes the service's configured default."""

    model: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    # A named backend from the services' SMOA_BACKENDS.
    backend: str = ""


@dataclass(frozen=True)
class Skips:
    """Calls SMoA and AUTO may leave out when they would add nothing; None takes the service's default.
    `judge_on_consensus`: a layer whose answers agree stops with no judge or moderator call.
    `synthesis_on_agreement`: final answers that agree (or one) are the answer, with no aggregator call.
    Skips(False, False) runs every call SMoA would make without them."""

    judge_on_consensus: bool | None = None
    synthesis_on_agreement: bool | None = None


@dataclass(frozen=True)
class JsonAnswer:
    """The answer as JSON: any JSON object (no schema), or JSON valid against `schema`, a JSON Schema. The
    service validates the final answer before it is sent, and repairs it or fails rather than answer
    invalid JSON. `name` and `strict` travel as OpenAI's clients send them; the service does not act on them
    yet (backends are asked with the schema alone, and the validation is the same either way)."""

    schema: Mapping[str, Any] | None = None
    name: str = "answer"
    strict: bool = False


# A mapping is a Message's fields by name (tool_calls: ToolCalls, or mappings of their fields).
Messages = str | Sequence[Message | Mapping[str, Any]]


def _int(name: str, value: object, minimum: int, maximum: tuple[int, str] | None = None) -> int:
    """`maximum`: the smallest value too large, and how to say it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    if maximum is not None and value >= maximum[0]:
        raise ValueError(f"{name}: must be < {maximum[1]}, got {value}")
    return value


def chat_messages(question_or_messages: Messages) -> list[common_pb2.ChatMessage]:
    name = "question_or_messages"
    if isinstance(question_or_messages, str):
        if not question_or_messages.strip():
            raise ValueError(f"{name}: the question must not be empty")
        return [common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content=question_or_messages)]
    found: list[common_pb2.ChatMessage] = []
    for i, m in enumerate(question_or_messages):
        fields = m.__dict__ if isinstance(m, Message) else m
        role, content = fields.get("role"), fields.get("content")
        calls, answers = fields.get("tool_calls") or (), fields.get("tool_call_id") or ""
        if role not in ROLES:
            raise ValueError(f"{name}[{i}].role: must be one of {', '.join(ROLES)}, got {role!r}")
        if content is None and calls:
            content = ""
        if not isinstance(content, str) or not (content.strip() or calls or role == "tool"):
            raise ValueError(f"{name}[{i}].content: must be a non-empty string")
        if (role == "tool") != bool(answers) or not isinstance(answers, str):
            raise ValueError(f"{name}[{i}].tool_call_id: a tool's message, and only one, names its call")
        wire = common_pb2.ChatMessage(role=ROLES[role], content=content, tool_call_id=answers)
        wire.tool_calls.extend(
            tool_call_message(c, f"{name}[{i}].tool_calls[{j}]") for j, c in enumerate(calls)
        )
        found.append(wire)
    if not found:
        raise ValueError(f"{name}: must hold at least one message")
    if found[-1].role not in (common_pb2.CHAT_ROLE_USER, common_pb2.CHAT_ROLE_TOOL):
        raise ValueError(f"{name}[{len(found) - 1}].role: the last message must be the user's or a tool's")
    return found


def model_settings(settings: ModelSettings | str, name: str) -> common_pb2.ModelSettings:
    if isinstance(settings, str):
        return common_pb2.ModelSettings(model=settings)
    wire = common_pb2.ModelSettings(model=settings.model, backend=settings.backend)
    if settings.temperature is not None:
        if not 0.0 <= settings.temperature <= 2.0:
            raise ValueError(f"{name}.temperature: must be in [0, 2], got {settings.temperature}")
        wire.temperature = settings.temperature
    if settings.max_tokens is not None:
        wire.max_tokens = _int(f"{name}.max_tokens", settings.max_tokens, 1, INT32)
    if settings.seed is not None:
        wire.seed = _int(f"{name}.seed", settings.seed, -(2**63), INT64)
    return wire


def response_format(answer: JsonAnswer) -> common_pb2.ResponseFormat:
    if not isinstance(answer, JsonAnswer):
        raise TypeError(f"response_format: must be a JsonAnswer, got {type(answer).__name__}")
    if answer.schema is None:
        return common_pb2.ResponseFormat(format=common_pb2.OUTPUT_FORMAT_JSON_OBJECT)
    if not isinstance(answer.schema, Mapping):
        raise ValueError("response_format.schema: must be a JSON Schema, as a mapping")
    try:
        schema = json.dumps(answer.schema, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"response_format.schema: not JSON ({e})") from None
    return common_pb2.ResponseFormat(
        format=common_pb2.OUTPUT_FORMAT_JSON_SCHEMA,
        json_schema=schema,
        name=answer.name,
        strict=answer.strict,
    )


def choice(name: str, kind: type[Choice], value: object) -> Choice:
    """`value` as a member of `kind`, given as the member or its value ("moa")."""
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(str(m.value) for m in kind)
        raise ValueError(f"{name}: must be one of {known}, got {value!r}") from None


def options_message(options: GenerateOptions) -> orchestrator_pb2.GenerateRequest:
    """Every field of the request but its messages, each checked. 0 (or unset) on the wire means "the
    service's default", which None says in GenerateOptions."""
    o = options
    request = orchestrator_pb2.GenerateRequest(mode=MODES[choice("mode", Mode, o.mode)])
    if o.fused is not None:
        request.fused_judge_moderator = o.fused
    if o.n is not None:
        request.n = _int("n", o.n, 1, INT32)
    # Counts of proposers, at most n where the request says n.
    for name in ("k", "quorum", "first_layer_start"):
        value = getattr(o, name)
        if value is not None:
            setattr(request, name, _int(name, value, 1, INT32))
            if o.n is not None and value > o.n:
                raise ValueError(f"{name}: must be <= n ({o.n}), got {value}")
    for name in ("max_layers", "judge_passes", "first_layer_step"):
        value = getattr(o, name)
        if value is not None:
            setattr(request, name, _int(name, value, 1, INT32))
    if o.skips is not None:
        if o.skips.judge_on_consensus is not None:
            request.skips.judge_on_consensus = o.skips.judge_on_consensus
        if o.skips.synthesis_on_agreement is not None:
            request.skips.synthesis_on_agreement = o.skips.synthesis_on_agreement
    if o.token_budget is not None:
        request.token_budget = _int("token_budget", o.token_budget, 1, INT64)
    if o.seed is not None:
        # 0 is "unset" on the wire (uint64 without presence): a caller asking for seed 0 would silently
        # get unseeded, unrepeatable runs.
        request.seed = _int("seed", o.seed, 1, UINT64)
    if o.roles is not None and o.task_description is not None:
        raise ValueError("roles: give roles or task_description, not both")
    if o.roles is not None:
        roles = o.roles
        if isinstance(roles, str) or not roles or not all(isinstance(r, str) and r.strip() for r in roles):
            raise ValueError("roles: must be a non-empty sequence of non-empty strings")
        request.roles.roles.extend(roles)
    if o.task_description is not None:
        if not o.task_description.strip():
            raise ValueError("task_description: must not be empty")
        request.task_description = o.task_description
    if o.model is not None:
        request.model.CopyFrom(model_settings(o.model, "model"))
    for index, settings in sorted((o.agents or {}).items()):
        _int(f"agents[{index}]: the proposer index", index, 0, INT32)
        request.agents.append(
            orchestrator_pb2.AgentOverride(index=index, model=model_settings(settings, f"agents[{index}]"))
        )
    if o.aggregation is not None:
        aggregation = choice("aggregation", Aggregation, o.aggregation)
        request.aggregation = common_pb2.AggregationMethod.Value(f"AGGREGATION_METHOD_{aggregation.name}")
    if o.selection is not None:
        selection = choice("selection", Selection, o.selection)
        request.selection = common_pb2.SelectionMethod.Value(f"SELECTION_METHOD_{selection.name}")
    if o.stop is not None:
        stop = [o.stop] if isinstance(o.stop, str) else list(o.stop)
        # Their number and length are the service's to check (INVALID_ARGUMENT naming stop).
        if not all(isinstance(s, str) and s for s in stop):
            raise ValueError(f"stop: must be non-empty strings, got {o.stop!r}")
        request.stop.extend(stop)
    if o.response_format is not None:
        request.response_format.CopyFrom(response_format(o.response_format))
    if o.tools is not None:
        request.tools.extend(tools_message(o.tools))
    if o.tool_choice is not None:
        request.tool_choice.CopyFrom(tool_choice_message(o.tool_choice, o.tools or ()))
    if o.parallel_tool_calls is not None:
        request.parallel_tool_calls = o.parallel_tool_calls
    if o.rank_agents is not None:
        request.rank_agents = o.rank_agents
    if o.metadata is not None:
        if not all(isinstance(k, str) and k and isinstance(v, str) for k, v in o.metadata.items()):
            raise ValueError("metadata: must map non-empty strings to strings")
        request.metadata.update(o.metadata)
    return request


def generate_request(
    question_or_messages: Messages, options: GenerateOptions
) -> orchestrator_pb2.GenerateRequest:
    request = options_message(options)
    request.messages.extend(chat_messages(question_or_messages))
    return request
