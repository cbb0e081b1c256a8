"""Between the wire (smoa.v1 messages) and the plain Python the policies work on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from google.protobuf import duration_pb2

from smoa.v1 import common_pb2
from smoa_services.ensemble.answer_format import AnswerFormat
from smoa_services.ensemble.tool_use import Tool, ToolCall, ToolUse, conversation_text
from smoa_services.llm import ModelChoice
from smoa_services.llm.usage import Usage

ROLE_NAMES = {
    common_pb2.CHAT_ROLE_SYSTEM: "system",
    common_pb2.CHAT_ROLE_USER: "user",
    common_pb2.CHAT_ROLE_ASSISTANT: "assistant",
    common_pb2.CHAT_ROLE_TOOL: "tool",
}


def chat_messages(messages: Iterable[common_pb2.ChatMessage]) -> list[dict[str, str]]:
    """OpenAI-style messages, tool calls and results as text every backend takes (tool_use.py). Roles are
    validated before this (CHAT_ROLE_UNSPECIFIED is refused)."""
    names: dict[str, str] = {}
    out = []
    for m in messages:
        calls = [tool_call(c) for c in m.tool_calls]
        names.update((c.id, c.name) for c in calls)
        role, content = conversation_text(ROLE_NAMES[m.role], m.content, calls, m.tool_call_id, names)
        out.append({"role": role, "content": content})
    return out


def tool_call(wire: common_pb2.ToolCall) -> ToolCall:
    return ToolCall(wire.id, wire.name, wire.arguments)


def tool_use(
    tools: Sequence[common_pb2.Tool], choice: common_pb2.ToolChoice, parallel: bool, answer: AnswerFormat
) -> ToolUse | None:
    """The tools a request offers (checked by check_tools), or None when it offers none."""
    if not tools or choice.mode == common_pb2.ToolChoice.MODE_NONE:
        return None
    return ToolUse(
        tuple(Tool(t.name, t.description, t.parameters) for t in tools),
        answer,
        required=choice.mode == common_pb2.ToolChoice.MODE_REQUIRED,
        only=choice.function if choice.mode == common_pb2.ToolChoice.MODE_FUNCTION else "",
        parallel=parallel,
    )


def model_choice(
    settings: common_pb2.ModelSettings, fallback: common_pb2.ModelSettings | None = None
) -> ModelChoice:
    """Fields set on `settings` win; unset ones come from `fallback`, then the service defaults."""
    merged = common_pb2.ModelSettings()
    if fallback is not None:
        merged.CopyFrom(fallback)
    merged.MergeFrom(settings)  # scalars set on `settings` (non-empty / present) override
    return ModelChoice(
        backend=merged.backend,
        model=merged.model,
        temperature=merged.temperature if merged.HasField("temperature") else None,
        max_tokens=merged.max_tokens if merged.HasField("max_tokens") else None,
        seed=merged.seed if merged.HasField("seed") else None,
    )


def answer_format(wire: common_pb2.ResponseFormat) -> AnswerFormat:
    """A ResponseFormat that passed check_response_format."""
    if wire.format == common_pb2.OUTPUT_FORMAT_JSON_SCHEMA:
        return AnswerFormat(json=True, schema=wire.json_schema)
    return AnswerFormat(json=wire.format == common_pb2.OUTPUT_FORMAT_JSON_OBJECT)


def response_format(form: AnswerFormat) -> common_pb2.ResponseFormat:
    """The reverse of answer_format: what a peer is told to write."""
    if form.schema:
        return common_pb2.ResponseFormat(format=common_pb2.OUTPUT_FORMAT_JSON_SCHEMA, json_schema=form.schema)
    if form.json:
        return common_pb2.ResponseFormat(format=common_pb2.OUTPUT_FORMAT_JSON_OBJECT)
    return common_pb2.ResponseFormat()


def usage(u: Usage) -> common_pb2.Usage:
    return common_pb2.Usage(
        input_tokens=u.input_tokens, output_tokens=u.output_tokens, calls=u.calls, estimated=u.estimated
    )


def usage_record(u: common_pb2.Usage) -> Usage:
    return Usage(u.input_tokens, u.output_tokens, u.calls, u.estimated)


def duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def model_settings(choice: ModelChoice) -> common_pb2.ModelSettings:
    """The reverse of model_choice: what a peer is told to use."""
    settings = common_pb2.ModelSettings(model=choice.model, backend=choice.backend)
    if choice.temperature is not None:
        settings.temperature = choice.temperature
    if choice.max_tokens is not None:
        settings.max_tokens = choice.max_tokens
    if choice.seed is not None:
        settings.seed = choice.seed
    return settings
